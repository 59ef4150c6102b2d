/**
 * Forgot password, set a new password, confirm an email address: the pages mailed links lead
 * to. They call the same operations as `/v1/auth/password-reset*` and `/v1/me/email/verify`, so
 * the same rules hold: one answer to every reset request (the work and its throttle happen in
 * the mail outbox), a token that works once, every session ended by a new password.
 *
 * A mailed link carries its token in the fragment (`#token=…`), which no server sees; a script
 * moves it into the form. `?token=` works too, for a browser without scripts, but leaves the
 * token in the address (the request log keeps the path only). These pages are sent with
 * `Referrer-Policy: no-referrer`, so no address of theirs reaches another request.
 *
 * Per address they count in the buckets of the API's routes (http/plugins/request-limits.ts):
 * every reset request in `password_reset`, every failed token in `email_token`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Application } from '../../core/application/application.ts'
import type { EmailOperations } from '../../core/application/email.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import { describeRefusal, statusOfRefusal } from '../error-messages.ts'
import type { FieldErrors } from '../forms.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, requestPath, type PageKit } from '../page-kit.ts'
import { sendPage } from '../page-reply.ts'
import {
  renderEmailVerifiedPage,
  renderForgotPasswordPage,
  renderForgotPasswordSentPage,
  renderPasswordResetDonePage,
  renderPasswordResetPage,
  renderResetLinkRefusedPage,
  renderResetUnavailablePage,
  renderVerifyEmailPage,
  renderVerifyLinkRefusedPage,
} from '../pages/email-pages.ts'

type FormBody = Record<string, string | undefined>

/** As the API's token field: a longer one is no token of ours. */
const maxTokenLength = 256
const tokenPagePaths = new Set(['/password-reset', '/verify-email'])

const tokenQuerySchema = {
  type: 'object',
  properties: { token: { type: 'string', maxLength: maxTokenLength }, lang: { type: 'string', maxLength: 8 } },
} as const

const languageQuerySchema = { type: 'object', properties: { lang: { type: 'string', maxLength: 8 } } } as const

function isInvalidToken(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'invalid_email_token'
}

function isMailDisabled(error: unknown): boolean {
  return error instanceof TesseraError && error.code === 'mail_disabled'
}

