/**
 * The OpenAPI document as a running Tessera serves it (`tessera serve`, metrics included): it
 * passes `redocly lint` under the committed redocly.yaml with no problem at all, every operation
 * has a camelCase operationId and declares its security (public ones `security: []`), and a
 * client generated from it by openapi-typescript type-checks strictly and works against the
 * server. The consumer in ./consumer is excluded from the repository's tsconfig: the types it
 * imports exist only once this test has generated them.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'

const runFile = promisify(execFile)
const repositoryDir = fileURLToPath(new URL('../../', import.meta.url))
const consumerFixtureDir = fileURLToPath(new URL('./consumer/', import.meta.url))
const redoclyCli = join(repositoryDir, 'node_modules/@redocly/cli/bin/cli.js')
const openapiTypescriptCli = join(repositoryDir, 'node_modules/openapi-typescript/bin/cli.js')
const tscPath = join(repositoryDir, 'node_modules/typescript/bin/tsc')

const publicUrl = 'https://auth.example'
const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const

interface Operation {
  operationId?: string
  security?: Array<Record<string, string[]>>
}

interface OpenApiDocument {
  paths: Record<string, Partial<Record<(typeof httpMethods)[number], Operation>>>
}

/** The routes that answer without any credential. */
const publicOperations = [
  'GET /healthz',
  'GET /readyz',
  'GET /.well-known/jwks.json',
  'GET /.well-known/oauth-authorization-server',
  'GET /.well-known/openid-configuration',
  'POST /v1/auth/register',
  'POST /v1/auth/login',
  'POST /v1/auth/refresh',
  // A second step and a passkey sign-in prove themselves with the challenge or the assertion.
  'POST /v1/auth/mfa',
  'POST /v1/auth/mfa/passkey-options',
  'POST /v1/auth/passkey',
  'POST /v1/auth/passkey/options',
  // A reset request answers alike for everyone; a mailed token proves itself.
  'POST /v1/auth/password-reset',
  'POST /v1/auth/password-reset/confirm',
  'POST /v1/me/email/verify',
  // A device proves itself with its secret, or is new and gets a guest account.
  'POST /v1/auth/device',
]

function listOperations(document: OpenApiDocument): Array<{ name: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    httpMethods.flatMap((method) => {
      const operation = item[method]
      return operation ? [{ name: `${method.toUpperCase()} ${path}`, operation }] : []
    }),
  )
}

async function runNode(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return runFile(process.execPath, args, { cwd, env, timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : 1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? String(error),
    }),
  )
}

describe('the OpenAPI document', { timeout: 180_000 }, () => {
  let workDir = ''
  let tessera: TesseraProcess | null = null
  let document: OpenApiDocument = { paths: {} }
  let documentPath = ''

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'tessera-openapi-'))
    tessera = await startTesseraProcess({ TESSERA_DATA_DIR: join(workDir, 'data'), TESSERA_PUBLIC_URL: publicUrl })
    const response = await fetch(`${tessera.url}/openapi.json`)
    assert.equal(response.status, 200)
    document = (await response.json()) as OpenApiDocument
    documentPath = join(workDir, 'openapi.json')
    writeFileSync(documentPath, JSON.stringify(document, null, 2))
  })

  after(async () => {
    await tessera?.stop()
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true })
  })

  it('passes redocly lint with the committed rules: no error and no warning', async () => {
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }
    const config = join(repositoryDir, 'redocly.yaml')
    const lint = await runNode([redoclyCli, 'lint', '--config', config, '--format', 'json', documentPath], workDir, env)
    const report = JSON.parse(lint.stdout) as {
      totals: { errors: number; warnings: number }
      problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }>
    }
    const problems = report.problems.map(
      (problem) => `${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer}`,
    )
    assert.deepEqual(problems, [])
    assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 })
    assert.equal(lint.code, 0, lint.stderr)
  })

  it('the lint fails on the faults it exists for: a missing operationId and a public route without security', async () => {
    const broken = structuredClone(document)
    delete broken.paths['/v1/auth/login']?.post?.operationId
    delete broken.paths['/healthz']?.get?.security
    const brokenPath = join(workDir, 'broken.json')
    writeFileSync(brokenPath, JSON.stringify(broken))
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }
    const lint = await runNode(
      [redoclyCli, 'lint', '--config', join(repositoryDir, 'redocly.yaml'), '--format', 'json', brokenPath],
      workDir,
      env,
    )
    assert.notEqual(lint.code, 0)
    const rules = (JSON.parse(lint.stdout) as { problems: Array<{ ruleId: string; severity: string }> }).problems
    assert.deepEqual(rules.map((problem) => [problem.ruleId, problem.severity]).sort(), [
      ['operation-operationId', 'error'],
      ['security-defined', 'error'],
    ])
  })

  it('names every operation with a unique camelCase verb phrase and declares who may call it', () => {
    const operations = listOperations(document)
    assert.ok(operations.length >= 29, `${operations.length} operations`)
    const ids = operations.map(({ operation }) => operation.operationId ?? '')
    for (const [index, id] of ids.entries())
      assert.match(id, /^[a-z]+(?:[A-Z][a-z0-9]*)+$|^[a-z]+$/, operations[index]?.name)
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique')
    const open = operations.filter(({ operation }) => operation.security?.length === 0).map(({ name }) => name)
    assert.deepEqual(open.sort(), [...publicOperations].sort())
    for (const { name, operation } of operations)
      assert.ok(Array.isArray(operation.security), `${name} declares its security`)
  })

  it('generates TypeScript types with openapi-typescript that a strict client type-checks and runs with', async () => {
    const consumerDir = join(workDir, 'consumer')
    cpSync(consumerFixtureDir, consumerDir, { recursive: true })
    const generated = await runNode(
      [openapiTypescriptCli, documentPath, '--output', join(consumerDir, 'tessera-api.d.ts')],
      workDir,
    )
    assert.equal(generated.code, 0, generated.stderr)
    const typeRoots = join(repositoryDir, 'node_modules/@types')
    const checked = await runNode([tscPath, '-p', 'tsconfig.json', '--typeRoots', typeRoots], consumerDir)
    assert.equal(checked.code, 0, `tsc failed:\n${checked.stdout}${checked.stderr}`)

    const username = `openapi_${process.pid}`
    const ran = await runNode(['use-operations.ts', tessera?.url ?? '', username], consumerDir)
    assert.equal(ran.code, 0, ran.stderr)
    const answer = JSON.parse(ran.stdout) as Record<string, unknown>
    assert.deepEqual(answer.roles, ['user'])
    assert.deepEqual(answer.sessionIds, [answer.signedInSession])
    assert.equal(answer.refused, 'invalid_credentials')
    assert.equal(answer.jwksUri, `${publicUrl}/.well-known/jwks.json`)
  })
})
