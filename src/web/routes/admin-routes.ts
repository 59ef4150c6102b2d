/**
 * The admin console under /admin. Every route needs a live cookie session (else the sign-in
 * page) of a user holding the `admin` role, decided in `onRequest` before any body is read;
 * a user without it gets 403, recorded in the audit trail like the API's refusals. Every
 * change goes through the same operations as `/v1/admin/*`, so it is audited with its actor.
 */
import type { Application } from '../../core/application/application.ts'
import { adminUserActionRoutes, describeUserActionNotice, userActionNotices } from './admin-user-action-routes.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import type { AuditTrailOperations } from '../../core/application/audit-trail.ts'
import type { TokenAdministration } from '../../core/application/token-administration.ts'
import {
  isAuditEventType,
  isAuditOutcome,
  signingAlgorithms,
  type AuditEventFilter,
  type SigningAlgorithm,
} from '../../core/application/types.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../../http/request-context.ts'
import { decodeTimeCursor, encodeTimeCursor, toAuditCursor } from '../../http/schemas/audit.ts'
import { formBodySchema, hiddenRoute, pageBodyLimitBytes, type PageKit } from '../page-kit.ts'
import { redirectTo, sendPage } from '../page-reply.ts'
import type { PageContext } from '../page-context.ts'
import { renderAlertsPage, renderAuditPage, type AuditFilterValues } from '../pages/admin-trail-pages.ts'
import {
  renderClientDeleteConfirmation,
  renderClientsPage,
  renderEmergencyConfirmation,
  renderKeysPage,
} from '../pages/admin-token-pages.ts'
import { renderUserPage, renderUsersPage, type UserPageState } from '../pages/admin-user-pages.ts'
import { createSignedInCheck, viewerOf } from './account-routes.ts'

type FormBody = Record<string, string | undefined>

export interface AdminPageDeps extends Pick<Application, 'accountLifecycle' | 'secondFactor'> {
  kit: PageKit
  accountAdmin: AccountAdministration
  tokenAdmin: TokenAdministration
  auditTrail: AuditTrailOperations
}

const usersPerPage = 50
const eventsPerPage = 50
const rolePattern = /^[a-z][a-z0-9_:-]{0,31}$/
const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
const idParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: uuidPattern } },
  required: ['id'],
} as const
const clientIdParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 128 } },
  required: ['id'],
} as const
const languageOnly = { lang: { type: 'string', maxLength: 8 } } as const
const dateTimeLocalPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/

function actorOf(request: FastifyRequest) {
  return { actorUserId: viewerOf(request).user.id, context: readClientContext(request) }
}

/** A `datetime-local` value, read as UTC (as the console shows every time); null when it is none. */
function readUtcTime(value: string): Date | null {
  if (!dateTimeLocalPattern.test(value)) return null
  const at = new Date(`${value.length === 16 ? `${value}:00` : value}Z`)
  return Number.isNaN(at.getTime()) ? null : at
}

