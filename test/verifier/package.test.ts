/**
 * `tessera-verifier` as an outside project gets it: `npm pack` in packages/verifier (whose
 * `prepack` builds src/verifier), a consumer project that installs the tarball with npm, offline,
 * the installed size and package count (the package must stay light: under 5 MB, jose its only
 * dependency), a plain .mjs that Node runs from node_modules (where it strips no types) verifying
 * a real Tessera token, and a strict nodenext TypeScript file type-checked against the installed
 * declarations. One pack and one install serve every test.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as verifierSources from '../../src/verifier/index.ts'
import { logInWithToken, registerUser, startTestServer } from '../helpers/test-server.ts'

const runFile = promisify(execFile)
const repositoryDir = fileURLToPath(new URL('../../', import.meta.url))
const packageDir = join(repositoryDir, 'packages/verifier')
const fixtureDir = fileURLToPath(new URL('./consumer/', import.meta.url))
const maxInstalledBytes = 5 * 1024 * 1024

interface LockedPackage {
  version: string
  resolved?: string
  integrity?: string
}

/** A shell outside this repository: no settings from the npm script running the tests, no in-repo condition. */
function readOutsideEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => name !== 'NODE_OPTIONS' && (!name.startsWith('npm_') || name === 'npm_config_cache'),
    ),
  )
}

async function runCommand(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await runFile(command, args, {
    cwd,
    env: readOutsideEnvironment(),
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  })
  return stdout
}

/**
 * The consumer's package.json and package-lock.json. The lock takes jose at this repository's
 * locked version, so `npm ci --offline` installs it from the npm cache our own `npm ci` filled.
 */