export async function emailPageRoutes(
  app: FastifyInstance,
  deps: { kit: PageKit; email: EmailOperations; requestLimits: Application['requestLimits'] },
): Promise<void> {
  const { kit, email, requestLimits } = deps
  const { formGuard, contexts } = kit

  /** Runs a token operation counted as the API counts it: a failure stays counted, a success is given back. */
  async function spendToken<T>(request: FastifyRequest, operation: () => Promise<T>): Promise<T> {
    const attempt = await requestLimits.admitRequest('email_token', request.ip)
    let result: T
    try {
      result = await operation()
    } catch (error) {
      await attempt.recordFailure()
      throw error
    }
    await attempt
      .recordSuccess()
      .catch((error: unknown) => request.log.warn({ err: error }, 'request limit refund failed'))
    return result
  }

  // The token pages' addresses may hold a token (`?token=`): no Referer carries them anywhere.
  // Set after the pages' own headers (a hook of this plugin runs after those of its parent).
  app.addHook('onSend', async (request, reply, payload) => {
    if (tokenPagePaths.has(requestPath(request))) reply.header('referrer-policy', 'no-referrer')
    return payload
  })

  const unavailable = (request: FastifyRequest, reply: FastifyReply) =>
    sendPage(reply, 404, renderResetUnavailablePage(contexts.create(request, reply, null)))

  app.get(
    '/forgot-password',
    { schema: { ...hiddenRoute, querystring: languageQuerySchema } },
    async (request, reply) => {
      const context = contexts.create(request, reply, null)
      if (!email.isMailEnabled) return sendPage(reply, 200, renderResetUnavailablePage(context))
      return sendPage(reply, 200, renderForgotPasswordPage(context, { account: '', errors: [] }))
    },
  )

  app.post<{ Body: FormBody }>(
    '/forgot-password',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'account']) } },
    async (request, reply) => {
      formGuard.checkForm(request, request.body.csrf_token, null)
      if (!email.isMailEnabled) return unavailable(request, reply)
      const context = contexts.create(request, reply, null)
      const account = (request.body.account ?? '').trim()
      if (account === '') {
        return sendPage(
          reply,
          400,
          renderForgotPasswordPage(context, {
            account,
            errors: [{ field: 'account', message: context.t('forgot.accountMissing') }],
          }),
        )
      }
      // Counted like POST /v1/auth/password-reset: every request from the address.
      await requestLimits.admitRequest('password_reset', request.ip)
      // A username has no "@": the field names an account either way, as the API's two fields do.
      const named = account.includes('@') ? { email: account } : { username: account }
      email.requestPasswordReset({ ...named, language: context.language }, readClientContext(request))
      return sendPage(reply, 200, renderForgotPasswordSentPage(context))
    },
  )

  app.get<{ Querystring: { token?: string } }>(
    '/password-reset',
    { schema: { ...hiddenRoute, querystring: tokenQuerySchema } },
    async (request, reply) => {
      if (!email.isMailEnabled) return unavailable(request, reply)
      const context = contexts.create(request, reply, null)
      return sendPage(
        reply,
        200,
        renderPasswordResetPage(context, {
          token: request.query.token ?? '',
          errors: [],
          passwordMinLength: kit.settings.passwordMinLength,
        }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    '/password-reset',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'token', 'password', 'password_repeat']) },
    },
    async (request, reply) => {
      const { token = '', password = '', password_repeat: repeat = '' } = request.body
      formGuard.checkForm(request, request.body.csrf_token, null)
      if (!email.isMailEnabled) return unavailable(request, reply)
      const context = contexts.create(request, reply, null)
      const { t } = context
      if (token === '' || token.length > maxTokenLength)
        return sendPage(reply, 400, renderResetLinkRefusedPage(context))
      const render = (status: number, errors: FieldErrors) =>
        sendPage(
          reply,
          status,
          renderPasswordResetPage(context, { token, errors, passwordMinLength: kit.settings.passwordMinLength }),
        )
      if (password === '') return render(400, [{ field: 'password', message: t('register.passwordMissing') }])
      if (repeat !== password)
        return render(400, [{ field: 'password_repeat', message: t('register.passwordMismatch') }])
      try {
        await spendToken(request, () =>
          email.confirmPasswordReset({ token, newPassword: password }, readClientContext(request)),
        )
      } catch (error) {
        if (isInvalidToken(error)) return sendPage(reply, 400, renderResetLinkRefusedPage(context))
        if (isMailDisabled(error)) return unavailable(request, reply)
        const refusal = describeRefusal(t, error, { password: 'password' })
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
      return sendPage(reply, 200, renderPasswordResetDonePage(context))
    },
  )

  app.get<{ Querystring: { token?: string } }>(
    '/verify-email',
    { schema: { ...hiddenRoute, querystring: tokenQuerySchema } },
    async (request, reply) => {
      if (!email.isMailEnabled) return unavailable(request, reply)
      const context = contexts.create(request, reply, null)
      return sendPage(reply, 200, renderVerifyEmailPage(context, { token: request.query.token ?? '' }))
    },
  )

  app.post<{ Body: FormBody }>(
    '/verify-email',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'token']) } },
    async (request, reply) => {
      const { token = '' } = request.body
      formGuard.checkForm(request, request.body.csrf_token, null)
      if (!email.isMailEnabled) return unavailable(request, reply)
      const context = contexts.create(request, reply, null)
      if (token === '' || token.length > maxTokenLength)
        return sendPage(reply, 400, renderVerifyLinkRefusedPage(context))
      try {
        const verified = await spendToken(request, () => email.verifyEmail(token, readClientContext(request)))
        return sendPage(reply, 200, renderEmailVerifiedPage(context, { address: verified.address }))
      } catch (error) {
        if (isInvalidToken(error)) return sendPage(reply, 400, renderVerifyLinkRefusedPage(context))
        if (isMailDisabled(error)) return unavailable(request, reply)
        throw error
      }
    },
  )
}
