/** The durable store contract on SQLite in memory. */
import { describe } from 'node:test'
import { contractEpoch } from '../../src/storage/contract/records.ts'
import { testDurableBackendStores } from '../../src/storage/contract/backend-stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'

describe('SQLite stores in memory', () => {
  testDurableBackendStores(async () => openSqliteStores(':memory:', contractEpoch), { isInsideUnitOfWork: false })
})
