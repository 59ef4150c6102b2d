/**
 * The Python that interop and example tests run: Debian's python3 with python3-jwt (PyJWT and
 * cryptography), python3-flask and python3-requests. When it is missing the tests are skipped,
 * loudly; with CI=true (as .ci/run sets it) its absence is a failure instead, so CI can never pass
 * without having run them.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import type { TestContext } from 'node:test'

const isRequired = process.env.CI === 'true'
const debianPackages: Record<string, string> = {
  jwt: 'python3-jwt',
  cryptography: 'python3-cryptography',
  flask: 'python3-flask',
  requests: 'python3-requests',
  bcrypt: 'python3-bcrypt',
}

/** A python3 that imports every module (and runs `check`), or null. */
function findPython(modules: readonly string[], check: string): string | null {
  const probe = `import ${modules.join(', ')}\n${check}`
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', probe], { encoding: 'utf8' }).status === 0) return candidate
  }
  return null
}

const found = new Map<string, string | null>()

/**
 * The python3 to run, or null after skipping the test (and saying why on stderr). With CI=true a
 * missing Python fails the test instead.
 */
export function requirePython(t: TestContext, modules: readonly string[], check = ''): string | null {
  const key = `${modules.join(',')}\n${check}`
  if (!found.has(key)) found.set(key, findPython(modules, check))
  const python = found.get(key) ?? null
  if (python !== null) return python
  const install = [...new Set(modules.map((module) => debianPackages[module] ?? module))].join(' ')
  const reason = `python3 with ${modules.join(', ')} is not installed (Debian: apt-get install ${install})`
  if (isRequired) assert.fail(`${reason}; CI=true requires it`)
  process.stderr.write(`\n*** SKIPPED: ${reason}; the check did not run. CI=true makes this a failure. ***\n`)
  t.skip(reason)
  return null
}
