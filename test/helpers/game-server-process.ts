/** The example game server (examples/game-server/main.ts) as its own process, as its README runs it. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cleanProcessEnv } from './tessera-process.ts'

const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface GameServerProcess {
  httpUrl: string
  wsUrl: string
  stop(): Promise<void>
}

export function startGameServerProcess(env: Record<string, string>, timeoutMs = 20_000): Promise<GameServerProcess> {
  const child = spawn(process.execPath, ['--conditions=tessera-source', 'examples/game-server/main.ts'], {
    cwd: projectRoot,
    env: cleanProcessEnv({ GAME_PORT: '0', GAME_WS_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let errors = ''
  child.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the game server did not start: ${output}${errors}`))
    }, timeoutMs)
    child.once('exit', (code) => reject(new Error(`the game server exited (${code}): ${output}${errors}`)))
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const http = /game server on (http:\/\/\S+)/.exec(output)?.[1]
      const ws = /players over WebSocket at (ws:\/\/\S+)/.exec(output)?.[1]
      if (!http || !ws) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve({
        httpUrl: http,
        wsUrl: ws,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
            setTimeout(() => child.kill('SIGKILL'), 3000).unref()
          }),
      })
    })
  })
}
