/**
 * The TicketStore contract: every backend must pass it. Consuming a ticket removes and returns it
 * in one atomic step, so of any number of simultaneous consumers exactly one gets it.
 * `expiresByItself`: the store drops expired tickets on its own (Redis TTLs); its sweep has
 * nothing to do.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { TicketRecord } from '../../core/tickets/store.ts'
import {
  buildTokenSessionRecord,
  contractEpoch,
  insertTestUser,
  openStoresForTest,
  secondsAfterEpoch,
  type OpenStores,
} from './records.ts'

function buildTicket(overrides: Partial<TicketRecord> & { sessionId: string; userId: string }): TicketRecord {
  return {
    ticketKey: `ticket-key-${randomUUID()}`,
    audience: 'match-server',
    issuedAt: contractEpoch,
    expiresAt: secondsAfterEpoch(30),
    ...overrides,
  }
}

export function testTicketStore(openStores: OpenStores, options: { expiresByItself?: boolean } = {}): void {
  describe('TicketStore', () => {
    async function openWithSession(t: Parameters<typeof openStoresForTest>[0]) {
      const stores = await openStoresForTest(t, openStores)
      const user = await insertTestUser(stores.accounts)
      const session = buildTokenSessionRecord({ userId: user.id })
      await stores.sessions.insertSession(session)
      return { stores, tickets: stores.tickets, sessionId: session.id, userId: user.id }
    }

    it('consumeTicket() returns an inserted ticket once, then null', async (t) => {
      const { tickets, sessionId, userId } = await openWithSession(t)
      const ticket = buildTicket({ sessionId, userId })
      await tickets.insertTicket(ticket)
      assert.deepEqual(await tickets.consumeTicket(ticket.ticketKey), ticket)
      assert.equal(await tickets.consumeTicket(ticket.ticketKey), null)
    })

    it('consumeTicket() of an unknown key is null', async (t) => {
      const { tickets } = await openWithSession(t)
      assert.equal(await tickets.consumeTicket('never-issued'), null)
    })

    it('insertTicket() refuses a hash that is already known', async (t) => {
      const { tickets, sessionId, userId } = await openWithSession(t)
      const ticket = buildTicket({ sessionId, userId })
      await tickets.insertTicket(ticket)
      await assert.rejects(tickets.insertTicket({ ...ticket, audience: 'other' }))
      assert.equal((await tickets.consumeTicket(ticket.ticketKey))?.audience, 'match-server')
    })

    it('of 100 simultaneous consumeTicket() calls exactly one gets the ticket', async (t) => {
      const { tickets, sessionId, userId } = await openWithSession(t)
      const ticket = buildTicket({ sessionId, userId })
      await tickets.insertTicket(ticket)
      const results = await Promise.all(Array.from({ length: 100 }, () => tickets.consumeTicket(ticket.ticketKey)))
      assert.equal(results.filter((result) => result !== null).length, 1)
    })

    it(
      'deleteExpiredTickets() removes tickets expired at now and keeps the others',
      { skip: options.expiresByItself },
      async (t) => {
        const { tickets, sessionId, userId } = await openWithSession(t)
        const expired = buildTicket({ sessionId, userId, expiresAt: secondsAfterEpoch(10) })
        const live = buildTicket({ sessionId, userId, expiresAt: secondsAfterEpoch(40) })
        await tickets.insertTicket(expired)
        await tickets.insertTicket(live)
        assert.equal(await tickets.deleteExpiredTickets(secondsAfterEpoch(10)), 1)
        assert.equal(await tickets.consumeTicket(expired.ticketKey), null)
        assert.deepEqual(await tickets.consumeTicket(live.ticketKey), live)
      },
    )
  })
}
