import type { TicketRecord, TicketStore } from '../../core/tickets/store.ts'
import type { Row, SqlSession } from './database.ts'

function toTicket(row: Row): TicketRecord {
  return {
    ticketKey: String(row.ticket_key),
    sessionId: String(row.session_id),
    userId: String(row.user_id),
    audience: String(row.audience),
    issuedAt: new Date(row.issued_at as Date),
    expiresAt: new Date(row.expires_at as Date),
  }
}

export function createPostgresTicketStore(db: SqlSession): TicketStore {
  return {
    async insertTicket(ticket) {
      await db.query(
        `INSERT INTO tickets (ticket_key, session_id, user_id, audience, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [ticket.ticketKey, ticket.sessionId, ticket.userId, ticket.audience, ticket.issuedAt, ticket.expiresAt],
      )
    },

    async consumeTicket(ticketKey) {
      // The row lock makes one DELETE win; a concurrent one finds the row gone and returns nothing.
      const [row] = await db.query('DELETE FROM tickets WHERE ticket_key = $1 RETURNING *', [ticketKey])
      return row ? toTicket(row) : null
    },

    async deleteExpiredTickets(now) {
      return (await db.query('DELETE FROM tickets WHERE expires_at <= $1 RETURNING ticket_key', [now])).length
    },
  }
}
