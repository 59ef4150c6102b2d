/**
 * CPU accounting for a run (Linux only, from /proc): the server's own CPU time, which divided by
 * the requests answered is a steadier cost figure than req/s, and the CPU other processes took.
 * The reference machine has two cores shared by the server and the load generator, so anything
 * else running skews the figures; the report says so instead of leaving it to guesswork.
 */
import { readFileSync } from 'node:fs'

export interface CpuSnapshot {
  atMs: number
  busyTicks: number
  benchTicks: number
  serverTicks: number
}

export interface CpuUsage {
  seconds: number
  serverCpuSeconds: number
  otherCpuSeconds: number
}

// /proc reports in USER_HZ, which Linux fixes at 100 for user space whatever the kernel tick.
const ticksPerSecond = 100

function readProcessTicks(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function readBusyTicks(): number {
  const [user, nice, system, , , irq, softirq, steal] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  // Steal is time the hypervisor gave to other guests: just as lost to the benchmark.
  return [user, nice, system, irq, softirq, steal].reduce<number>((sum, value) => sum + (value ?? 0), 0)
}

/** A snapshot of total, benchmark and server CPU, or null where /proc is not available. */
export function takeCpuSnapshot(serverPid: number): CpuSnapshot | null {
  try {
    const serverTicks = readProcessTicks(serverPid)
    return {
      atMs: performance.now(),
      busyTicks: readBusyTicks(),
      benchTicks: readProcessTicks('self') + serverTicks,
      serverTicks,
    }
  } catch {
    return null
  }
}

export function measureCpuUsage(before: CpuSnapshot | null, after: CpuSnapshot | null): CpuUsage | null {
  if (before === null || after === null || after.atMs <= before.atMs) return null
  const otherTicks = after.busyTicks - before.busyTicks - (after.benchTicks - before.benchTicks)
  return {
    seconds: (after.atMs - before.atMs) / 1000,
    serverCpuSeconds: (after.serverTicks - before.serverTicks) / ticksPerSecond,
    otherCpuSeconds: Math.max(0, otherTicks / ticksPerSecond),
  }
}
