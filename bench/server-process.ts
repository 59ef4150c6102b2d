/**
 * Runs the server as its own process (so the load generator never shares its event loop) on a
 * free loopback port with a fresh data directory, and stops it again, even after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { allocatorSettings } from '../bin/allocator-settings.js'

export interface ServerProcess {
  url: string
  pid: number
  /** Set once the process has exited on its own. */
  exitedEarly(): string | null
  /** Everything the server wrote to stdout and stderr (warnings and worse only). */
  output(): string
  stop(): Promise<void>
}

const startTimeoutMs = 20_000
const stopTimeoutMs = 5_000
const maxOutputChars = 64 * 1024

/** A port nothing listens on now, on 127.0.0.1. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

async function waitForHealth(url: string, child: ChildProcess, exitReason: () => string | null): Promise<void> {
  const deadline = Date.now() + startTimeoutMs
  while (Date.now() < deadline) {
    const reason = exitReason()
    if (reason !== null) throw new Error(`server exited during start-up (${reason})`)
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`server did not answer /healthz within ${startTimeoutMs / 1000} s`)
}

function withoutTesseraSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TESSERA_')))
}

/** `settings` are the only TESSERA_* variables the server sees besides the ones set here. */
export async function startServerProcess(options: {
  entry: string
  settings: Record<string, string>
}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'))
  const port = await findFreePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [options.entry], {
    env: {
      ...withoutTesseraSettings(process.env),
      ...options.settings,
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: String(port),
      TESSERA_DATA_DIR: dataDir,
      TESSERA_LOG_LEVEL: 'warn',
      // As npm start and the tessera command run the server (see bin/tessera.js).
      ...allocatorSettings(process.env),
      NODE_COMPILE_CACHE:
        process.env.NODE_COMPILE_CACHE ??
        fileURLToPath(new URL('../node_modules/.cache/node-compile', import.meta.url)),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const collect = (chunk: Buffer) => {
    if (output.length < maxOutputChars) output += chunk.toString('utf8')
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  let exitReason: string | null = null
  let isStopping = false
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!isStopping) exitReason = signal === null ? `exit code ${code}` : `signal ${signal}`
      resolve()
    })
  })
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true })

  try {
    await waitForHealth(url, child, () => exitReason)
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    removeDataDir()
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`)
  }

  return {
    url,
    pid: child.pid ?? -1,
    exitedEarly: () => exitReason,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        isStopping = true
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
        await exited
        clearTimeout(timer)
      }
      removeDataDir()
    },
  }
}
