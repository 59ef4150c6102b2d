/**
 * One-time tickets for game-server and WebSocket handshakes. A signed-in player asks for a
 * ticket for one audience (a game server's name); the game server redeems it once, with its
 * service-client credentials, and learns who the player is. A ticket is its issue time (12 hex
 * digits of milliseconds) followed by 256 random bits; the store keeps the time and the SHA-256 of
 * the whole ticket (`ticketKeyOf`). It lives 30 seconds, is bound to its session (an ended session's
 * ticket is refused) and to its audience. Redemption removes it first, atomically: of many
 * simultaneous redemptions exactly one can succeed, and a ticket presented with the wrong
 * audience is spent too. Every refusal is the same `invalid_ticket`, so a caller learns nothing
 * of why.
 */
import type { Clock } from '../clock.ts'
import { TesseraError } from '../errors.ts'
import { createRandomToken, hashToken } from '../secrets.ts'
import type { Sessions } from '../sessions/sessions.ts'
import type { TicketStore } from '../tickets/store.ts'
import { isGuest } from '../devices/store.ts'

export const ticketLifetimeSeconds = 30
const ticketBytes = 32
const issueTimeDigits = 12

function createTicket(issuedAt: Date): string {
  return issuedAt.getTime().toString(16).padStart(issueTimeDigits, '0') + createRandomToken(ticketBytes)
}

/**
 * The store's key of a ticket: the issue time it begins with, then the SHA-256 of the whole
 * ticket. Keyed by the hash alone, every issue and every redemption changed a random page of the
 * table and of its index by session (two 4 KiB pages written to the log per ticket); tickets
 * issued together now sort together, and a turn's redemptions change a few shared pages. The
 * time is no secret (the answer gives the expiry), and the hash keeps the ticket out of the store:
 * a ticket with a forged time has a key that was never issued.
 */
export function ticketKeyOf(ticket: string): string {
  return `${ticket.slice(0, issueTimeDigits)}.${hashToken(ticket)}`
}

export interface IssuedTicket {
  ticket: string
  audience: string
  expiresAt: Date
}

export interface RedeemedTicket {
  userId: string
  sessionId: string
  roles: string[]
  /** Null for a guest account, which has none. */
  username: string | null
}

export interface TicketOperations {
  /** A ticket of the caller's session for `audience`. */
  issueTicket(caller: { userId: string; sessionId: string }, audience: string): Promise<IssuedTicket>
  /** The player behind a ticket, once; throws `invalid_ticket` for anything else. */
  redeemTicket(ticket: string, audience: string): Promise<RedeemedTicket>
}

export function createTicketOperations(deps: {
  store: TicketStore
  sessions: Sessions
  clock: Clock
}): TicketOperations {
  const { store, sessions, clock } = deps
  const refused = () => new TesseraError('invalid_ticket', 'The ticket is not valid: ask the player for a new one.')

  return {
    async issueTicket(caller, audience) {
      const issuedAt = clock.now()
      const ticket = createTicket(issuedAt)
      const expiresAt = new Date(issuedAt.getTime() + ticketLifetimeSeconds * 1000)
      await store.insertTicket({
        ticketKey: ticketKeyOf(ticket),
        sessionId: caller.sessionId,
        userId: caller.userId,
        audience,
        issuedAt,
        expiresAt,
      })
      return { ticket, audience, expiresAt }
    },

    async redeemTicket(ticket, audience) {
      const record = await store.consumeTicket(ticketKeyOf(ticket))
      if (record === null) throw refused()
      if (record.expiresAt.getTime() <= clock.now().getTime() || record.audience !== audience) throw refused()
      const active = await sessions.resolveSessionId(record.sessionId)
      if (!active || active.user.id !== record.userId) throw refused()
      const { user, session } = active
      return {
        userId: user.id,
        sessionId: session.id,
        roles: [...user.roles],
        username: isGuest(user) ? null : user.username,
      }
    },
  }
}
