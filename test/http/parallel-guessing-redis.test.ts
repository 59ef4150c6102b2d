/**
 * Parallel guessing (test/helpers/parallel-guessing.ts) with the throttle counters in Redis.
 */
import { skipUnlessRedis } from '../helpers/backends.ts'
import { createTestRedisSettings, openTestRedisStores } from '../helpers/redis.ts'
import { describeParallelGuessing } from '../helpers/parallel-guessing.ts'

describeParallelGuessing({
  name: 'Redis',
  skip: await skipUnlessRedis(),
  openStores: (now) => openTestRedisStores(createTestRedisSettings(), now),
})
