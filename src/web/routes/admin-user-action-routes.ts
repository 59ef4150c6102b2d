/**
 * The console's actions on one user, added to the admin routes (same admin check): sign out
 * everywhere, disable (with a note for the audit trail) and enable, set a password and/or require
 * a new one, and reset the second factor. Each is one application operation, which audits and
 * ends sessions as the admin API's do; the page answers with the user's page and a notice.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Application } from '../../core/application/application.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import { describeRefusal } from '../error-messages.ts'
import type { FieldErrors } from '../forms.ts'
import type { PageContext } from '../page-context.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, type PageKit } from '../page-kit.ts'
import { redirectTo } from '../page-reply.ts'
import { viewerOf } from './account-routes.ts'

type FormBody = Record<string, string | undefined>

export const userActionNotices = ['kicked', 'disabled', 'enabled', 'last_admin', 'password_saved', 'mfa_reset'] as const

export function describeUserActionNotice(context: PageContext, notice: string, count: number): string | null {
  const { t } = context
  const notices: Record<string, string> = {
    kicked: t('user.kicked', { count }),
    disabled: t('user.disabledNotice', { count }),
    enabled: t('user.enabledNotice'),
    last_admin: t('user.lastAdmin'),
    password_saved: t('user.passwordSaved'),
    mfa_reset: t('user.mfaReset', { count }),
  }
  return notices[notice] ?? null
}

export async function adminUserActionRoutes(
  app: FastifyInstance,
  deps: Pick<Application, 'accountLifecycle' | 'secondFactor'> & {
    kit: PageKit
    idParams: object
    checkForm(request: FastifyRequest<{ Body: FormBody }>): void
    /** Renders the user's page with errors in its password form. */
    renderPasswordErrors(
      request: FastifyRequest,
      reply: import('fastify').FastifyReply,
      userId: string,
      errors: FieldErrors,
    ): Promise<unknown>
  },
): Promise<void> {
  const { accountLifecycle, secondFactor, kit, idParams, checkForm } = deps
  const actorOf = (request: FastifyRequest) => ({
    actorUserId: viewerOf(request).user.id,
    context: readClientContext(request),
  })
  const back = (userId: string, notice: string, count?: number) =>
    `/admin/users/${userId}?notice=${notice}${count === undefined ? '' : `&count=${count}`}`
  const routeOptions = (fields: string[]) => ({
    bodyLimit: pageBodyLimitBytes,
    schema: { ...hiddenRoute, params: idParams, body: formBodySchema(['csrf_token', ...fields]) },
  })

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/kick',
    routeOptions([]),
    async (request, reply) => {
      checkForm(request)
      const ended = await accountLifecycle.endUserSessions(request.params.id, actorOf(request))
      return redirectTo(reply, back(request.params.id, 'kicked', ended.endedSessions))
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/disable',
    routeOptions(['note']),
    async (request, reply) => {
      checkForm(request)
      const note = (request.body.note ?? '').trim()
      try {
        const ended = await accountLifecycle.disableUser(
          request.params.id,
          note === '' ? null : note.slice(0, 200),
          actorOf(request),
        )
        return redirectTo(reply, back(request.params.id, 'disabled', ended.endedSessions))
      } catch (error) {
        if (error instanceof TesseraError && error.code === 'last_admin')
          return redirectTo(reply, back(request.params.id, 'last_admin'))
        throw error
      }
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/enable',
    routeOptions([]),
    async (request, reply) => {
      checkForm(request)
      await accountLifecycle.enableUser(request.params.id, actorOf(request))
      return redirectTo(reply, back(request.params.id, 'enabled'))
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/password',
    routeOptions(['new_password', 'require_change']),
    async (request, reply) => {
      checkForm(request)
      const { t } = kit.contexts.create(request, reply, viewerOf(request))
      const password = request.body.new_password ?? ''
      const isChangeRequired = request.body.require_change === 'on'
      if (password === '' && !isChangeRequired) {
        return deps.renderPasswordErrors(request, reply, request.params.id, [
          { field: 'new_password', message: t('user.passwordNothing') },
        ])
      }
      try {
        await accountLifecycle.setUserPassword(
          request.params.id,
          { password: password === '' ? null : password, isChangeRequired },
          actorOf(request),
        )
      } catch (error) {
        const refusal = describeRefusal(t, error, { password: 'new_password' })
        if (refusal === null) throw error
        return deps.renderPasswordErrors(request, reply, request.params.id, [refusal])
      }
      return redirectTo(reply, back(request.params.id, 'password_saved'))
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/reset-mfa',
    routeOptions([]),
    async (request, reply) => {
      checkForm(request)
      const { removedPasskeys } = await secondFactor.resetUser(request.params.id, actorOf(request))
      return redirectTo(reply, back(request.params.id, 'mfa_reset', removedPasskeys))
    },
  )
}
