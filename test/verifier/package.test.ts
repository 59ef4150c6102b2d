/**
 * `tessera/verifier` as an outside project gets it: `npm pack` (which builds dist/verifier
 * through `prepare`), a consumer project that installs the tarball with npm, a plain .mjs that
 * Node runs from node_modules (where it strips no types) verifying a real Tessera token, and a
 * TypeScript file type-checked against the installed declarations. One pack and one install
 * serve every test.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as verifierSources from '../../src/verifier/index.ts'
import { logInWithToken, registerUser, startTestServer } from '../helpers/test-server.ts'

const runFile = promisify(execFile)
const repositoryDir = fileURLToPath(new URL('../../', import.meta.url))
const fixtureDir = fileURLToPath(new URL('./consumer/', import.meta.url))

interface LockedPackage {
  dev?: boolean
  devOptional?: boolean
}

/** A shell outside this repository: no settings from the npm script running the tests, no in-repo condition. */
function readOutsideEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && (!name.startsWith('npm_') || name === 'npm_config_cache')),
  )
}

async function runCommand(command: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await runFile(command, args, { cwd, env: readOutsideEnvironment(), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 })
  return stdout
}

/**
 * The consumer's package.json and package-lock.json. The lock takes Tessera's dependencies at
 * this repository's locked versions, so `npm ci --offline` installs them from the npm cache our
 * own `npm ci` filled: `npm install` would ask the registry for their metadata.
 */
function writeConsumerProject(consumerDir: string, tarballSpec: string): void {
  const tessera = JSON.parse(readFileSync(join(repositoryDir, 'package.json'), 'utf8')) as Record<string, unknown>
  const lock = JSON.parse(readFileSync(join(repositoryDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> }
  const runtimePackages = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && !entry.dev && !entry.devOptional)
  const manifest = { name: 'consumer', private: true, type: 'module', dependencies: { tessera: tarballSpec } }
  const tesseraEntry = { version: tessera.version, resolved: tarballSpec, dependencies: tessera.dependencies, bin: tessera.bin, engines: tessera.engines }
  const packages = { '': { name: manifest.name, dependencies: manifest.dependencies }, 'node_modules/tessera': tesseraEntry, ...Object.fromEntries(runtimePackages) }
  writeFileSync(join(consumerDir, 'package.json'), JSON.stringify(manifest, null, 2))
  writeFileSync(join(consumerDir, 'package-lock.json'), JSON.stringify({ name: manifest.name, lockfileVersion: 3, requires: true, packages }, null, 2))
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

function flipFirstCharacter(segment: string): string {
  return `${segment.startsWith('A') ? 'B' : 'A'}${segment.slice(1)}`
}

describe('the packed tessera/verifier in an outside project', { timeout: 180_000 }, () => {
  let workDir = ''
  let consumerDir = ''

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tessera-package-'))
    consumerDir = join(workDir, 'consumer')
    await runCommand('npm', ['pack', '--pack-destination', workDir], repositoryDir)
    const [tarball, ...others] = readdirSync(workDir).filter((name) => name.endsWith('.tgz'))
    assert.ok(tarball !== undefined && others.length === 0, 'npm pack writes one tarball')
    cpSync(fixtureDir, consumerDir, { recursive: true })
    writeConsumerProject(consumerDir, `file:../${tarball}`)
    await runCommand('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], consumerDir)
  })

  after(() => {
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true })
  })

  it('holds the build, the README and the manifest: no sources, tests or secrets', () => {
    const files = listFiles(join(consumerDir, 'node_modules/tessera'))
    assert.ok(files.includes('dist/verifier/index.js') && files.includes('dist/verifier/index.d.ts'), files.join(', '))
    assert.ok(files.includes('dist/client/index.js') && files.includes('dist/client/index.d.ts'), files.join(', '))
    const unexpected = files.filter(
      (file) => !/^(package\.json|README\.md|bin\/tessera\.js|dist\/(verifier|client)\/[a-z-]+\.(js|d\.ts))$/.test(file),
    )
    assert.deepEqual(unexpected, [])
  })

  it('has a tessera command that says the server runs from a checkout, rather than failing obscurely', async () => {
    const binPath = join(consumerDir, 'node_modules/tessera/bin/tessera.js')
    const refusal = await runCommand(process.execPath, [binPath, 'version'], consumerDir).then(
      () => assert.fail('the command ran from a packed copy'),
      (error: unknown) => String(error),
    )
    assert.match(refusal, /holds only the tessera\/verifier library/)
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
    assert.equal(fileURLToPath(report.resolved), join(consumerDir, 'node_modules/tessera/dist/verifier/index.js'))
    assert.deepEqual(report.exports, Object.fromEntries(Object.entries(verifierSources).map(([name, value]) => [name, typeof value])))
    assert.equal(report.exports.createVerifier, 'function')
    assert.deepEqual(report.results, [
      { userId: id, sessionId: user.session_id, roles: ['user'] },
      { code: 'invalid_token' },
      { code: 'invalid_token' },
    ])
  })

  it('type-checks a TypeScript consumer against the installed declarations', async () => {
    const tscPath = join(repositoryDir, 'node_modules/typescript/bin/tsc')
    const typeRoots = join(repositoryDir, 'node_modules/@types')
    const output = await runCommand(process.execPath, [tscPath, '-p', 'tsconfig.json', '--typeRoots', typeRoots], consumerDir).catch(
      (error: { stdout?: string }) => assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`),
    )
    assert.equal(output, '')
  })
})
