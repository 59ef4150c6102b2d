/**
 * The signed-in user's pages. Every route needs a live cookie session (otherwise: the sign-in
 * page, back here afterwards), and every form the session's token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Application } from '../../core/application/application.ts'
import type { Principal } from '../../core/application/sign-in.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import { clearSessionCookie, setSessionCookie } from '../../http/session-cookie.ts'
import { describeRefusal, statusOfRefusal } from '../error-messages.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, type PageKit } from '../page-kit.ts'
import { redirectTo, sendPage } from '../page-reply.ts'
import { readViewer, redirectToSignIn } from '../page-session.ts'
import { renderAccountPage, renderPasswordPage, renderSessionsPage } from '../pages/account-pages.ts'
import { passkeyRoutes } from './passkey-routes.ts'
import { isReauthenticationRequired, redirectToReauthentication, secondFactorRoutes } from './second-factor-routes.ts'

type FormBody = Record<string, string | undefined>

declare module 'fastify' {
  interface FastifyRequest {
    pageViewer: Principal | null
  }
}

const noticeQuery = {
  type: 'object',
  properties: {
    notice: { type: 'string', enum: ['changed', 'ended', 'gone', 'ended_others', 'reauthenticated', 'required'] },
    count: { type: 'integer', minimum: 0, maximum: 100000 },
    lang: { type: 'string', maxLength: 8 },
  },
} as const

interface NoticeQuery {
  notice?: 'changed' | 'ended' | 'gone' | 'ended_others' | 'reauthenticated' | 'required'
  count?: number
}

/** The viewer of a route behind `requireSignedIn`. */
export function viewerOf(request: FastifyRequest): Principal {
  if (!request.pageViewer) throw new TypeError('route is missing the signed-in check')
  return request.pageViewer
}

/** onRequest: a live cookie session, or the sign-in page. */
export function createSignedInCheck(kit: PageKit) {
  return async function requireSignedIn(request: FastifyRequest, reply: FastifyReply) {
    const viewer = await readViewer(request, kit.signIn)
    if (!viewer) return redirectToSignIn(request, reply)
    request.pageViewer = viewer
    return undefined
  }
}

export interface AccountRouteDeps extends Pick<
  Application,
  'mySessions' | 'secondFactor' | 'mfaSignIn' | 'passkeys' | 'accountLifecycle'
> {
  kit: PageKit
}

