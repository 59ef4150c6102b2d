/**
 * A process's resident memory split as Linux counts it (/proc/PID/status): anonymous pages
 * (heaps, stacks: what the process itself allocated) and file-backed pages (code, and the
 * SQLite database mapped with mmap_size, which the kernel can drop and read again at will).
 */
import { readFileSync } from 'node:fs'

export interface ResidentMemory {
  rssMiB: number
  anonymousMiB: number
  fileMiB: number
  sharedMemoryMiB: number
}

function readKiB(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
  return match ? Number(match[1]) : 0
}

/** Null off Linux or once the process is gone. */
export function readResidentMemory(pid: number): ResidentMemory | null {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return null
  }
  const toMiB = (kib: number) => Math.round(kib / 102.4) / 10
  return {
    rssMiB: toMiB(readKiB(status, 'VmRSS')),
    anonymousMiB: toMiB(readKiB(status, 'RssAnon')),
    fileMiB: toMiB(readKiB(status, 'RssFile')),
    sharedMemoryMiB: toMiB(readKiB(status, 'RssShmem')),
  }
}

export function formatResidentMemory(memory: ResidentMemory | null): string {
  if (memory === null) return 'n/a'
  return (
    `${memory.rssMiB} MiB resident = ${memory.anonymousMiB} MiB anonymous + ${memory.fileMiB} MiB file-backed` +
    (memory.sharedMemoryMiB > 0 ? ` + ${memory.sharedMemoryMiB} MiB shared` : '')
  )
}
