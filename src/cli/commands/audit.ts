/**
 * `tessera audit query`, `tessera audit tail` and `tessera audit alerts`: the audit trail and
 * the alerts, read from the data directory (beside a running server: SQLite's WAL lets readers
 * in). `tail` polls for new events until it has printed `--count` events or `--for` has passed,
 * or until it is interrupted.
 */
import { parseArgs } from 'node:util'
import { loadConfig, parseDurationSeconds } from '../../config/load.ts'
import type { AuditTrailOperations } from '../../core/application/audit-trail.ts'
import {
  isAuditEventType,
  isAuditOutcome,
  type AuditCursor,
  type AuditEventFilter,
  type AuditEventRecord,
} from '../../core/application/types.ts'
import { exitCodes, usageError } from '../errors.ts'
import { formatJson, formatTable } from '../format.ts'
import type { Io } from '../io.ts'
import { withApplication } from '../open-core.ts'
import type { AccountAdministration } from '../../core/application/account-admin.ts'
import { commandUsages } from '../usage.ts'

const filterOptions = {
  user: { type: 'string' },
  type: { type: 'string', multiple: true },
  outcome: { type: 'string' },
  ip: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const

function readInstant(name: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const instant = new Date(text)
  if (Number.isNaN(instant.getTime()))
    throw usageError(`audit: --${name} expects an ISO 8601 time such as 2030-01-01T00:00:00Z.`)
  return instant
}

/**
 * `--user` names a user by id or username (an unknown one is an error, not an empty answer), or
 * a deleted account by its `~` pseudonym.
 */
async function resolveFilterUser(
  filter: AuditEventFilter,
  accountAdmin: Pick<AccountAdministration, 'resolveUser'>,
): Promise<AuditEventFilter> {
  if (filter.userId === undefined || filter.userId.startsWith('~')) return filter
  return { ...filter, userId: (await accountAdmin.resolveUser(filter.userId)).id }
}

function readFilter(values: {
  user?: string
  type?: string[]
  outcome?: string
  ip?: string
  since?: string
  until?: string
}): AuditEventFilter {
  const types = values.type ?? []
  const unknown = types.find((type) => !isAuditEventType(type))
  if (unknown !== undefined) throw usageError(`audit: unknown event type "${unknown}".`)
  if (values.outcome !== undefined && !isAuditOutcome(values.outcome))
    throw usageError('audit: --outcome is success or failure.')
  const since = readInstant('since', values.since)
  const until = readInstant('until', values.until)
  return {
    ...(values.user === undefined ? {} : { userId: values.user }),
    ...(types.length === 0 ? {} : { types: types.filter(isAuditEventType) }),
    ...(values.outcome !== undefined && isAuditOutcome(values.outcome) ? { outcome: values.outcome } : {}),
    ...(values.ip === undefined ? {} : { ip: values.ip }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  }
}

function readCount(name: string, text: string | undefined, fallback: number | null): number | null {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) < 1) throw usageError(`audit: --${name} expects a positive whole number.`)
  return Number(text)
}

/** One event as a JSON line, the shape of the HTTP export. */
function formatEventLine(event: AuditEventRecord): string {
  return `${JSON.stringify({
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    type: event.type,
    outcome: event.outcome,
    reason: event.reason,
    actor_user_id: event.actorUserId,
    subject_user_id: event.subjectUserId,
    username: event.username,
    ip: event.ip,
    user_agent: event.userAgent,
    session_id: event.sessionId,
    request_id: event.requestId,
    node_id: event.nodeId,
    details: event.details,
  })}\n`
}

function formatEventRows(events: readonly AuditEventRecord[]): string {
  const rows = events.map((event) => [
    event.occurredAt.toISOString(),
    event.type,
    event.outcome,
    event.reason ?? '-',
    event.username ?? event.subjectUserId ?? '-',
    event.ip ?? '-',
    event.sessionId ?? '-',
  ])
  return `${formatTable([['TIME', 'TYPE', 'OUTCOME', 'REASON', 'USER', 'IP', 'SESSION'], ...rows])}\n`
}