export async function accountRoutes(app: FastifyInstance, deps: AccountRouteDeps): Promise<void> {
  const { kit, mySessions } = deps
  const { signIn, formGuard, contexts } = kit
  app.decorateRequest('pageViewer', null)
  app.addHook('onRequest', createSignedInCheck(kit))

  app.get<{ Querystring: NoticeQuery }>(
    '/account',
    { schema: { ...hiddenRoute, querystring: noticeQuery } },
    async (request, reply) => {
      const context = contexts.create(request, reply, viewerOf(request))
      const notice = request.query.notice === 'reauthenticated' ? context.t('reauth.done') : null
      return sendPage(reply, 200, renderAccountPage(context, { deleteErrors: [], notice }))
    },
  )

  app.post<{ Body: FormBody }>(
    '/account/delete',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'password']) } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const render = (status: number, errors: Array<{ field: string; message: string }>) =>
        sendPage(reply, status, renderAccountPage(context, { deleteErrors: errors, notice: null }))
      const password = request.body.password ?? ''
      if (password === '') return render(400, [{ field: 'password', message: t('signIn.passwordMissing') }])
      try {
        await deps.accountLifecycle.deleteMyAccount(viewer, password, readClientContext(request))
      } catch (error) {
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, '/account')
        if (error instanceof TesseraError && error.code === 'invalid_credentials')
          return render(401, [{ field: 'password', message: t('password.currentWrong') }])
        const refusal = describeRefusal(t, error, {})
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
      clearSessionCookie(reply)
      return redirectTo(reply, '/login?notice=deleted')
    },
  )

  app.get<{ Querystring: NoticeQuery }>(
    '/account/password',
    { schema: { ...hiddenRoute, querystring: noticeQuery } },
    async (request, reply) => {
      const context = contexts.create(request, reply, viewerOf(request))
      const notices: Partial<Record<string, string>> = {
        changed: context.t('password.changed'),
        reauthenticated: context.t('reauth.done'),
        required: context.t('password.required'),
      }
      const notice = request.query.notice === undefined ? null : (notices[request.query.notice] ?? null)
      return sendPage(
        reply,
        200,
        renderPasswordPage(context, { errors: [], notice, passwordMinLength: kit.settings.passwordMinLength }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    '/account/password',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: {
        ...hiddenRoute,
        body: formBodySchema(['csrf_token', 'current_password', 'new_password', 'new_password_repeat']),
      },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const {
        current_password: currentPassword = '',
        new_password: newPassword = '',
        new_password_repeat: repeat = '',
      } = request.body
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const render = (status: number, errors: Array<{ field: string; message: string }>) =>
        sendPage(
          reply,
          status,
          renderPasswordPage(context, { errors, notice: null, passwordMinLength: kit.settings.passwordMinLength }),
        )
      const errors: Array<{ field: string; message: string }> = []
      if (currentPassword === '') errors.push({ field: 'current_password', message: t('password.currentMissing') })
      if (newPassword === '') errors.push({ field: 'new_password', message: t('password.newMissing') })
      else if (repeat !== newPassword)
        errors.push({ field: 'new_password_repeat', message: t('register.passwordMismatch') })
      if (errors.length > 0) return render(400, errors)
      try {
        const changed = await signIn.changePassword(viewer, {
          currentPassword,
          newPassword,
          transport: 'cookie',
          ...readClientContext(request),
        })
        if (changed.sessionToken === null) throw new TypeError('a cookie password change without a session token')
        // Every session ended with the old password; this browser continues on a new one.
        setSessionCookie(reply, changed.sessionToken, kit.settings.absoluteTimeoutSeconds)
        return redirectTo(reply, '/account/password?notice=changed')
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'invalid_credentials') {
          return render(401, [{ field: 'current_password', message: t('password.currentWrong') }])
        }
        // An account with a second factor changes its password after a recent use of it.
        if (isReauthenticationRequired(error)) return redirectToReauthentication(reply, '/account/password')
        const refusal = describeRefusal(t, error, { password: 'new_password' })
        if (refusal === null) throw error
        return render(statusOfRefusal(reply, error), [refusal])
      }
    },
  )

  app.get<{ Querystring: NoticeQuery }>(
    '/account/sessions',
    { schema: { ...hiddenRoute, querystring: noticeQuery } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      const context = contexts.create(request, reply, viewer)
      const { t } = context
      const sessions = await mySessions.listMySessions({ userId: viewer.user.id, sessionId: viewer.session.id })
      const notices = {
        ended: t('sessions.ended'),
        gone: t('sessions.gone'),
        ended_others: t('sessions.endedOthers', { count: request.query.count ?? 0 }),
        changed: null,
        required: null,
        reauthenticated: t('reauth.done'),
      }
      const notice = request.query.notice === undefined ? null : notices[request.query.notice]
      return sendPage(reply, 200, renderSessionsPage(context, { sessions, notice }))
    },
  )

  app.post<{ Body: FormBody }>(
    '/account/sessions/end',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'session_id'], ['session_id']) },
    },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const sessionId = request.body.session_id ?? ''
      const caller = { userId: viewer.user.id, sessionId: viewer.session.id }
      const ended = await mySessions.endMySession(caller, sessionId, readClientContext(request))
      if (ended && sessionId === viewer.session.id) {
        clearSessionCookie(reply)
        return redirectTo(reply, '/login?notice=signed_out')
      }
      return redirectTo(reply, `/account/sessions?notice=${ended ? 'ended' : 'gone'}`)
    },
  )

  app.post<{ Body: FormBody }>(
    '/account/sessions/end-others',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token']) } },
    async (request, reply) => {
      const viewer = viewerOf(request)
      formGuard.checkForm(request, request.body.csrf_token, viewer.session.id)
      const caller = { userId: viewer.user.id, sessionId: viewer.session.id }
      const count = await mySessions.endMySessions(caller, false, readClientContext(request))
      return redirectTo(reply, `/account/sessions?notice=ended_others&count=${count}`)
    },
  )

  await secondFactorRoutes(app, { kit, secondFactor: deps.secondFactor, mfaSignIn: deps.mfaSignIn })
  await passkeyRoutes(app, { kit, passkeys: deps.passkeys })
}
