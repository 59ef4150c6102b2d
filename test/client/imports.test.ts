/**
 * The SDK runs in browsers, Node and game clients: it imports its own files only (no `node:`
 * module, no dependency, nothing else of Tessera); tsconfig.browser.json checks the same from the
 * type side. Its list of server error codes is the server's.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { errorCodes } from '../../src/core/errors.ts'
import { serverErrorCodes } from '../../src/client/tessera-error.ts'

const clientDir = fileURLToPath(new URL('../../src/client/', import.meta.url))

function readSpecifiers(source: string): string[] {
  // TSDoc examples import `tessera/client`, as users do; only code counts.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '')
  return [...code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((match) => match[1] ?? '')
}

function findViolations(source: string): string[] {
  return readSpecifiers(source).filter((specifier) => !/^\.\/[a-z-]+\.ts$/.test(specifier))
}

describe('client SDK imports', () => {
  it('src/client imports only its own files', () => {
    const files = readdirSync(clientDir).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    assert.ok(files.length >= 6)
    const violations = files.flatMap((file) =>
      findViolations(readFileSync(join(clientDir, file), 'utf8')).map((specifier) => `${file}: ${specifier}`),
    )
    assert.deepEqual(violations, [])
  })

  it('the check catches node:, dependencies and the rest of Tessera', () => {
    assert.deepEqual(findViolations("import { createHash } from 'node:crypto'"), ['node:crypto'])
    assert.deepEqual(findViolations("import { jwtVerify } from 'jose'"), ['jose'])
    assert.deepEqual(findViolations("import type { User } from '../core/accounts/store.ts'"), [
      '../core/accounts/store.ts',
    ])
    assert.deepEqual(findViolations("const x = await import('node:fs')"), ['node:fs'])
    assert.deepEqual(findViolations("import { TesseraError } from './tessera-error.ts'"), [])
    assert.deepEqual(findViolations("/**\n * import { createTesseraClient } from 'tessera/client'\n */"), [])
  })

  it('documents every public export with an @example (STYLE 26)', () => {
    const index = readFileSync(join(clientDir, 'index.ts'), 'utf8')
    const exported = [...index.matchAll(/export (?:type )?\{([^}]+)\}/g)]
      .flatMap((match) => (match[1] ?? '').split(','))
      .map((name) => name.replace(/\btype\b/, '').trim())
      .filter((name) => name !== '')
    assert.ok(exported.length >= 15, exported.join(', '))
    const sources = readdirSync(clientDir)
      .filter((file) => file.endsWith('.ts') && file !== 'index.ts')
      .map((file) => readFileSync(join(clientDir, file), 'utf8'))
      .join('\n')
    const undocumented = exported.filter((name) => {
      const declaration = new RegExp(
        `/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*export (?:async )?(?:interface|type|function|class|const) ${name}\\b`,
      ).exec(sources)
      return !declaration?.[1]?.includes('@example')
    })
    assert.deepEqual(undocumented, [])
  })

  it('knows every error code the server sends, and no other', () => {
    assert.deepEqual([...serverErrorCodes], [...errorCodes])
  })
})
