/**
 * Times argon2id in this process with the server's parameters, to turn into the
 * hash-bound login limit: cores ÷ seconds per hash. Runs one hash at a time so the figure is the
 * single-core cost, and before the server starts so the server does not compete for the CPU.
 */
import { argon2, randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { median } from './statistics.ts'

export interface Argon2Parameters {
  memoryKiB: number
  passes: number
  parallelism: number
}

export interface Argon2Timing {
  parameters: Argon2Parameters
  runs: number
  medianMs: number
  minMs: number
  maxMs: number
  cores: number
  /** Logins per second the CPUs could hash if they did nothing else. */
  hashBoundLoginsPerSecond: number
  /**
   * Hashes per second with one hash per core running back to back. Lower than the limit above
   * when concurrent hashes slow each other down (they share caches and memory bandwidth).
   */
  parallelHashesPerSecond: number
}

/** The server's defaults (TESSERA_ARGON2_MEMORY_KIB, _PASSES, _PARALLELISM). */
const warmupRuns = 6

export const serverArgon2Parameters: Argon2Parameters = { memoryKiB: 19456, passes: 2, parallelism: 1 }

function deriveOnce(parameters: Argon2Parameters): Promise<number> {
  const startedAt = performance.now()
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from('correct horse battery staple'),
        nonce: randomBytes(16),
        memory: parameters.memoryKiB,
        passes: parameters.passes,
        parallelism: parameters.parallelism,
        tagLength: 32,
      },
      (error) => (error ? reject(error) : resolve(performance.now() - startedAt)),
    )
  })
}

async function measureParallelThroughput(
  parameters: Argon2Parameters,
  chains: number,
  seconds: number,
): Promise<number> {
  const startedAt = performance.now()
  const endAt = startedAt + seconds * 1000
  let completed = 0
  const runChain = async () => {
    while (performance.now() < endAt) {
      await deriveOnce(parameters)
      completed += 1
    }
  }
  await Promise.all(Array.from({ length: chains }, runChain))
  return completed / ((performance.now() - startedAt) / 1000)
}

/** Sorted durations of `runs` hashes, one at a time, after a few uncounted ones. */
async function timeSequentialHashes(parameters: Argon2Parameters, runs: number): Promise<number[]> {
  // The first hashes of a process are slower (the ~19 MiB block is freshly mapped and faulted in
  // on each libuv thread); a server under a login load is past that, so they are not counted.
  for (let run = 0; run < warmupRuns; run += 1) await deriveOnce(parameters)
  const durationsMs: number[] = []
  for (let run = 0; run < runs; run += 1) durationsMs.push(await deriveOnce(parameters))
  return durationsMs.sort((a, b) => a - b)
}

/**
 * The median hash time again, to compare with the one taken before the run: on a shared virtual
 * machine the CPU can slow down mid-run without any process of this machine showing for it.
 */
export async function measureArgon2MedianMs(parameters: Argon2Parameters, runs: number): Promise<number> {
  return median(await timeSequentialHashes(parameters, runs))
}

export async function measureArgon2(options: {
  runs: number
  parallelSeconds: number
  parameters: Argon2Parameters
}): Promise<Argon2Timing> {
  const { parameters } = options
  const durationsMs = await timeSequentialHashes(parameters, options.runs)
  const medianMs = median(durationsMs)
  const cores = availableParallelism()
  return {
    parameters,
    runs: options.runs,
    medianMs,
    minMs: durationsMs[0] ?? 0,
    maxMs: durationsMs.at(-1) ?? 0,
    cores,
    hashBoundLoginsPerSecond: cores / (medianMs / 1000),
    parallelHashesPerSecond: await measureParallelThroughput(parameters, cores, options.parallelSeconds),
  }
}