async function queryEvents(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...filterOptions, limit: { type: 'string' }, jsonl: { type: 'boolean', default: false } },
    allowPositionals: true,
  })
  if (values.help) return printUsage(io)
  if (positionals.length > 0) throw usageError('audit query: takes no arguments.')
  const filter = readFilter(values)
  const limit = readCount('limit', values.limit, 50) ?? 50
  const events = await withApplication(
    loadConfig(io.env),
    { io, access: 'read' },
    async ({ auditTrail, accountAdmin }) =>
      (await auditTrail.queryEvents(await resolveFilterUser(filter, accountAdmin), { after: null, limit })).events,
  )
  if (values.jsonl) io.stdout(events.map(formatEventLine).join(''))
  else if (events.length === 0) io.stdout('No events.\n')
  else io.stdout(formatEventRows(events))
  return exitCodes.success
}

async function followEvents(
  auditTrail: AuditTrailOperations,
  filter: AuditEventFilter,
  options: { intervalMs: number; count: number | null; forMs: number | null; io: Io },
) {
  const { intervalMs, count, forMs, io } = options
  const startedAt = Date.now()
  let after: AuditCursor | null = null
  const since = filter.since ?? new Date()
  let printed = 0
  for (;;) {
    const page = await auditTrail.queryEvents({ ...filter, since }, { order: 'oldest_first', after, limit: 500 })
    for (const event of page.events) {
      io.stdout(formatEventLine(event))
      printed += 1
      after = { occurredAt: event.occurredAt, id: event.id }
      if (count !== null && printed >= count) return
    }
    if (forMs !== null && Date.now() - startedAt >= forMs) return
    if (page.nextCursor === null) await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

async function tailEvents(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...filterOptions, interval: { type: 'string' }, count: { type: 'string' }, for: { type: 'string' } },
    allowPositionals: true,
  })
  if (values.help) return printUsage(io)
  if (positionals.length > 0) throw usageError('audit tail: takes no arguments.')
  const filter = readFilter(values)
  const intervalSeconds = values.interval === undefined ? 1 : parseDurationSeconds(values.interval)
  const forSeconds = values.for === undefined ? null : parseDurationSeconds(values.for)
  if (intervalSeconds === null || intervalSeconds <= 0)
    throw usageError('audit tail: --interval expects a duration such as 500ms or 2s.')
  if (values.for !== undefined && forSeconds === null)
    throw usageError('audit tail: --for expects a duration such as 30s or 10m.')
  const count = readCount('count', values.count, null)
  await withApplication(loadConfig(io.env), { io, access: 'read' }, async ({ auditTrail, accountAdmin }) =>
    followEvents(auditTrail, await resolveFilterUser(filter, accountAdmin), {
      intervalMs: intervalSeconds * 1000,
      count,
      forMs: forSeconds === null ? null : forSeconds * 1000,
      io,
    }),
  )
  return exitCodes.success
}

async function listAlerts(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      since: { type: 'string' },
      rule: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  })
  if (values.help) return printUsage(io)
  if (positionals.length > 0) throw usageError('audit alerts: takes no arguments.')
  const since = readInstant('since', values.since) ?? null
  const limit = readCount('limit', values.limit, 50) ?? 50
  const { alerts } = await withApplication(loadConfig(io.env), { io, access: 'read' }, ({ auditTrail }) =>
    auditTrail.listAlerts({ since, rule: values.rule ?? null, after: null, limit }),
  )
  if (values.json) {
    io.stdout(formatJson({ alerts }))
  } else if (alerts.length === 0) {
    io.stdout('No alerts.\n')
  } else {
    const rows = alerts.map((alert) => [
      alert.raisedAt.toISOString(),
      alert.severity,
      alert.rule,
      alert.deliveryState,
      alert.summary,
    ])
    io.stdout(`${formatTable([['RAISED', 'SEVERITY', 'RULE', 'WEBHOOK', 'SUMMARY'], ...rows])}\n`)
  }
  return exitCodes.success
}

function printUsage(io: Io): number {
  io.stdout(commandUsages.audit)
  return exitCodes.success
}

export async function run(args: string[], io: Io): Promise<number> {
  const [subcommand, ...rest] = args
  switch (subcommand) {
    case 'query':
      return queryEvents(rest, io)
    case 'tail':
      return tailEvents(rest, io)
    case 'alerts':
      return listAlerts(rest, io)
    case undefined:
      throw usageError('audit: missing subcommand (query, tail or alerts).')
    case '-h':
    case '--help':
      return printUsage(io)
    default:
      throw usageError(`audit: unknown subcommand "${subcommand}" (expected query, tail or alerts).`)
  }
}
