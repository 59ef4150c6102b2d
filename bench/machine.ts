/** What the figures were measured on; they mean little without it. */
import { arch, availableParallelism, cpus, loadavg, platform, totalmem } from 'node:os'

export interface MachineInfo {
  cores: number
  cpuModel: string
  nodeVersion: string
  platform: string
  arch: string
  totalMemoryGiB: number
  /** libuv's pool, shared by argon2 and WebCrypto in the server. */
  uvThreadpoolSize: number
  loadAverage1m: number
}

export function describeMachine(): MachineInfo {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    nodeVersion: process.version,
    platform: platform(),
    arch: arch(),
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    loadAverage1m: loadavg()[0] ?? 0,
  }
}
