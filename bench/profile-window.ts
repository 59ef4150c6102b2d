/**
 * Preloaded into a server (`node --import ./bench/profile-window.ts src/main.ts`) to profile a
 * window of its life rather than its start: the first SIGUSR2 starts the V8 CPU profiler, the
 * second writes the profile to $BENCH_PROFILE_FILE (default ./window.cpuprofile) and stops it.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

const file = process.env.BENCH_PROFILE_FILE ?? 'window.cpuprofile'
const session = new Session()
session.connect()
let isProfiling = false

process.on('SIGUSR2', () => {
  const step = isProfiling
    ? session.post('Profiler.stop').then(({ profile }) => writeFileSync(file, JSON.stringify(profile)))
    : session
        .post('Profiler.enable')
        .then(() => session.post('Profiler.setSamplingInterval', { interval: 100 }))
        .then(() => session.post('Profiler.start'))
  isProfiling = !isProfiling
  step.catch((error: unknown) => process.stderr.write(`profile-window: ${String(error)}\n`))
})
