/**
 * libuv's thread pool runs argon2 and WebCrypto (JWT signing and verification) alike. Password
 * hashes are bounded by TESSERA_HASH_CONCURRENCY; the pool gets two threads more than that so
 * token work never waits behind a queue of hashes. The size only takes effect before the pool's
 * first use, so this runs first thing at start.
 */
import { randomFill } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { setPriority } from 'node:os'

const defaultPoolSize = 4

export function reserveThreadPool(
  hashConcurrency: number,
  env: Record<string, string | undefined> = process.env,
): number {
  const configured = Number(env.UV_THREADPOOL_SIZE) || defaultPoolSize
  const size = Math.min(1024, Math.max(configured, hashConcurrency + 2))
  env.UV_THREADPOOL_SIZE = String(size)
  return size
}

/** Niceness of the pool threads: below the event loop, which answers verified requests. */
export const poolThreadNiceness = 10

/**
 * Lowers the priority of libuv's pool threads (Linux), where argon2id runs: during a login flood
 * the kernel then gives the event loop its CPU first, so requests that carry a valid token or
 * session are not slowed by hashes, and the hashes use what is left. The threads exist from the
 * pool's first use, so one small job is run first. Returns the threads changed (none off Linux).
 */
export async function lowerThreadPoolPriority(): Promise<number> {
  await new Promise<void>((resolve, reject) =>
    randomFill(Buffer.alloc(1), (error) => (error ? reject(error) : resolve())),
  )
  let threads: string[]
  try {
    threads = readdirSync('/proc/self/task')
  } catch {
    return 0
  }
  let changed = 0
  for (const thread of threads) {
    try {
      if (readFileSync(`/proc/self/task/${thread}/comm`, 'utf8').trim() !== 'libuv-worker') continue
      // On Linux, setpriority() with a thread id changes that thread alone.
      setPriority(Number(thread), poolThreadNiceness)
      changed += 1
    } catch {
      // A thread that ended meanwhile, or a system that refuses: the default scheduling stays.
    }
  }
  return changed
}
