/**
 * `tessera-client` as an outside project gets it: `npm pack` in packages/client (whose `prepack`
 * builds src/client), a consumer project that installs the tarball with npm, offline, the installed
 * size (no dependency at all), a plain .mjs that Node runs from node_modules signing in against a
 * real Tessera, and a strict browser-only (no Node types) TypeScript file type-checked against the
 * installed declarations. One pack and one install serve every test.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { registerUser, startTestServer } from '../helpers/test-server.ts'

const runFile = promisify(execFile)
const repositoryDir = fileURLToPath(new URL('../../', import.meta.url))
const packageDir = join(repositoryDir, 'packages/client')
const fixtureDir = fileURLToPath(new URL('./consumer/', import.meta.url))
const maxInstalledBytes = 1024 * 1024

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

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

describe('the packed tessera-client in an outside project', { timeout: 180_000 }, () => {
  let workDir = ''
  let consumerDir = ''

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tessera-client-package-'))
    consumerDir = join(workDir, 'consumer')
    await runCommand('npm', ['pack', '--pack-destination', workDir], packageDir)
    const [tarball, ...others] = readdirSync(workDir).filter((name) => name.endsWith('.tgz'))
    assert.ok(tarball !== undefined && others.length === 0, 'npm pack writes one tarball')
    mkdirSync(consumerDir)
    cpSync(fixtureDir, consumerDir, { recursive: true })
    const dependencies = { 'tessera-client': `file:../${tarball}` }
    writeFileSync(
      join(consumerDir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }),
    )
    await runCommand('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], consumerDir)
  })

  after(() => {
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true })
  })

  it('installs one package and nothing else, under 1 MB, holding the build of every source file', () => {
    const nodeModulesDir = join(consumerDir, 'node_modules')
    const installed = listFiles(nodeModulesDir).filter((file) => !file.startsWith('.'))
    assert.ok(
      installed.every((file) => file.startsWith('tessera-client/')),
      installed.join(', '),
    )
    const bytes = installed.reduce((total, file) => total + statSync(join(nodeModulesDir, file)).size, 0)
    process.stderr.write(`tessera-client installed: ${(bytes / 1024).toFixed(0)} KiB, no dependency\n`)
    assert.ok(bytes < maxInstalledBytes, `${bytes} bytes installed`)
    const files = installed.map((file) => file.slice('tessera-client/'.length))
    const unexpected = files.filter((file) => !/^(package\.json|README\.md|dist\/[a-z-]+\.(js|d\.ts))$/.test(file))
    assert.deepEqual(unexpected, [])
    const sources = readdirSync(join(repositoryDir, 'src/client')).filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
    )
    assert.deepEqual(
      files.filter((file) => file.endsWith('.js')).sort(),
      sources.map((file) => `dist/${file.replace(/\.ts$/, '.js')}`).sort(),
    )
  })

  it('signs in, reads the user, lists sessions and signs out from plain JavaScript against a real Tessera', async (t) => {
    const server = await startTestServer(t)
    const { username, password } = await registerUser(server)
    const output = await runCommand(process.execPath, ['sign-in.mjs', server.url, username, password], consumerDir)
    const report = JSON.parse(output) as Record<string, unknown>
    assert.equal(fileURLToPath(String(report.resolved)), join(consumerDir, 'node_modules/tessera-client/dist/index.js'))
    assert.deepEqual(
      { ...report, resolved: null },
      {
        resolved: null,
        wrongPassword: 'invalid_credentials',
        signedInAs: username,
        me: username,
        sessions: 1,
        afterSignOut: 'not_signed_in',
      },
    )
  })

  it('type-checks a strict browser TypeScript consumer against the installed declarations', async () => {
    const tscPath = join(repositoryDir, 'node_modules/typescript/bin/tsc')
    const output = await runCommand(process.execPath, [tscPath, '-p', 'tsconfig.json'], consumerDir).catch(
      (error: { stdout?: string }) => assert.fail(`tsc failed:\n${error.stdout ?? String(error)}`),
    )
    assert.equal(output, '')
  })
})
