/**
 * One-time tickets in Redis:
 *
 *   P:ticket:{key}   string: the ticket record as JSON; expires by TTL at the ticket's expiry
 *
 * Redemption is GETDEL: one command that returns and deletes, so of many simultaneous
 * redemptions exactly one gets the record, on a single server or a Cluster (one key).
 */
import type { TicketRecord, TicketStore } from '../../core/tickets/store.ts'
import type { RedisConnection } from './connection.ts'

function toTicket(ticketKey: string, text: string): TicketRecord | null {
  const value = JSON.parse(text) as Record<string, unknown>
  const { sessionId, userId, audience, issuedAt, expiresAt } = value
  if (typeof sessionId !== 'string' || typeof userId !== 'string' || typeof audience !== 'string') return null
  if (typeof issuedAt !== 'number' || typeof expiresAt !== 'number') return null
  return { ticketKey, sessionId, userId, audience, issuedAt: new Date(issuedAt), expiresAt: new Date(expiresAt) }
}

export function createRedisTicketStore(redis: RedisConnection, keyPrefix: string): TicketStore {
  const redisKeyOf = (ticketKey: string) => `${keyPrefix}:ticket:{${ticketKey}}`
  return {
    async insertTicket(ticket) {
      const key = redisKeyOf(ticket.ticketKey)
      const ttlMs = Math.max(1000, ticket.expiresAt.getTime() - ticket.issuedAt.getTime())
      const value = JSON.stringify({
        sessionId: ticket.sessionId,
        userId: ticket.userId,
        audience: ticket.audience,
        issuedAt: ticket.issuedAt.getTime(),
        expiresAt: ticket.expiresAt.getTime(),
      })
      const set = await redis.command<string | null>(key, ['SET', key, value, 'PX', String(ttlMs), 'NX'])
      if (set === null) throw new Error('a ticket with this key exists')
    },

    async consumeTicket(ticketKey) {
      const key = redisKeyOf(ticketKey)
      const text = await redis.command<string | null>(key, ['GETDEL', key])
      return text === null ? null : toTicket(ticketKey, text)
    },

    // Redis expires tickets by their TTL.
    async deleteExpiredTickets() {
      return 0
    },
  }
}
