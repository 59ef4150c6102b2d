/**
 * Parallel guessing (test/helpers/parallel-guessing.ts) with the throttle counters in SQLite.
 */
import { openSqliteStores } from '../../src/storage/sqlite/open.ts'
import { describeParallelGuessing } from '../helpers/parallel-guessing.ts'

describeParallelGuessing({ name: 'SQLite', skip: false, openStores: async (now) => openSqliteStores(':memory:', now) })
