/**
 * The start page, sign-in, registration and sign-out. They call the same operations as
 * `/v1/auth/*`, so the same throttles (sign-in per account and per address, registration per
 * address) and the same answer for every wrong credential apply.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Application } from '../../core/application/application.ts'
import type { SecondFactorProof } from '../../core/application/second-factor-sign-in.ts'
import type { SignIn } from '../../core/application/sign-in.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import { clearSessionCookie, setSessionCookie } from '../../http/session-cookie.ts'
import { describeRefusal, statusOfRefusal } from '../error-messages.ts'
import type { FieldErrors } from '../forms.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, readReturnTo, type PageKit } from '../page-kit.ts'
import { redirectTo, sendPage } from '../page-reply.ts'
import { readViewer } from '../page-session.ts'
import { passkeyFieldMaxLength, readPasskeyField } from '../passkey-field.ts'
import { renderRegisterPage } from '../pages/register-page.ts'
import { renderSecondStepPage } from '../pages/second-step-page.ts'
import { renderSignInPage, signInNotices, type SignInNotice } from '../pages/sign-in-page.ts'
import { describeReturnTo, type ReturnTo } from '../return-to.ts'

interface SignInQuery {
  return_to?: string
  notice?: SignInNotice
}

type FormBody = Record<string, string | undefined>

function requireReturnTo(kit: PageKit, value: string | undefined): ReturnTo | undefined {
  const returnTo = readReturnTo(kit, value)
  if (returnTo === null)
    throw new TesseraError('validation_failed', 'return_to is not an allowed address.', {
      details: { field: 'return_to' },
    })
  return returnTo
}

function destination(returnTo: ReturnTo | undefined): string {
  return returnTo === undefined ? '/account' : describeReturnTo(returnTo)
}

const signInQuerySchema = {
  type: 'object',
  properties: {
    return_to: { type: 'string', maxLength: 4096 },
    notice: { type: 'string', enum: [...signInNotices] },
    lang: { type: 'string', maxLength: 8 },
  },
} as const

export interface VisitorRouteDeps extends Pick<Application, 'requestLimits' | 'mfaSignIn' | 'passkeys'> {
  kit: PageKit
}

/** The challenge and methods of an `mfa_required` refusal, or null for any other error. */
function readSecondStep(error: unknown): { challenge: string; allowsPasskey: boolean } | null {
  if (!(error instanceof TesseraError) || error.code !== 'mfa_required') return null
  const challenge = error.details?.mfa_challenge
  const methods = error.details?.mfa_methods
  if (typeof challenge !== 'string') throw new TypeError('mfa_required without its challenge')
  return { challenge, allowsPasskey: Array.isArray(methods) && methods.includes('passkey') }
}

/** The one proof a second-step form carries: a passkey, else a recovery code, else the app's code. */
function readProof(body: FormBody): { proof: SecondFactorProof | null; field: string } {
  if (body.passkey !== undefined) {
    const credential = readPasskeyField(body.passkey)
    return { proof: credential === null ? null : { kind: 'passkey', response: credential }, field: 'form' }
  }
  if (body.recovery_code !== undefined) {
    return {
      proof: body.recovery_code.trim() === '' ? null : { kind: 'recovery_code', code: body.recovery_code },
      field: 'recovery_code',
    }
  }
  const code = (body.code ?? '').replace(/\s/g, '')
  return { proof: code === '' ? null : { kind: 'totp', code }, field: 'code' }
}

