/**
 * One Redis key prefix belongs to one Tessera deployment. The first node to start records the
 * deployment's id under the prefix; a node whose id differs is refused at start, before it can
 * read or overwrite anything: nodes of one deployment share `master.key`, so a different id means
 * another deployment (typically a second node with its own SQLite file and its own master key,
 * which would share sessions and counters with the first but not its users).
 */
import type { RedisConnection } from './connection.ts'

export class RedisDeploymentConflictError extends Error {
  constructor(keyPrefix: string) {
    super(
      `TESSERA_REDIS_URL: the key prefix "${keyPrefix}" on this Redis belongs to another Tessera deployment ` +
        '(its master.key differs). Nodes of one deployment share master.key, and TESSERA_DATABASE_URL when there are ' +
        'several; give another deployment its own TESSERA_REDIS_KEY_PREFIX.',
    )
    this.name = 'RedisDeploymentConflictError'
  }
}

/** Records `deploymentId` under the prefix, or checks it against the one recorded; throws on a mismatch. */
export async function claimRedisPrefix(redis: RedisConnection, keyPrefix: string, deploymentId: string): Promise<void> {
  const key = `${keyPrefix}:deployment`
  const isNew = await redis.command<string | null>(key, ['SET', key, deploymentId, 'NX'])
  if (isNew !== null) return
  const recorded = await redis.command<string | null>(key, ['GET', key])
  // A key deleted between the two commands (an operator's FLUSHDB) leaves nothing to conflict with.
  if (recorded !== null && recorded !== deploymentId) throw new RedisDeploymentConflictError(keyPrefix)
}
