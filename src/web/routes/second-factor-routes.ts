/**
 * The account's second factor and the step-up page, added to the account routes (same signed-in
 * check). Sensitive changes (setting up, new recovery codes, turning off; passkeys too) are
 * refused by their operations with `reauthentication_required` when the session's
 * authentication is older than TESSERA_REAUTHENTICATION_MAX_AGE: the page then sends the browser
 * to `/account/reauthenticate`, which renews it (password, and a code when the account has one)
 * and comes back to the page the change was made from.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { renderQrCodeDataUrl } from '../../http/qr-code.ts'
import type { SecondFactorSignInOperations } from '../../core/application/second-factor-sign-in.ts'
import type { SecondFactorOperations } from '../../core/application/second-factor.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import { describeRefusal, statusOfRefusal } from '../error-messages.ts'
import type { FieldErrors } from '../forms.ts'
import { allowDataImages } from '../page-headers.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, type PageKit } from '../page-kit.ts'
import { redirectTo, sendPage } from '../page-reply.ts'
import {
  renderReauthenticationPage,
  renderRecoveryCodesPage,
  renderSecondFactorPage,
  renderTotpSetupPage,
} from '../pages/second-factor-pages.ts'
import { viewerOf } from './account-routes.ts'

type FormBody = Record<string, string | undefined>

/** Where the step-up page may send the browser back to: an account page, nothing else. */
const accountPathPattern = /^\/account(?:\/[a-z-]+){0,2}$/

export function isAccountPath(value: string | undefined): value is string {
  return value !== undefined && accountPathPattern.test(value)
}

/** The step-up page, to come back to `from` afterwards. */
export function redirectToReauthentication(reply: FastifyReply, from: string): FastifyReply {
  return redirectTo(reply, `/account/reauthenticate?return_to=${encodeURIComponent(from)}`)
}

export function isReauthenticationRequired(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'reauthentication_required'
}

const secondFactorNotices = ['disabled', 'setup_expired', 'reauthenticated'] as const
type SecondFactorNotice = (typeof secondFactorNotices)[number]

export async function secondFactorRoutes(
  app: FastifyInstance,
  deps: { kit: PageKit; secondFactor: SecondFactorOperations; mfaSignIn: SecondFactorSignInOperations },
): Promise<void> {
  const { kit, secondFactor, mfaSignIn } = deps
  const { formGuard, contexts } = kit
  const here = '/account/second-factor'

  app.get<{ Querystring: { notice?: SecondFactorNotice } }>(
    here,
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: {
            notice: { type: 'string', enum: [...secondFactorNotices] },
            lang: { type: 'string', maxLength: 8 },
          },
        },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const notices = {
        disabled: t('mfa.disabled'),
        setup_expired: t('mfa.setupExpired'),
        reauthenticated: t('reauth.done'),
      }
      const status = await secondFactor.getStatus(viewer)
      return sendPage(
        reply,
        200,
        renderSecondFactorPage(context, {
          status,
          notice: request.query.notice ? notices[request.query.notice] : null,
          errors: [],
        }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    `${here}/totp`,
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token']) } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      let enrolment
      try {
        enrolment = await secondFactor.startTotpEnrolment(viewer, readClientContext(request))
      } catch (error) {
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, here)
        if (error instanceof TesseraError && error.code === 'mfa_already_enrolled') return redirectTo(reply, here)
        throw error
      }
      const qrCode = await renderQrCodeDataUrl(enrolment.otpauthUri)
      allowDataImages(reply)
      const context = contexts.create(request, reply, viewer)
      return sendPage(
        reply,
        200,
        renderTotpSetupPage(context, {
          enrolment: { secret: enrolment.secret, qrCode, expiresInSeconds: enrolment.expiresInSeconds },
          errors: [],
        }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    `${here}/totp/confirm`,
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'code']) } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const render = (status: number, errors: FieldErrors) =>
        sendPage(reply, status, renderTotpSetupPage(context, { enrolment: null, errors }))
      const code = (request.body.code ?? '').replace(/\s/g, '')
      if (code === '') return render(400, [{ field: 'code', message: t('secondStep.codeMissing') }])
      try {
        const { recoveryCodes } = await secondFactor.confirmTotpEnrolment(viewer, code, readClientContext(request))
        return sendPage(reply, 200, renderRecoveryCodesPage(context, { codes: recoveryCodes, isNewEnrolment: true }))
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_mfa_code')
          return render(401, [{ field: 'code', message: t('mfa.confirmWrong') }])
        if (error instanceof TesseraError && error.code === 'not_found')
          return redirectTo(reply, `${here}?notice=setup_expired`)
        const refusal = describeRefusal(t, error, {})
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
    },
  )

  app.post<{ Body: FormBody }>(
    `${here}/recovery-codes`,
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token']) } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      try {
        const codes = await secondFactor.regenerateRecoveryCodes(viewer, readClientContext(request))
        return sendPage(
          reply,
          200,
          renderRecoveryCodesPage(contexts.create(request, reply, viewer), { codes, isNewEnrolment: false }),
        )
      } catch (error) {
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, here)
        if (error instanceof TesseraError && error.code === 'not_found') return redirectTo(reply, here)
        throw error
      }
    },
  )

  app.post<{ Body: FormBody }>(
    `${here}/disable`,
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token']) } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      try {
        await secondFactor.disable(viewer, readClientContext(request))
      } catch (error) {
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, here)
        if (!(error instanceof TesseraError && error.code === 'not_found')) throw error
      }
      return redirectTo(reply, `${here}?notice=disabled`)
    },
  )

  app.get<{ Querystring: { return_to?: string } }>(
    '/account/reauthenticate',
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: { return_to: { type: 'string', maxLength: 256 }, lang: { type: 'string', maxLength: 8 } },
        },
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      const returnTo = isAccountPath(request.query.return_to) ? request.query.return_to : '/account'
      const status = await secondFactor.getStatus(viewer)
      const context = contexts.create(request, reply, viewer)
      return sendPage(
        reply,
        200,
        renderReauthenticationPage(context, { asksForCode: status.isEnabled, returnTo, errors: [] }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    '/account/reauthenticate',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'password', 'code', 'return_to']) },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const returnTo = isAccountPath(request.body.return_to) ? request.body.return_to : '/account'
      const status = await secondFactor.getStatus(viewer)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const render = (code: number, errors: FieldErrors) =>
        sendPage(reply, code, renderReauthenticationPage(context, { asksForCode: status.isEnabled, returnTo, errors }))
      const password = request.body.password ?? ''
      const code = (request.body.code ?? '').replace(/\s/g, '')
      const errors: Array<{ field: string; message: string }> = []
      if (password === '') errors.push({ field: 'password', message: t('signIn.passwordMissing') })
      if (status.isEnabled && code === '') errors.push({ field: 'code', message: t('secondStep.codeMissing') })
      if (errors.length > 0) return render(400, errors)
      try {
        await mfaSignIn.reauthenticate(viewer, {
          password,
          ...(status.isEnabled ? { proof: { kind: 'totp', code } } : {}),
          ...readClientContext(request),
        })
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_credentials')
          return render(401, [{ field: 'password', message: t('password.currentWrong') }])
        if (error instanceof TesseraError && error.code === 'invalid_mfa_code')
          return render(401, [{ field: 'code', message: t('secondStep.codeWrong') }])
        const refusal = describeRefusal(t, error, {})
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
      return redirectTo(reply, `${returnTo}?notice=reauthenticated`)
    },
  )
}