export async function visitorRoutes(app: FastifyInstance, deps: VisitorRouteDeps): Promise<void> {
  const { kit, requestLimits, mfaSignIn, passkeys } = deps
  const { signIn, formGuard, contexts } = kit

  /** Gives the browser its cookie session and sends it on. */
  function enter(reply: FastifyReply, signedIn: SignIn, returnTo: ReturnTo | undefined) {
    if (signedIn.sessionToken === null) throw new TypeError('a cookie sign-in without a session token')
    setSessionCookie(reply, signedIn.sessionToken, kit.settings.absoluteTimeoutSeconds)
    formGuard.clearVisitor(reply)
    return redirectTo(reply, destination(returnTo))
  }

  /** Signs the browser in on the cookie transport and sends it on (throws `mfa_required` for a second step). */
  async function completeSignIn(
    request: FastifyRequest,
    reply: FastifyReply,
    credentials: { username: string; password: string },
    returnTo: ReturnTo | undefined,
  ) {
    const signedIn = await signIn.signIn({ ...credentials, transport: 'cookie', ...readClientContext(request) })
    return enter(reply, signedIn, returnTo)
  }

  app.get(
    '/',
    {
      schema: {
        ...hiddenRoute,
        querystring: { type: 'object', properties: { lang: { type: 'string', maxLength: 8 } } },
      },
    },
    async (request, reply) => {
      const viewer = await readViewer(request, signIn)
      return redirectTo(reply, viewer ? '/account' : '/login')
    },
  )

  app.get<{ Querystring: SignInQuery }>(
    '/login',
    { schema: { ...hiddenRoute, querystring: signInQuerySchema } },
    async (request, reply) => {
      const returnTo = requireReturnTo(kit, request.query.return_to)
      const viewer = await readViewer(request, signIn)
      if (viewer && request.query.notice === undefined) return redirectTo(reply, destination(returnTo))
      const context = contexts.create(request, reply, null)
      return sendPage(
        reply,
        200,
        renderSignInPage(context, {
          username: '',
          errors: [],
          returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
          notice: request.query.notice ?? null,
          canResetPassword: kit.settings.isMailEnabled,
        }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    '/login',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'username', 'password', 'return_to']) },
    },
    async (request, reply) => {
      const { username = '', password = '', return_to: rawReturnTo } = request.body
      formGuard.checkForm(request, request.body.csrf_token, null)
      const returnTo = requireReturnTo(kit, rawReturnTo)
      const context = contexts.create(request, reply, null)
      const { t } = context
      const errors: Array<{ field: string; message: string }> = []
      if (username === '') errors.push({ field: 'username', message: t('signIn.usernameMissing') })
      if (password === '') errors.push({ field: 'password', message: t('signIn.passwordMissing') })
      const render = (status: number, fieldErrors: FieldErrors) =>
        sendPage(
          reply,
          status,
          renderSignInPage(context, {
            username,
            errors: fieldErrors,
            returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
            notice: null,
            canResetPassword: kit.settings.isMailEnabled,
          }),
        )
      if (errors.length > 0) return render(400, errors)
      try {
        return await completeSignIn(request, reply, { username, password }, returnTo)
      } catch (error) {
        const secondStep = readSecondStep(error)
        if (secondStep !== null) {
          return sendPage(
            reply,
            200,
            renderSecondStepPage(context, {
              ...secondStep,
              returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
              errors: [],
            }),
          )
        }
        if (error instanceof TesseraError && error.code === 'invalid_credentials') {
          // One message for every wrong credential, as the API's one code: it names no field.
          return render(401, [{ field: 'form', message: t('signIn.invalid') }])
        }
        const refusal = describeRefusal(t, error, {})
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
    },
  )

  app.post<{ Body: FormBody }>(
    '/login/passkey',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: {
        ...hiddenRoute,
        body: formBodySchema(['csrf_token', 'credential', 'return_to'], [], { credential: passkeyFieldMaxLength }),
      },
    },
    async (request, reply) => {
      formGuard.checkForm(request, request.body.csrf_token, null)
      const returnTo = requireReturnTo(kit, request.body.return_to)
      const context = contexts.create(request, reply, null)
      const { t } = context
      const render = (status: number, errors: FieldErrors) =>
        sendPage(
          reply,
          status,
          renderSignInPage(context, {
            username: '',
            errors,
            returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
            notice: null,
          }),
        )
      const credential = readPasskeyField(request.body.credential)
      if (credential === null) return render(400, [{ field: 'form', message: t('signIn.passkeyInvalid') }])
      try {
        // A passkey that verified its user is a whole sign-in: no second step follows it.
        const signedIn = await passkeys.signInWithPasskey({
          response: credential,
          transport: 'cookie',
          ...readClientContext(request),
        })
        return enter(reply, signedIn, returnTo)
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_credentials')
          return render(401, [{ field: 'form', message: t('signIn.passkeyInvalid') }])
        const refusal = describeRefusal(t, error, {})
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
    },
  )

  app.post<{ Body: FormBody }>(
    '/login/second-step',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: {
        ...hiddenRoute,
        body: formBodySchema(
          ['csrf_token', 'challenge', 'code', 'recovery_code', 'passkey', 'passkey_offered', 'return_to'],
          ['challenge'],
          { passkey: passkeyFieldMaxLength },
        ),
      },
    },
    async (request, reply) => {
      formGuard.checkForm(request, request.body.csrf_token, null)
      const returnTo = requireReturnTo(kit, request.body.return_to)
      const context = contexts.create(request, reply, null)
      const { t } = context
      const challenge = request.body.challenge ?? ''
      const render = (status: number, errors: FieldErrors) =>
        sendPage(
          reply,
          status,
          renderSecondStepPage(context, {
            challenge,
            allowsPasskey: request.body.passkey_offered === 'true',
            returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
            errors,
          }),
        )
      const { proof, field } = readProof(request.body)
      if (proof === null) {
        const missing = {
          code: 'secondStep.codeMissing',
          recovery_code: 'secondStep.recoveryMissing',
          form: 'passkeys.notAccepted',
        } as const
        return render(400, [{ field, message: t(missing[field as keyof typeof missing]) }])
      }
      try {
        const signedIn = await mfaSignIn.completeSignIn({ challenge, proof, ...readClientContext(request) })
        return enter(reply, signedIn, returnTo)
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_mfa_challenge') {
          // Expired, used up or never issued: the password step hands out a new one.
          const query = new URLSearchParams({ notice: 'second_step_expired' })
          if (returnTo !== undefined) query.set('return_to', describeReturnTo(returnTo))
          return redirectTo(reply, `/login?${query}`)
        }
        if (error instanceof TesseraError && error.code === 'invalid_mfa_code') {
          const message =
            proof.kind === 'passkey'
              ? t('passkeys.notAccepted')
              : t(proof.kind === 'totp' ? 'secondStep.codeWrong' : 'secondStep.recoveryWrong')
          return render(401, [{ field, message }])
        }
        const refusal = describeRefusal(t, error, {})
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
    },
  )

  app.get<{ Querystring: { return_to?: string } }>(
    '/register',
    { schema: { ...hiddenRoute, querystring: signInQuerySchema } },
    async (request, reply) => {
      const returnTo = requireReturnTo(kit, request.query.return_to)
      if (await readViewer(request, signIn)) return redirectTo(reply, destination(returnTo))
      const context = contexts.create(request, reply, null)
      return sendPage(
        reply,
        200,
        renderRegisterPage(context, {
          username: '',
          errors: [],
          returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
          passwordMinLength: kit.settings.passwordMinLength,
        }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    '/register',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: {
        ...hiddenRoute,
        body: formBodySchema(['csrf_token', 'username', 'password', 'password_repeat', 'return_to']),
      },
    },
    async (request, reply) => {
      const { username = '', password = '', password_repeat: repeat = '', return_to: rawReturnTo } = request.body
      formGuard.checkForm(request, request.body.csrf_token, null)
      const returnTo = requireReturnTo(kit, rawReturnTo)
      const context = contexts.create(request, reply, null)
      const { t } = context
      const render = (status: number, errors: FieldErrors) =>
        sendPage(
          reply,
          status,
          renderRegisterPage(context, {
            username,
            errors,
            returnTo: returnTo === undefined ? null : describeReturnTo(returnTo),
            passwordMinLength: kit.settings.passwordMinLength,
          }),
        )
      const errors: Array<{ field: string; message: string }> = []
      if (username === '') errors.push({ field: 'username', message: t('register.usernameMissing') })
      if (password === '') errors.push({ field: 'password', message: t('register.passwordMissing') })
      else if (repeat !== password) errors.push({ field: 'password_repeat', message: t('register.passwordMismatch') })
      if (errors.length > 0) return render(400, errors)
      try {
        // Counted like POST /v1/auth/register: every attempt from the address, before any work.
        await requestLimits.admitRequest('registration', request.ip)
        await signIn.register({ username, password }, readClientContext(request))
      } catch (error) {
        const refusal = describeRefusal(t, error, { username: 'username', password: 'password' })
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
      try {
        return await completeSignIn(request, reply, { username, password }, returnTo)
      } catch (error) {
        // The account exists; a sign-in refused now (a throttle) is for the sign-in page to tell.
        if (!(error instanceof TesseraError) || error.code === 'service_unavailable' || error.code === 'server_busy')
          throw error
        const query = new URLSearchParams({ notice: 'registered' })
        if (returnTo !== undefined) query.set('return_to', describeReturnTo(returnTo))
        return redirectTo(reply, `/login?${query}`)
      }
    },
  )

  app.post<{ Body: FormBody }>(
    '/logout',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token']) } },
    async (request, reply) => {
      const viewer = await readViewer(request, signIn)
      if (!viewer) {
        // Already over: there is nothing left to end, and no form of a session to check.
        clearSessionCookie(reply)
        return redirectTo(reply, '/login?notice=signed_out')
      }
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      await signIn.signOut(viewer, readClientContext(request))
      clearSessionCookie(reply)
      return redirectTo(reply, '/login?notice=signed_out')
    },
  )
}
