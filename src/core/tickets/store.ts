/**
 * One-time tickets: a signed-in player asks for one and hands it to a game server (a WebSocket
 * handshake, a match server), which redeems it once with its service-client credentials. The
 * store keeps a key derived from the ticket, never the ticket itself, beside the sessions (Redis
 * when they are there).
 */
export interface TicketRecord {
  /**
   * The ticket's issue time as it begins the ticket, then the SHA-256 of the whole ticket: unique,
   * and ordered by issue time, so that tickets issued and redeemed together share index pages.
   */
  ticketKey: string
  sessionId: string
  userId: string
  /** Who may redeem it: the name a game server presents at redemption. */
  audience: string
  issuedAt: Date
  expiresAt: Date
}

export interface TicketStore {
  /** Inserts a ticket; its key is unique. */
  insertTicket(ticket: TicketRecord): Promise<void>
  /**
   * Removes the ticket and returns it, in one atomic step: of any number of simultaneous calls
   * with one key, exactly one gets the record. Null when there is none (already redeemed, never
   * issued, or removed after its expiry).
   */
  consumeTicket(ticketKey: string): Promise<TicketRecord | null>
  /** Deletes tickets expired at `now`; returns how many (a store that expires by itself returns 0). */
  deleteExpiredTickets(now: Date): Promise<number>
}
