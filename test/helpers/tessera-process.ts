/**
 * A Tessera node as its own process (`tessera serve`), as operators run it: the multi-node and
 * fault tests start several, stop them with SIGTERM, or kill one with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
const cliPath = join(projectRoot, 'src/cli/main.ts')

export interface TesseraProcess {
  url: string
  pid: number
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string
  /** SIGKILL: no shutdown, no flush. */
  kill(): Promise<void>
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>
}

/** The parent's environment without TESSERA_* settings (an unknown one fails the config). */
export function cleanProcessEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('TESSERA_')) env[key] = value
  }
  return { ...env, ...settings }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

/**
 * Every client of these tests signs in from 127.0.0.1, many times a second: the sign-in and
 * refresh throttles (on by default) would slow them down, so they start far above the load.
 */
const throttleAboveTestLoad = {
  TESSERA_THROTTLE_ACCOUNT_THRESHOLD: '90',
  TESSERA_THROTTLE_ACCOUNT_IP_THRESHOLD: '90',
  TESSERA_THROTTLE_IP_THRESHOLD: '100000',
  TESSERA_THROTTLE_REGISTER_THRESHOLD: '100000',
  TESSERA_THROTTLE_REFRESH_THRESHOLD: '100000',
}

export function startTesseraProcess(
  settings: Record<string, string>,
  startTimeoutMs = 20_000,
): Promise<TesseraProcess> {
  const child = spawn(process.execPath, [cliPath, 'serve'], {
    cwd: projectRoot,
    env: cleanProcessEnv({ TESSERA_PORT: '0', TESSERA_LOG_LEVEL: 'warn', ...throttleAboveTestLoad, ...settings }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const handle = (url: string): TesseraProcess => ({
    url,
    pid: child.pid ?? 0,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await waitForExit(child, 5000)
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGKILL')
        await waitForExit(child, 5000)
      }
    },
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`Tessera did not start within ${startTimeoutMs} ms:\n${stderr}`))
    }, startTimeoutMs)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /listening on (http:\/\/\S+)/.exec(stdout)
      if (match?.[1]) {
        clearTimeout(timer)
        resolve(handle(match[1]))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`Tessera exited (${code ?? signal}) before listening:\n${stderr}`))
    })
  })
}

/**
 * Starts one process per settings, side by side. When one fails to start, the others are
 * stopped before the error is thrown: a process left running would keep the test file alive.
 */
export async function startTesseraProcesses(
  settingsList: ReadonlyArray<Record<string, string>>,
): Promise<TesseraProcess[]> {
  const started = await Promise.allSettled(settingsList.map((settings) => startTesseraProcess(settings)))
  const failure = started.find((result) => result.status === 'rejected')
  if (failure === undefined) return started.map((result) => (result as PromiseFulfilledResult<TesseraProcess>).value)
  await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)))
  throw failure.reason
}
