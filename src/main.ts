/**
 * Composition root: configuration → stores → core → HTTP app → listen. Nothing else.
 */
import { readFileSync } from 'node:fs'
import { loadConfig, type Config, ConfigError } from './config/load.ts'
import { lowerThreadPoolPriority, reserveThreadPool } from './config/thread-pool.ts'
import { checkListenHost, readTlsMaterial } from './config/start-checks.ts'
import type { Application } from './core/application/application.ts'
import { TesseraError } from './core/errors.ts'
import { createOfflineContext } from './core/application/types.ts'
import { buildApp, createLoggerOptions } from './http/app.ts'
import { openRuntime } from './runtime.ts'
import { listenForStopSignals } from './stop-signals.ts'
import { startSchedulerLoop } from './background/scheduler-loop.ts'
import { systemClock } from './core/clock.ts'
import { createMetrics } from './metrics/metrics.ts'
import { createServerObserver, stderrLog } from './metrics/server-observer.ts'
import type { FastifyBaseLogger } from 'fastify'

// `tessera serve` stops the server the same way as `npm start`, through this module.
export { listenForStopSignals }

/** Creates the bootstrap admin when configured and no admin exists yet. */
async function bootstrapAdmin(config: Config, { accountAdmin }: Application): Promise<string | null> {
  const { adminUsername, adminPasswordFile } = config.bootstrap
  if (adminUsername === null || adminPasswordFile === null) return null
  if (await accountAdmin.hasUserWithRole('admin')) return null
  let password: string
  try {
    password = readFileSync(adminPasswordFile, 'utf8').replace(/\r?\n$/, '')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError([
      `TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: cannot read ${adminPasswordFile} (${reason}); no admin exists yet, so the first one is made from this file`,
    ])
  }
  try {
    const actor = { actorUserId: null, context: createOfflineContext('startup') }
    await accountAdmin.createUser({ username: adminUsername, password, roles: ['admin', 'user'] }, actor)
  } catch (error) {
    if (error instanceof TesseraError) {
      throw new Error(`bootstrap admin: ${error.message} (${error.code})`, { cause: error })
    }
    throw error
  }
  return adminUsername
}

/** Re-reads the signing keys on an interval, so a rotation made by the CLI or another node is served without a restart. */
function startKeyReload(application: Application, intervalSeconds: number, log: FastifyBaseLogger): NodeJS.Timeout {
  const timer = setInterval(() => {
    application.maintenance
      .reloadSigningKeys()
      .catch((error: unknown) => log.error({ err: error }, 'signing key reload failed'))
  }, intervalSeconds * 1000)
  timer.unref()
  return timer
}

export interface RunningServer {
  url: string
  close(): Promise<void>
}

export async function startServer(config: Config): Promise<RunningServer> {
  // Checked before any store opens, so a wrong setting fails at once and names itself.
  await checkListenHost(config)
  const tls = config.server.tls ? readTlsMaterial(config.server.tls) : null
  reserveThreadPool(config.passwords.hashConcurrency)
  await lowerThreadPoolPriority()
  const metrics = createMetrics()
  const observer = createServerObserver(metrics.observer, stderrLog)
  // Backend connection errors (the clients reconnect by themselves) go to the log once it exists.
  let reportBackendError = (error: unknown) => {
    process.stderr.write(
      `tessera: backend connection error: ${error instanceof Error ? error.message : String(error)}\n`,
    )
  }
  const runtime = await openRuntime(config, systemClock, observer, {
    onBackgroundError: (error) => reportBackendError(error),
  })
  metrics.countActiveSessionsWith(() => runtime.application.health.countActiveSessions())
  const app = await buildApp({
    config,
    application: runtime.application,
    logger: createLoggerOptions(config.server.logLevel),
    metrics,
    tls,
  })
  observer.attachLog(app.log)
  reportBackendError = (error) => app.log.warn({ err: error }, 'backend connection error')
  app.log.info({ storage: runtime.layout }, 'stores opened')
  const { filled, collisions } = runtime.skeletonBackfill
  if (filled > 0) app.log.info({ accounts: filled }, 'username skeletons computed for existing accounts')
  if (collisions.length > 0) {
    app.log.warn(
      { usernames: collisions.map((user) => user.username) },
      "accounts whose names look like an older account's: both kept; consider renaming or disabling these (see docs/hardening.md)",
    )
  }
  try {
    const created = await bootstrapAdmin(config, runtime.application)
    if (created) app.log.info({ username: created }, 'bootstrap admin created')
    // Housekeeping only: every read already treats expired rows as absent. Retired signing keys
    // are deleted so their private parts do not outlive their use.
    const sweep = setInterval(() => {
      for (const { name, run } of runtime.application.maintenance.sweeps) {
        run().catch((error: unknown) => app.log.error({ err: error }, `${name} sweep failed`))
      }
    }, 60_000)
    sweep.unref()
    app.addHook('onClose', async () => clearInterval(sweep))
    if (config.audit.isSchedulerEnabled) {
      const jobs = startSchedulerLoop({
        scheduler: runtime.application.maintenance.scheduler,
        clock: systemClock,
        log: app.log,
      })
      app.addHook('onClose', () => jobs.stop())
    }
    const keyReload = startKeyReload(runtime.application, config.tokens.keyReloadIntervalSeconds, app.log)
    app.addHook('onClose', async () => clearInterval(keyReload))
    // Fastify names the scheme after its own `https` option, which the server factory replaces.
    const withScheme = (address: string) => (tls ? address.replace(/^http:/, 'https:') : address)
    const address = await app.listen({
      host: config.server.host,
      port: config.server.port,
      listenTextResolver: (listening) => `Server listening at ${withScheme(listening)}`,
    })
    const url = withScheme(address)
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
  // Listening before the start means a stop asked for during it is kept, and bounded too.
  const signals = listenForStopSignals({
    deadlineSeconds: config.server.shutdownTimeoutSeconds,
    report: (line) => process.stderr.write(`tessera: ${line}\n`),
    onDeadline: () => process.exit(1),
  })
  const server = await startServer(config)
  await signals.signal
  await server.close()
  signals.dispose()
  process.stderr.write('tessera: stopped.\n')
  process.exit(0)
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
