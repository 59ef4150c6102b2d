/** The durable store contract on SQLite in a file. */
import { after, describe } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { contractEpoch } from '../../src/storage/contract/records.ts'
import { testDurableBackendStores } from '../../src/storage/contract/backend-stores.ts'
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'

const root = mkdtempSync(join(tmpdir(), 'tessera-sqlite-contract-'))
after(() => rmSync(root, { recursive: true, force: true }))
const createDataDir = () => join(mkdtempSync(join(root, 'case-')), 'data')

describe('SQLite stores in a file', () => {
  testDurableBackendStores(async () => openSqliteStores(createDataDir(), contractEpoch), { isInsideUnitOfWork: false })
})
