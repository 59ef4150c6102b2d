/**
 * The email store on SQLite and PostgreSQL: outcomes of setting an address, the prefix search,
 * tokens replaced by newer ones, consumed once under a burst, expired, and deleted with the account.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it, type TestContext } from 'node:test'
import type { EmailRecord } from '../../src/core/email/store.ts'
import type { BackendStores } from '../../src/core/stores.ts'
import { contractEpoch, insertTestUser } from '../../src/storage/contract/records.ts'
import { openSqliteStores, sqliteFileName } from '../../src/storage/sqlite/open.ts'
import { skipUnlessPostgres } from '../helpers/backends.ts'
import { openTestPostgresStores } from '../helpers/postgres.ts'

interface Backend {
  name: string
  skip: string | false
  open(t: TestContext): Promise<{ stores: BackendStores; deleteUser(id: string): Promise<void> }>
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    skip: false,
    async open(t) {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-email-store-'))
      const stores = openSqliteStores(dir, contractEpoch)
      t.after(async () => {
        await stores.close()
        rmSync(dir, { recursive: true, force: true })
      })
      return {
        stores,
        async deleteUser(id) {
          const db = new DatabaseSync(join(dir, sqliteFileName))
          db.exec('PRAGMA foreign_keys = ON')
          db.prepare('DELETE FROM user_roles WHERE user_id = ?').run(id)
          db.prepare('DELETE FROM users WHERE id = ?').run(id)
          db.close()
        },
      }
    },
  },
  {
    name: 'PostgreSQL',
    skip: await skipUnlessPostgres(),
    async open(t) {
      const stores = await openTestPostgresStores({ now: contractEpoch })
      t.after(() => stores.close())
      return {
        stores,
        async deleteUser(id) {
          await stores.database.query('DELETE FROM users WHERE id = $1', [id])
        },
      }
    },
  },
]

const at = (seconds: number) => new Date(contractEpoch.getTime() + seconds * 1000)

function address(userId: string, text: string, verifiedAt: Date | null = null): EmailRecord {
  return { userId, address: text, addressKey: text.toLowerCase(), verifiedAt, language: 'en', updatedAt: contractEpoch }
}

for (const backend of backends) {
  describe(`email store (${backend.name})`, { skip: backend.skip }, () => {
    it('sets, keeps, refuses a taken key, and forgets the verification with a new address', async (t) => {
      const { stores } = await backend.open(t)
      const ann = await insertTestUser(stores.accounts, { usernameKey: 'ann' })
      const bob = await insertTestUser(stores.accounts, { usernameKey: 'bob' })
      assert.equal(await stores.emails.setEmail(address(ann.id, 'Ann@example.com', at(1))), 'set')
      assert.equal(await stores.emails.setEmail(address(ann.id, 'ANN@example.com')), 'unchanged')
      assert.deepEqual((await stores.emails.findEmail(ann.id))?.verifiedAt, at(1))
      assert.equal(await stores.emails.setEmail(address(bob.id, 'ann@EXAMPLE.com'.toLowerCase())), 'email_taken')
      assert.equal(
        await stores.emails.setEmail(address('00000000-0000-4000-8000-000000000000', 'x@example.com')),
        'no_user',
      )
      assert.equal(await stores.emails.setEmail(address(ann.id, 'ann2@example.com')), 'set')
      assert.equal((await stores.emails.findEmail(ann.id))?.verifiedAt, null)
      assert.equal(await stores.emails.findEmailByKey('ann@example.com'), null)
      assert.equal(await stores.emails.setEmail(address(bob.id, 'ann@example.com')), 'set')
    })

    it('finds addresses by key prefix, where _ and % match themselves', async (t) => {
      const { stores } = await backend.open(t)
      for (const [name, text] of [
        ['a', 'a_b@example.com'],
        ['b', 'axb@example.com'],
        ['c', 'a%c@example.com'],
        ['d', 'zed@example.com'],
      ]) {
        const user = await insertTestUser(stores.accounts, { usernameKey: name ?? '' })
        await stores.emails.setEmail(address(user.id, text ?? ''))
      }
      assert.deepEqual(
        (await stores.emails.findEmailsByKeyPrefix('a_', 10)).map((email) => email.addressKey),
        ['a_b@example.com'],
      )
      assert.deepEqual(
        (await stores.emails.findEmailsByKeyPrefix('a%', 10)).map((email) => email.addressKey),
        ['a%c@example.com'],
      )
      assert.deepEqual(
        (await stores.emails.findEmailsByKeyPrefix('a', 2)).map((email) => email.addressKey),
        ['a%c@example.com', 'a_b@example.com'],
      )
    })

    it('replaces a token with a newer one, gives it to one of 50 simultaneous consumers, and expires it', async (t) => {
      const { stores } = await backend.open(t)
      const user = await insertTestUser(stores.accounts, { usernameKey: 'tok' })
      const token = (hash: string, expiresAt: Date) => ({
        tokenHash: hash,
        userId: user.id,
        purpose: 'password_reset' as const,
        binding: 'b',
        createdAt: contractEpoch,
        expiresAt,
      })
      await stores.emails.saveEmailToken(token('old', at(900)))
      await stores.emails.saveEmailToken(token('new', at(900)))
      assert.equal(await stores.emails.findEmailToken('old', 'password_reset', at(1)), null)
      assert.equal(await stores.emails.findEmailToken('new', 'email_verification', at(1)), null)
      const consumed = await Promise.all(
        Array.from({ length: 50 }, () => stores.emails.consumeEmailToken('new', 'password_reset', at(1))),
      )
      assert.equal(consumed.filter((record) => record !== null).length, 1)
      await stores.emails.saveEmailToken(token('late', at(900)))
      assert.equal(await stores.emails.consumeEmailToken('late', 'password_reset', at(900)), null)
      assert.equal(await stores.emails.deleteExpiredEmailTokens(at(900)), 1)
    })

    it('deletes the address and the tokens with the account', async (t) => {
      const { stores, deleteUser } = await backend.open(t)
      const user = await insertTestUser(stores.accounts, { usernameKey: 'gone' })
      await stores.emails.setEmail(address(user.id, 'gone@example.com'))
      await stores.emails.saveEmailToken({
        tokenHash: 'h',
        userId: user.id,
        purpose: 'email_verification',
        binding: 'gone@example.com',
        createdAt: contractEpoch,
        expiresAt: at(60),
      })
      await deleteUser(user.id)
      assert.equal(await stores.emails.findEmailByKey('gone@example.com'), null)
      assert.equal(await stores.emails.findEmailToken('h', 'email_verification', at(1)), null)
    })
  })
}
