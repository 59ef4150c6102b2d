/**
 * Composition root: configuration → stores → core → HTTP app → listen. Nothing else.
 */
import { readFileSync } from 'node:fs'
import { loadConfig, type Config, ConfigError } from './config/load.ts'
import { systemClock } from './core/clock.ts'
import type { Core } from './core/core.ts'
import { TesseraError } from './core/errors.ts'
import { buildApp, createLoggerOptions } from './http/app.ts'
import { openRuntime } from './runtime.ts'

/** Creates the bootstrap admin when configured and no admin exists yet. */
async function bootstrapAdmin(config: Config, core: Core): Promise<string | null> {
  const { adminUsername, adminPasswordFile } = config.bootstrap
  if (adminUsername === null || adminPasswordFile === null) return null
  if (await core.accounts.hasUserWithRole('admin')) return null
  const password = readFileSync(adminPasswordFile, 'utf8').replace(/\r?\n$/, '')
  try {
    await core.accounts.registerUser({ username: adminUsername, password, roles: ['admin', 'user'] })
  } catch (error) {
    if (error instanceof TesseraError) {
      throw new Error(`bootstrap admin: ${error.message} (${error.code})`, { cause: error })
    }
    throw error
  }
  return adminUsername
}

export interface RunningServer {
  url: string
  close(): Promise<void>
}

export async function startServer(config: Config): Promise<RunningServer> {
  // Backend connection errors (the clients reconnect by themselves) go to the log once it exists.
  let reportBackendError = (error: unknown) => {
    process.stderr.write(`tessera: backend connection error: ${error instanceof Error ? error.message : String(error)}\n`)
  }
  const runtime = await openRuntime(config, systemClock, { onBackgroundError: (error) => reportBackendError(error) })
  const app = await buildApp({ config, core: runtime.core, logger: createLoggerOptions(config.server.logLevel) })
  reportBackendError = (error) => app.log.warn({ err: error }, 'backend connection error')
  app.log.info({ storage: runtime.layout }, 'stores opened')
  try {
    const created = await bootstrapAdmin(config, runtime.core)
    if (created) app.log.info({ username: created }, 'bootstrap admin created')
    const sweep = setInterval(() => {
      runtime.core.sessions.deleteExpiredSessions().catch((error: unknown) => {
        app.log.error({ err: error }, 'expired-session sweep failed')
      })
    }, 60_000)
    sweep.unref()
    app.addHook('onClose', async () => clearInterval(sweep))
    const url = await app.listen({ host: config.server.host, port: config.server.port })
    return {
      url,
      async close() {
        await app.close()
        await runtime.close()
      },
    }
  } catch (error) {
    await app.close()
    await runtime.close()
    throw error
  }
}

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const server = await startServer(config)
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