function writeConsumerProject(consumerDir: string, tarballSpec: string): void {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string
    version: string
    dependencies: Record<string, string>
  }
  const lock = JSON.parse(readFileSync(join(repositoryDir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockedPackage>
  }
  const consumer = { name: 'consumer', private: true, type: 'module', dependencies: { [manifest.name]: tarballSpec } }
  const packages: Record<string, unknown> = {
    '': { name: consumer.name, dependencies: consumer.dependencies },
    [`node_modules/${manifest.name}`]: {
      version: manifest.version,
      resolved: tarballSpec,
      dependencies: manifest.dependencies,
    },
  }
  for (const name of Object.keys(manifest.dependencies)) {
    const locked = lock.packages[`node_modules/${name}`]
    assert.ok(locked, `${name} is in the repository's lock`)
    packages[`node_modules/${name}`] = {
      version: locked.version,
      resolved: locked.resolved,
      integrity: locked.integrity,
    }
  }
  writeFileSync(join(consumerDir, 'package.json'), JSON.stringify(consumer, null, 2))
  writeFileSync(
    join(consumerDir, 'package-lock.json'),
    JSON.stringify({ name: consumer.name, lockfileVersion: 3, requires: true, packages }, null, 2),
  )
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

/** Installed packages: every directory of node_modules (scoped ones included) with a package.json. */
function listInstalledPackages(nodeModulesDir: string): string[] {
  return listFiles(nodeModulesDir)
    .filter((file) => /^(@[^/]+\/)?[^/@.][^/]*\/package\.json$/.test(file) && !file.includes('/node_modules/'))
    .map((file) => file.slice(0, -'/package.json'.length))
}

function flipFirstCharacter(segment: string): string {
  return `${segment.startsWith('A') ? 'B' : 'A'}${segment.slice(1)}`
}

describe('the packed tessera-verifier in an outside project', { timeout: 180_000 }, () => {
  let workDir = ''
  let consumerDir = ''

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tessera-package-'))
    consumerDir = join(workDir, 'consumer')
    await runCommand('npm', ['pack', '--pack-destination', workDir], packageDir)
    const [tarball, ...others] = readdirSync(workDir).filter((name) => name.endsWith('.tgz'))
    assert.ok(tarball !== undefined && others.length === 0, 'npm pack writes one tarball')
    mkdirSync(consumerDir)
    cpSync(fixtureDir, consumerDir, { recursive: true })
    writeConsumerProject(consumerDir, `file:../${tarball}`)
    await runCommand('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], consumerDir)
  })

  after(() => {
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true })
  })

  it('installs two packages, itself and jose, in under 5 MB', () => {
    const nodeModulesDir = join(consumerDir, 'node_modules')
    assert.deepEqual(listInstalledPackages(nodeModulesDir), ['jose', 'tessera-verifier'])
    const installedBytes = listFiles(nodeModulesDir).reduce(
      (total, file) => total + statSync(join(nodeModulesDir, file)).size,
      0,
    )
    process.stderr.write(`tessera-verifier installed: ${(installedBytes / 1024).toFixed(0)} KiB in 2 packages\n`)
    assert.ok(installedBytes < maxInstalledBytes, `${installedBytes} bytes installed`)
  })

  it('holds the build, the README and the manifest: no sources, tests or secrets', () => {
    const files = listFiles(join(consumerDir, 'node_modules/tessera-verifier'))
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), files.join(', '))
    const unexpected = files.filter((file) => !/^(package\.json|README\.md|dist\/[a-z-]+\.(js|d\.ts))$/.test(file))
    assert.deepEqual(unexpected, [])
    // Every source file is built: a module added to src/verifier cannot be left out.
    const sources = readdirSync(join(repositoryDir, 'src/verifier')).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
    )
    assert.deepEqual(
      files.filter((file) => file.endsWith('.js')).sort(),
      sources.map((file) => `dist/${file.replace(/\.ts$/, '.js')}`).sort(),
    )
  })

  it('runs from plain JavaScript: every export of the sources, and a Tessera token verified against its JWKS', async (t) => {
    const server = await startTestServer(t, {}, { clockStart: new Date() })
    const { username, id } = await registerUser(server)
    const user = await logInWithToken(server, username)
    const [header = '', payload = '', signature = ''] = user.access_token.split('.')
    const tampered = `${header}.${payload}.${flipFirstCharacter(signature)}`
    const { tokens } = server.config
    const jwksUrl = `${server.url}/.well-known/jwks.json`
    const output = await runCommand(
      process.execPath,
      ['verify-tokens.mjs', tokens.issuer, tokens.audience, jwksUrl, user.access_token, tampered, 'not-a-token'],
      consumerDir,
    )
    const report = JSON.parse(output) as { resolved: string; exports: Record<string, string>; results: unknown[] }
    assert.equal(fileURLToPath(report.resolved), join(consumerDir, 'node_modules/tessera-verifier/dist/index.js'))
    assert.deepEqual(
      report.exports,
      Object.fromEntries(Object.entries(verifierSources).map(([name, value]) => [name, typeof value])),
    )
    assert.equal(report.exports.createVerifier, 'function')
    assert.deepEqual(report.results, [
      { userId: id, sessionId: user.session_id, roles: ['user'] },
      { code: 'invalid_token' },
      { code: 'invalid_token' },
    ])
  })

  it('type-checks a strict nodenext TypeScript consumer against the installed declarations', async () => {
    const tscPath = join(repositoryDir, 'node_modules/typescript/bin/tsc')
    const typeRoots = join(repositoryDir, 'node_modules/@types')
    const output = await runCommand(
      process.execPath,
      [tscPath, '-p', 'tsconfig.json', '--typeRoots', typeRoots],
      consumerDir,
    ).catch((error: { stdout?: string }) => assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`))
    assert.equal(output, '')
  })
})

describe('the server package', () => {
  it('a copy installed as a dependency says where the server runs instead of failing on its TypeScript', async (t) => {
    const copyDir = mkdtempSync(join(tmpdir(), 'tessera-installed-'))
    t.after(() => rmSync(copyDir, { recursive: true, force: true }))
    const installed = join(copyDir, 'node_modules/tessera')
    for (const path of ['bin', 'src', 'package.json'])
      cpSync(join(repositoryDir, path), join(installed, path), { recursive: true })
    const refusal = await runCommand(process.execPath, [join(installed, 'bin/tessera.js'), 'version'], copyDir).then(
      () => assert.fail('the command ran from an installed copy'),
      (error: unknown) => String(error),
    )
    assert.match(refusal, /run from a checkout of Tessera/)
    assert.match(refusal, /tessera-verifier/)
    // The control: the same command in the checkout works.
    assert.match(
      await runCommand(process.execPath, [join(repositoryDir, 'bin/tessera.js'), 'version'], repositoryDir),
      /\d+\.\d+\.\d+/,
    )
  })
})
