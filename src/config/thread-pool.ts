/**
 * libuv's thread pool runs argon2 and WebCrypto (JWT signing and verification) alike. Password
 * hashes are bounded by TESSERA_HASH_CONCURRENCY; the pool gets two threads more than that so
 * token work never waits behind a queue of hashes. The size only takes effect before the pool's
 * first use, so this runs first thing at start.
 */
const defaultPoolSize = 4

export function reserveThreadPool(hashConcurrency: number, env: Record<string, string | undefined> = process.env): number {
  const configured = Number(env.UV_THREADPOOL_SIZE) || defaultPoolSize
  const size = Math.min(1024, Math.max(configured, hashConcurrency + 2))
  env.UV_THREADPOOL_SIZE = String(size)
  return size
}
