/**
 * Records every 403 (a missing role, a cross-site cookie request) in the audit trail: refused
 * access is what an intruder probing an account's reach looks like (ASVS 16.3.2).
 */
import type { FastifyInstance } from 'fastify'
import type { AuditTrailOperations } from '../../core/application/audit-trail.ts'
import { TesseraError } from '../../core/errors.ts'
import { readClientContext } from '../request-context.ts'

export function registerAuditedDenials(
  app: FastifyInstance,
  auditTrail: Pick<AuditTrailOperations, 'recordAccessDenied'>,
): void {
  app.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof TesseraError) || (error.code !== 'forbidden' && error.code !== 'csrf_rejected')) return
    try {
      await auditTrail.recordAccessDenied({
        reason: error.code === 'forbidden' ? 'missing_role' : 'cross_site',
        actorUserId: request.auth?.user.id ?? null,
        subjectUserId: request.auth?.user.id ?? null,
        sessionId: request.auth?.session.id ?? null,
        details: { method: request.method, route: request.routeOptions.url ?? '(unmatched)' },
        context: readClientContext(request),
      })
    } catch (recordError) {
      // The request is refused either way; the observer has already logged the event.
      request.log.error({ err: recordError }, 'could not record a refused request')
    }
  })
}
