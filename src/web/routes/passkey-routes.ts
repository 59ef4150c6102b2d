/**
 * The account's passkeys, added to the account routes (same signed-in check): the list, adding
 * one (the page's script ran the ceremony against `POST /v1/me/passkeys/options` and sends the
 * credential here with the form), and removing one. Adding and removing are sensitive: an old
 * sign-in goes to the page that confirms it is you first.
 */
import type { FastifyInstance } from 'fastify'
import type { PasskeyOperations } from '../../core/application/passkeys.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import type { FieldErrors } from '../forms.ts'
import { passkeyFieldMaxLength, readPasskeyField } from '../passkey-field.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, type PageKit } from '../page-kit.ts'
import { redirectTo, sendPage } from '../page-reply.ts'
import { renderPasskeysPage } from '../pages/passkey-pages.ts'
import { viewerOf } from './account-routes.ts'
import { isReauthenticationRequired, redirectToReauthentication } from './second-factor-routes.ts'

type FormBody = Record<string, string | undefined>

const passkeyNotices = ['added', 'removed', 'gone', 'reauthenticated'] as const
type PasskeyNotice = (typeof passkeyNotices)[number]

/** As the API's rename and registration: 1 to 64 characters, no control characters. */
const namePattern = /^[^\u0000-\u001f\u007f]{1,64}$/u

export async function passkeyRoutes(
  app: FastifyInstance,
  deps: { kit: PageKit; passkeys: PasskeyOperations },
): Promise<void> {
  const { kit, passkeys } = deps
  const { formGuard, contexts } = kit
  const here = '/account/passkeys'

  app.get<{ Querystring: { notice?: PasskeyNotice } }>(
    here,
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: { notice: { type: 'string', enum: [...passkeyNotices] }, lang: { type: 'string', maxLength: 8 } },
        },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const notices = {
        added: t('passkeys.added'),
        removed: t('passkeys.removed'),
        gone: t('passkeys.gone'),
        reauthenticated: t('reauth.done'),
      }
      const list = await passkeys.listMyPasskeys(viewer)
      const notice = request.query.notice ? notices[request.query.notice] : null
      return sendPage(reply, 200, renderPasskeysPage(context, { passkeys: list, notice, errors: [], name: '' }))
    },
  )

  app.post<{ Body: FormBody }>(
    here,
    {
      bodyLimit: pageBodyLimitBytes,
      schema: {
        ...hiddenRoute,
        body: formBodySchema(['csrf_token', 'name', 'credential'], [], { credential: passkeyFieldMaxLength }),
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const name = (request.body.name ?? '').trim()
      const render = async (status: number, errors: FieldErrors) =>
        sendPage(
          reply,
          status,
          renderPasskeysPage(context, { passkeys: await passkeys.listMyPasskeys(viewer), notice: null, errors, name }),
        )
      if (name === '') return render(400, [{ field: 'name', message: t('passkeys.nameMissing') }])
      if (!namePattern.test(name)) return render(400, [{ field: 'name', message: t('passkeys.nameInvalid') }])
      const credential = readPasskeyField(request.body.credential)
      if (credential === null) return render(400, [{ field: 'form', message: t('passkeys.failed') }])
      try {
        await passkeys.registerPasskey(viewer, { response: credential, name }, readClientContext(request))
      } catch (error) {
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, here)
        if (error instanceof TesseraError && error.code === 'passkey_rejected')
          return render(400, [{ field: 'form', message: t('passkeys.notAccepted') }])
        throw error
      }
      return redirectTo(reply, `${here}?notice=added`)
    },
  )

  app.post<{ Body: FormBody }>(
    `${here}/remove`,
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'passkey_id'], ['passkey_id']) },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      try {
        await passkeys.removePasskey(viewer, request.body.passkey_id ?? '', readClientContext(request))
      } catch (error) {
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, here)
        if (error instanceof TesseraError && error.code === 'not_found') return redirectTo(reply, `${here}?notice=gone`)
        throw error
      }
      return redirectTo(reply, `${here}?notice=removed`)
    },
  )
}
