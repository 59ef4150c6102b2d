/** `tessera serve`: starts the server and stops it cleanly on SIGINT or SIGTERM. */
import { parseArgs } from 'node:util'
import { loadConfig } from '../../config/load.ts'
import { exitCodes, usageError } from '../errors.ts'
import type { Io } from '../io.ts'
import { commandUsages } from '../usage.ts'

const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/** Resolves with the first stop signal; a second one while stopping exits at once. */
function waitForStopSignal(io: Io): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let isStopping = false
  let onSignal: (signal: NodeJS.Signals) => void = () => {}
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (received) => {
      if (isStopping) {
        io.stderr(`Received ${received} again; exiting without waiting.\n`)
        process.exit(exitCodes.failure)
      }
      isStopping = true
      resolve(received)
    }
  })
  for (const name of stopSignals) process.on(name, onSignal)
  return {
    signal,
    dispose: () => {
      for (const name of stopSignals) process.off(name, onSignal)
    },
  }
}

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
  const { startServer } = await import('../../main.ts')
  // Listen for signals before starting, so a stop during startup is not lost.
  const stop = waitForStopSignal(io)
  try {
    const server = await startServer(config)
    io.stdout(`Tessera is listening on ${server.url}\n`)
    const signal = await stop.signal
    io.stderr(`Received ${signal}; stopping.\n`)
    await server.close()
    io.stderr('Stopped.\n')
    return exitCodes.success
  } finally {
    stop.dispose()
  }
}
