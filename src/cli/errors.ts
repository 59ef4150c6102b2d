/**
 * Exit codes and error reporting of the `tessera` command. Scripts branch on the exit code:
 * 0 done, 1 refused or failed, 2 the command line itself is wrong, 130 cancelled at a prompt.
 */
import { ConfigError } from '../config/load.ts'
import { TesseraError } from '../core/errors.ts'
import type { Io } from './io.ts'

export const exitCodes = { success: 0, failure: 1, usage: 2, interrupted: 130 } as const

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

/** A failure the CLI itself detects; the message is shown as is. */
export class CliError extends Error {
  readonly exitCode: ExitCode
  constructor(message: string, exitCode: ExitCode = exitCodes.failure) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
  }
}

/** A wrong command line: unknown command or option, missing or extra argument. */
export function usageError(message: string): CliError {
  return new CliError(message, exitCodes.usage)
}

function isParseArgsError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false
  const code: unknown = (error as Error & { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')
}

/**
 * Prints one readable line per problem and returns the exit code. Stacks are never printed:
 * an operator needs the reason, and a stack can carry values from the failing call.
 */
export function reportError(error: unknown, io: Io): ExitCode {
  if (error instanceof CliError) {
    io.stderr(`tessera: ${error.message}\n`)
    if (error.exitCode === exitCodes.usage) io.stderr('Run "tessera help" for usage.\n')
    return error.exitCode
  }
  if (isParseArgsError(error)) {
    io.stderr(`tessera: ${error.message}\nRun "tessera help" for usage.\n`)
    return exitCodes.usage
  }
  if (error instanceof ConfigError) {
    const problems = error.problems.map((problem) => `  ${problem}\n`).join('')
    io.stderr(`tessera: invalid configuration:\n${problems}`)
    return exitCodes.failure
  }
  if (error instanceof TesseraError) {
    io.stderr(`tessera: ${error.message} (${error.code})\n`)
    return exitCodes.failure
  }
  const message = error instanceof Error ? error.message : String(error)
  io.stderr(`tessera: ${message}\n`)
  return exitCodes.failure
}
