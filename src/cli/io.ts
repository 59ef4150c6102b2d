/**
 * What a command may touch of the outside world. Commands receive an `Io` instead of using
 * `process` directly, so tests can run them in-process with a fake.
 */
import { createInterface } from 'node:readline'
import { Writable, type Readable } from 'node:stream'
import { CliError, exitCodes } from './errors.ts'

export interface Io {
  /** Writes text as is (commands add their own newlines). */
  stdout(text: string): void
  stderr(text: string): void
  /**
   * Reads a secret: typed without echo when a person is at a terminal, otherwise the first line
   * of standard input. Never from argv, where it would land in shell history and `ps`.
   */
  readSecret(prompt: string): Promise<string>
  /** True when secrets are typed at a terminal (and are then asked twice). */
  isInteractive: boolean
  env: Readonly<Record<string, string | undefined>>
}

/** Longest first line accepted on standard input; far above any allowed password. */
const maxPipedSecretLength = 64 * 1024

/**
 * The first line of `input`, without its line ending. Spaces are kept: they are part of the
 * password (NIST SP 800-63B forbids trimming). Null when the input is empty.
 */
export async function readFirstLine(input: Readable): Promise<string | null> {
  input.setEncoding('utf8')
  let text = ''
  for await (const chunk of input) {
    text += String(chunk)
    const end = text.indexOf('\n')
    if (end !== -1) return text.slice(0, end).replace(/\r$/, '')
    if (text.length > maxPipedSecretLength) {
      throw new CliError('The first line of standard input is too long to be a password.')
    }
  }
  return text === '' ? null : text
}

/** Prompts on stderr and reads one line from a terminal with echo off. */
function readHiddenLine(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  // readline echoes what is typed to its output; a sink output keeps the secret off the screen.
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      callback()
    },
  })
  const lines = createInterface({ input: stdin, output: sink, terminal: true })
  return new Promise<string>((resolve, reject) => {
    let outcome: { line: string } | { error: CliError } = {
      error: new CliError('No password was entered.'),
    }
    lines.once('line', (line) => {
      outcome = { line }
      lines.close()
    })
    // In raw mode Ctrl-C arrives as a key, not as a signal; treat it as the user giving up.
    lines.once('SIGINT', () => {
      outcome = { error: new CliError('Cancelled.', exitCodes.interrupted) }
      lines.close()
    })
    lines.once('close', () => {
      process.stderr.write('\n')
      if ('line' in outcome) resolve(outcome.line)
      else reject(outcome.error)
    })
  })
}

/** The real terminal and process streams. */
export function createProcessIo(env: Readonly<Record<string, string | undefined>>): Io {
  const isInteractive = process.stdin.isTTY === true
  let hasReadPipedSecret = false
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    isInteractive,
    env,
    async readSecret(prompt) {
      if (isInteractive) return readHiddenLine(prompt)
      if (hasReadPipedSecret) {
        throw new CliError('Only one secret can be read from standard input.')
      }
      hasReadPipedSecret = true
      const line = await readFirstLine(process.stdin)
      process.stdin.destroy()
      if (line === null) throw new CliError('No password was given on standard input.')
      return line
    },
  }
}
