/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): where the samples' time went, by function
 * (self time) and by package or Tessera module, so a hot route's remaining microseconds can be
 * named. Usage: node bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The package (node_modules/<name>), Tessera module (src/...), node internal, or (program/gc/idle). */
export function classify(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (modules) return modules[1] ?? url
  const source = /\/(src\/.+)$/.exec(url)
  if (source) return source[1] ?? url
  if (url.startsWith('node:')) return url
  return url
}

export function summarizeProfile(profile: CpuProfile, top: number): string {
  const selfMicroseconds = new Map<number, number>()
  for (let index = 0; index < profile.samples.length; index += 1) {
    const id = profile.samples[index] ?? 0
    selfMicroseconds.set(id, (selfMicroseconds.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0))
  }
  const byFunction = new Map<string, number>()
  const byArea = new Map<string, number>()
  let total = 0
  let idle = 0
  for (const node of profile.nodes) {
    const time = selfMicroseconds.get(node.id) ?? 0
    if (time === 0) continue
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)') {
      idle += time
      continue
    }
    total += time
    const area = classify(url, functionName)
    const name = `${functionName || '(anonymous)'} ${area}:${lineNumber + 1}`
    byFunction.set(name, (byFunction.get(name) ?? 0) + time)
    byArea.set(area, (byArea.get(area) ?? 0) + time)
  }
  const percent = (time: number) => `${((100 * time) / total).toFixed(1).padStart(5)} %`
  const list = (entries: Map<string, number>) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, time]) => `  ${percent(time)}  ${name}`)
  return [
    `busy ${(total / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`,
    'by area (self time):',
    ...list(byArea),
    'by function (self time):',
    ...list(byFunction),
  ].join('\n')
}

if (import.meta.main) {
  const [file, rawTop] = process.argv.slice(2)
  if (file === undefined) {
    process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  process.stdout.write(`${summarizeProfile(profile, Number(rawTop ?? 25))}\n`)
}
