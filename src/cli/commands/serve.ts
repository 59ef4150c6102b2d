/** `tessera serve`: starts the server and stops it cleanly on SIGINT or SIGTERM. */
import { parseArgs } from 'node:util'
import { loadConfig } from '../../config/load.ts'
import { exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { commandUsages } from '../usage.ts'

export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { help: { type: 'boolean', short: 'h', default: false } },
    allowPositionals: true,
  })
  if (values.help) {
    io.stdout(commandUsages.serve)
    return exitCodes.success
  }
  if (positionals.length > 0) throw usageError('serve: takes no arguments.')
  const config = loadConfig(io.env)
  // Imported here, not at the top: the offline commands (user, role, config) then never load
  // the HTTP stack.
  const { startServer, listenForStopSignals } = await import('../../main.ts')
  // Listen for signals before starting, so a stop during startup is not lost.
  const stop = listenForStopSignals({
    deadlineSeconds: config.server.shutdownTimeoutSeconds,
    report: (line) => io.stderr(`${line}\n`),
    onDeadline: () => process.exit(exitCodes.failure),
  })
  try {
    const server = await startServer(config)
    io.stdout(`Tessera is listening on ${server.url}\n`)
    await stop.signal
    await server.close()
    io.stderr('Stopped.\n')
    return exitCodes.success
  } finally {
    stop.dispose()
  }
}
