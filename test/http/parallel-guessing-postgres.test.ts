/**
 * Parallel guessing (test/helpers/parallel-guessing.ts) with the throttle counters in PostgreSQL.
 */
import { skipUnlessPostgres } from '../helpers/backends.ts'
import { openTestPostgresStores } from '../helpers/postgres.ts'
import { describeParallelGuessing } from '../helpers/parallel-guessing.ts'

describeParallelGuessing({
  name: 'PostgreSQL',
  skip: await skipUnlessPostgres(),
  openStores: (now) => openTestPostgresStores({ now }),
})