export async function adminRoutes(app: FastifyInstance, deps: AdminPageDeps): Promise<void> {
  const { kit, accountAdmin, tokenAdmin, auditTrail } = deps
  const { formGuard, contexts } = kit
  app.decorateRequest('pageViewer', null)
  const requireSignedIn = createSignedInCheck(kit)
  app.addHook('onRequest', async (request, reply) => {
    await requireSignedIn(request, reply)
    if (reply.sent) return reply
    if (!viewerOf(request).user.roles.includes('admin'))
      throw new TesseraError('forbidden', 'Your account may not do this.')
    return undefined
  })

  function contextOf(request: FastifyRequest, reply: FastifyReply): PageContext {
    return contexts.create(request, reply, viewerOf(request))
  }

  /** Checks the form of an unsafe request against the admin's session. */
  function checkForm(request: FastifyRequest<{ Body: FormBody }>): void {
    formGuard.checkForm(request, request.body.csrf_token, viewerOf(request).session.id)
  }

  app.get(
    '/admin',
    { schema: { ...hiddenRoute, querystring: { type: 'object', properties: languageOnly } } },
    async (_request, reply) => redirectTo(reply, '/admin/users'),
  )

  app.get<{ Querystring: { cursor?: string; q?: string } }>(
    '/admin/users',
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: {
            cursor: { type: 'string', maxLength: 512, pattern: '^[A-Za-z0-9_-]*$' },
            q: { type: 'string', maxLength: 64 },
            ...languageOnly,
          },
        },
      },
    },
    async (request, reply) => {
      const { cursor } = request.query
      const query = (request.query.q ?? '').trim()
      const after = cursor === undefined ? null : Buffer.from(cursor, 'base64url').toString('utf8')
      const page =
        query === ''
          ? await accountAdmin.listUsers({ after, limit: usersPerPage + 1 })
          : await accountAdmin.searchUsers({ query, after, limit: usersPerPage + 1 })
      const users = page.slice(0, usersPerPage)
      const last = users.at(-1)
      const nextCursor =
        page.length > usersPerPage && last ? Buffer.from(last.usernameKey, 'utf8').toString('base64url') : null
      return sendPage(
        reply,
        200,
        renderUsersPage(contextOf(request, reply), { users, nextCursor, isFirstPage: cursor === undefined, query }),
      )
    },
  )

  async function renderUser(
    request: FastifyRequest,
    reply: FastifyReply,
    userId: string,
    status: number,
    state: Partial<UserPageState>,
  ) {
    const user = await accountAdmin.findUser(userId)
    if (!user) throw new TesseraError('not_found', 'No such user.')
    const [sessions, events, secondFactorStatus] = await Promise.all([
      accountAdmin.listUserSessions(user.id),
      auditTrail.queryUserEvents(user.id, { after: null, limit: 15 }),
      deps.secondFactor.describeUser(user.id),
    ])
    return sendPage(
      reply,
      status,
      renderUserPage(contextOf(request, reply), {
        user,
        sessions,
        events: events.events,
        secondFactor: secondFactorStatus,
        roleErrors: [],
        roleValue: '',
        passwordErrors: [],
        notice: null,
        ...state,
      }),
    )
  }

  app.get<{ Params: { id: string }; Querystring: { notice?: string; role?: string; count?: number } }>(
    '/admin/users/:id',
    {
      schema: {
        ...hiddenRoute,
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            notice: { type: 'string', enum: ['granted', 'revoked', 'unlocked', ...userActionNotices] },
            role: { type: 'string', pattern: rolePattern.source },
            count: { type: 'integer', minimum: 0, maximum: 100000 },
            ...languageOnly,
          },
        },
      },
    },
    async (request, reply) => {
      const context = contextOf(request, reply)
      const { t } = context
      const { notice, role = '', count = 0 } = request.query
      const notices: Record<string, string> = {
        granted: t('user.granted', { role }),
        revoked: t('user.revoked', { role }),
        unlocked: t('user.unlocked', { count }),
      }
      const text = notice === undefined ? null : (notices[notice] ?? describeUserActionNotice(context, notice, count))
      return renderUser(request, reply, request.params.id, 200, { notice: text })
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/roles',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: {
        ...hiddenRoute,
        params: idParams,
        body: formBodySchema(['csrf_token', 'action', 'role', 'updated_at'], ['action', 'updated_at']),
      },
    },
    async (request, reply) => {
      checkForm(request)
      const { t } = contextOf(request, reply)
      const { action, role = '', updated_at: seenUpdatedAt } = request.body
      const userId = request.params.id
      if (action !== 'grant' && action !== 'revoke') throw new TesseraError('validation_failed', 'Unknown role action.')
      const roleError = (message: string, status = 400) =>
        renderUser(request, reply, userId, status, { roleErrors: [{ field: 'role', message }], roleValue: role })
      if (role === '') return roleError(t('user.roleMissing'))
      if (!rolePattern.test(role)) return roleError(t('user.roleInvalid'))
      const user = await accountAdmin.findUser(userId)
      if (!user) throw new TesseraError('not_found', 'No such user.')
      // The roles are replaced as a whole: a form made before another change would undo it.
      if (user.updatedAt.toISOString() !== seenUpdatedAt) return roleError(t('user.stale'), 409)
      if (action === 'grant' && user.roles.includes(role)) return roleError(t('user.roleHeld'))
      const roles = action === 'grant' ? [...user.roles, role] : user.roles.filter((held) => held !== role)
      await accountAdmin.replaceUserRoles(userId, roles, actorOf(request))
      return redirectTo(
        reply,
        `/admin/users/${userId}?notice=${action === 'grant' ? 'granted' : 'revoked'}&role=${role}`,
      )
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/users/:id/unlock',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, params: idParams, body: formBodySchema(['csrf_token']) },
    },
    async (request, reply) => {
      checkForm(request)
      const { clearedCounters } = await accountAdmin.unlockUser(request.params.id, actorOf(request))
      return redirectTo(reply, `/admin/users/${request.params.id}?notice=unlocked&count=${clearedCounters}`)
    },
  )

  await adminUserActionRoutes(app, {
    kit,
    idParams,
    checkForm,
    accountLifecycle: deps.accountLifecycle,
    secondFactor: deps.secondFactor,
    renderPasswordErrors: (request, reply, userId, errors) =>
      renderUser(request, reply, userId, 400, { passwordErrors: errors }),
  })

  app.get<{ Querystring: Partial<AuditFilterValues> & { cursor?: string } }>(
    '/admin/audit',
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: {
            user: { type: 'string', maxLength: 128 },
            type: { type: 'string', maxLength: 64 },
            outcome: { type: 'string', maxLength: 16 },
            ip: { type: 'string', maxLength: 64 },
            since: { type: 'string', maxLength: 32 },
            until: { type: 'string', maxLength: 32 },
            cursor: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' },
            ...languageOnly,
          },
        },
      },
    },
    async (request, reply) => {
      const context = contextOf(request, reply)
      const { t } = context
      const query = request.query
      const filters: AuditFilterValues = {
        user: query.user ?? '',
        type: query.type ?? '',
        outcome: query.outcome ?? '',
        ip: query.ip ?? '',
        since: query.since ?? '',
        until: query.until ?? '',
      }
      const errors: Array<{ field: string; message: string }> = []
      const invalid = (field: keyof AuditFilterValues, label: string) =>
        errors.push({ field, message: t('audit.invalidFilter', { field: label }) })
      const filter: { -readonly [Key in keyof AuditEventFilter]: AuditEventFilter[Key] } = {}
      if (filters.user !== '') {
        if (new RegExp(uuidPattern).test(filters.user)) filter.userId = filters.user.toLowerCase()
        else invalid('user', t('audit.user'))
      }
      if (filters.type !== '') {
        if (isAuditEventType(filters.type)) filter.types = [filters.type]
        else invalid('type', t('audit.type'))
      }
      if (filters.outcome !== '') {
        if (isAuditOutcome(filters.outcome)) filter.outcome = filters.outcome
        else invalid('outcome', t('audit.outcome'))
      }
      if (filters.ip !== '') filter.ip = filters.ip
      for (const bound of ['since', 'until'] as const) {
        if (filters[bound] === '') continue
        const at = readUtcTime(filters[bound])
        if (at === null) invalid(bound, bound === 'since' ? t('audit.since') : t('audit.until'))
        else filter[bound] = at
      }
      const decoded = decodeTimeCursor(query.cursor)
      if (query.cursor !== undefined && decoded === null)
        throw new TesseraError('validation_failed', 'The cursor is not valid.')
      const chart = await auditTrail.countFailedSignInsPerHour(24)
      if (errors.length > 0) {
        return sendPage(reply, 400, renderAuditPage(context, { filters, errors, events: [], nextPageUrl: null, chart }))
      }
      const page = await auditTrail.queryEvents(filter, { after: toAuditCursor(decoded), limit: eventsPerPage })
      let nextPageUrl: string | null = null
      if (page.nextCursor) {
        const next = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== ''))
        next.set('cursor', encodeTimeCursor(page.nextCursor.occurredAt, page.nextCursor.id))
        nextPageUrl = `/admin/audit?${next}`
      }
      return sendPage(
        reply,
        200,
        renderAuditPage(context, { filters, errors, events: page.events, nextPageUrl, chart }),
      )
    },
  )

  app.get<{ Querystring: { cursor?: string } }>(
    '/admin/alerts',
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: { cursor: { type: 'string', maxLength: 200, pattern: '^[A-Za-z0-9_-]*$' }, ...languageOnly },
        },
      },
    },
    async (request, reply) => {
      const decoded = decodeTimeCursor(request.query.cursor)
      if (request.query.cursor !== undefined && decoded === null)
        throw new TesseraError('validation_failed', 'The cursor is not valid.')
      const page = await auditTrail.listAlerts({
        since: null,
        rule: null,
        after: decoded && { raisedAt: decoded.at, id: decoded.id },
        limit: eventsPerPage,
      })
      const nextPageUrl = page.nextCursor
        ? `/admin/alerts?cursor=${encodeTimeCursor(page.nextCursor.raisedAt, page.nextCursor.id)}`
        : null
      return sendPage(reply, 200, renderAlertsPage(contextOf(request, reply), { alerts: page.alerts, nextPageUrl }))
    },
  )

  function readAlgorithm(value: string | undefined): SigningAlgorithm {
    const algorithm = signingAlgorithms.find((known) => known === value)
    if (algorithm === undefined) throw new TesseraError('validation_failed', 'Unknown signing algorithm.')
    return algorithm
  }

  const currentAlgorithm = () =>
    tokenAdmin.listSigningKeys().find((key) => key.state === 'active')?.algorithm ?? 'EdDSA'

  app.get<{ Querystring: { notice?: string; kid?: string } }>(
    '/admin/keys',
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: {
            notice: { type: 'string', enum: ['rotated', 'emergency'] },
            kid: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' },
            ...languageOnly,
          },
        },
      },
    },
    async (request, reply) => {
      const context = contextOf(request, reply)
      const { notice, kid = '' } = request.query
      const message =
        notice === 'rotated'
          ? context.t('keys.rotated', { kid })
          : notice === 'emergency'
            ? context.t('keys.emergencyDone', { kid })
            : null
      return sendPage(
        reply,
        200,
        renderKeysPage(context, { keys: tokenAdmin.listSigningKeys(), notice: message, algorithm: currentAlgorithm() }),
      )
    },
  )

  app.post<{ Body: FormBody }>(
    '/admin/keys/rotate',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'algorithm']) } },
    async (request, reply) => {
      checkForm(request)
      const key = await tokenAdmin.rotateSigningKeys(
        { algorithm: readAlgorithm(request.body.algorithm) },
        actorOf(request),
      )
      return redirectTo(reply, `/admin/keys?notice=rotated&kid=${encodeURIComponent(key.kid)}`)
    },
  )

  app.get(
    '/admin/keys/emergency',
    { schema: { ...hiddenRoute, querystring: { type: 'object', properties: languageOnly } } },
    async (request, reply) =>
      sendPage(
        reply,
        200,
        renderEmergencyConfirmation(contextOf(request, reply), { errors: [], algorithm: currentAlgorithm() }),
      ),
  )

  app.post<{ Body: FormBody }>(
    '/admin/keys/emergency',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'algorithm', 'confirmation']) },
    },
    async (request, reply) => {
      checkForm(request)
      const context = contextOf(request, reply)
      const algorithm = readAlgorithm(request.body.algorithm)
      // A typed word, not a second click: an emergency rotation signs every user's tokens out.
      if (request.body.confirmation !== context.t('keys.confirmWord')) {
        return sendPage(
          reply,
          400,
          renderEmergencyConfirmation(context, {
            errors: [{ field: 'confirmation', message: context.t('keys.confirmWrong') }],
            algorithm,
          }),
        )
      }
      const key = await tokenAdmin.rotateSigningKeys({ algorithm, emergency: true }, actorOf(request))
      return redirectTo(reply, `/admin/keys?notice=emergency&kid=${encodeURIComponent(key.kid)}`)
    },
  )

  async function renderClients(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    state: Partial<Parameters<typeof renderClientsPage>[1]>,
  ) {
    const clients = await tokenAdmin.listServiceClients()
    return sendPage(
      reply,
      status,
      renderClientsPage(contextOf(request, reply), {
        clients,
        errors: [],
        name: '',
        notice: null,
        created: null,
        ...state,
      }),
    )
  }

  app.get<{ Querystring: { notice?: string; name?: string } }>(
    '/admin/clients',
    {
      schema: {
        ...hiddenRoute,
        querystring: {
          type: 'object',
          properties: {
            notice: { type: 'string', enum: ['deleted', 'gone'] },
            name: { type: 'string', maxLength: 64, pattern: '^[a-z0-9._-]+$' },
            ...languageOnly,
          },
        },
      },
    },
    async (request, reply) => {
      const { t } = contextOf(request, reply)
      const { notice, name = '' } = request.query
      const message =
        notice === 'deleted' ? t('clients.deleted', { name }) : notice === 'gone' ? t('clients.gone') : null
      return renderClients(request, reply, 200, { notice: message })
    },
  )

  app.post<{ Body: FormBody }>(
    '/admin/clients',
    { bodyLimit: pageBodyLimitBytes, schema: { ...hiddenRoute, body: formBodySchema(['csrf_token', 'name']) } },
    async (request, reply) => {
      checkForm(request)
      const { t } = contextOf(request, reply)
      const name = request.body.name ?? ''
      if (name === '')
        return renderClients(request, reply, 400, { errors: [{ field: 'name', message: t('clients.nameMissing') }] })
      try {
        // Answered with a page, not a redirect: the secret is in this answer (no-store) and never in a URL.
        const created = await tokenAdmin.createServiceClient(name, actorOf(request))
        return await renderClients(request, reply, 201, { created })
      } catch (error) {
        if (!(error instanceof TesseraError)) throw error
        if (error.code === 'client_name_taken')
          return renderClients(request, reply, 409, {
            name,
            errors: [{ field: 'name', message: t('clients.nameTaken') }],
          })
        if (error.code === 'validation_failed')
          return renderClients(request, reply, 400, {
            name,
            errors: [{ field: 'name', message: t('clients.nameInvalid') }],
          })
        throw error
      }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/admin/clients/:id/delete',
    { schema: { ...hiddenRoute, params: clientIdParams, querystring: { type: 'object', properties: languageOnly } } },
    async (request, reply) => {
      const client = (await tokenAdmin.listServiceClients()).find((candidate) => candidate.id === request.params.id)
      if (!client) return redirectTo(reply, '/admin/clients?notice=gone')
      return sendPage(reply, 200, renderClientDeleteConfirmation(contextOf(request, reply), client))
    },
  )

  app.post<{ Params: { id: string }; Body: FormBody }>(
    '/admin/clients/:id/delete',
    {
      bodyLimit: pageBodyLimitBytes,
      schema: { ...hiddenRoute, params: clientIdParams, body: formBodySchema(['csrf_token']) },
    },
    async (request, reply) => {
      checkForm(request)
      const deleted = await tokenAdmin.deleteServiceClient(request.params.id, actorOf(request))
      return redirectTo(
        reply,
        deleted
          ? `/admin/clients?notice=deleted&name=${encodeURIComponent(deleted.name)}`
          : '/admin/clients?notice=gone',
      )
    },
  )
}
