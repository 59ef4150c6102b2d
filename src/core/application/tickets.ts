/**
 * One-time tickets for game-server and WebSocket handshakes. A signed-in player asks for a
 * ticket for one audience (a game server's name); the game server redeems it once, with its
 * service-client credentials, and learns who the player is. A ticket is 256 random bits of which
 * the store keeps the SHA-256; it lives 30 seconds, is bound to its session (an ended session's
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
      const ticket = createRandomToken(ticketBytes)
      const issuedAt = clock.now()
      const expiresAt = new Date(issuedAt.getTime() + ticketLifetimeSeconds * 1000)
      await store.insertTicket({
        ticketHash: hashToken(ticket),
        sessionId: caller.sessionId,
        userId: caller.userId,
        audience,
        issuedAt,
        expiresAt,
      })
      return { ticket, audience, expiresAt }
    },

    async redeemTicket(ticket, audience) {
      const record = await store.consumeTicket(hashToken(ticket))
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
