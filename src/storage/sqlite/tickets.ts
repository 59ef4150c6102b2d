import type { DatabaseSync } from 'node:sqlite'
import type { TicketRecord, TicketStore } from '../../core/tickets/store.ts'

function toTicket(row: Record<string, unknown>): TicketRecord {
  return {
    ticketKey: String(row.ticket_key),
    sessionId: String(row.session_id),
    userId: String(row.user_id),
    audience: String(row.audience),
    issuedAt: new Date(Number(row.issued_at)),
    expiresAt: new Date(Number(row.expires_at)),
  }
}

export function createSqliteTicketStore(db: DatabaseSync): TicketStore {
  const insert = db.prepare(`INSERT INTO tickets (ticket_key, session_id, user_id, audience, issued_at, expires_at)
    VALUES (?, ?, ?, ?, ?, ?)`)
  // One statement removes and returns: the single use is decided by whichever call deletes the row.
  const consume = db.prepare('DELETE FROM tickets WHERE ticket_key = ? RETURNING *')
  const deleteExpired = db.prepare('DELETE FROM tickets WHERE expires_at <= ?')

  return {
    async insertTicket(ticket) {
      insert.run(
        ticket.ticketKey,
        ticket.sessionId,
        ticket.userId,
        ticket.audience,
        ticket.issuedAt.getTime(),
        ticket.expiresAt.getTime(),
      )
    },

    async consumeTicket(ticketKey) {
      const row = consume.get(ticketKey)
      return row ? toTicket(row) : null
    },

    async deleteExpiredTickets(now) {
      return Number(deleteExpired.run(now.getTime()).changes)
    },
  }
}
