import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import type { Io } from './io.ts'
import { runCli } from './main.ts'
import { loadConfig } from '../config/load.ts'
import { openRuntime } from '../runtime.ts'

interface CapturingIo extends Io {
  output: { stdout: string; stderr: string }
}

function createIo(t: TestContext): CapturingIo {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cli-tokens-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const output = { stdout: '', stderr: '' }
  return {
    output,
    env: { TESSERA_DATA_DIR: dataDir },
    isInteractive: false,
    stdout: (text) => void (output.stdout += text),
    stderr: (text) => void (output.stderr += text),
    readSecret: async () => {
      throw new Error('no secret is read by these commands')
    },
  }
}

async function run(io: CapturingIo, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  io.output.stdout = ''
  io.output.stderr = ''
  const code = await runCli(args, io)
  return { code, ...io.output }
}

describe('tessera keys', () => {
  it('keys list refuses a directory without data, naming it, and creates nothing there', async (t) => {
    const io = createIo(t)
    const refused = await run(io, ['keys', 'list'])
    assert.equal(refused.code, 1)
    assert.match(
      refused.stderr,
      new RegExp(`There is no master.key in ${io.env.TESSERA_DATA_DIR}; this command does not create one`),
    )
    assert.deepEqual(readdirSync(io.env.TESSERA_DATA_DIR ?? ''), [])
  })

  it('keys list shows the one active key of a fresh installation', async (t) => {
    const io = createIo(t)
    await (await openRuntime(loadConfig(io.env))).close()
    const listed = await run(io, ['keys', 'list', '--json'])
    assert.equal(listed.code, 0)
    const { keys } = JSON.parse(listed.stdout)
    assert.equal(keys.length, 1)
    assert.equal(keys[0].state, 'active')
    assert.equal(keys[0].algorithm, 'EdDSA')
  })

  it('keys rotate publishes a pending key and schedules the retirement of the active one', async (t) => {
    const io = createIo(t)
    const rotated = await run(io, ['keys', 'rotate'])
    assert.equal(rotated.code, 0, rotated.stderr)
    assert.match(
      rotated.stdout,
      /^Published signing key [0-9a-f-]{36} \(EdDSA\); it signs from \S+Z\.\nKey [0-9a-f-]{36} leaves the JWKS at \S+Z\.\n/,
    )
    const { keys } = JSON.parse((await run(io, ['keys', 'list', '--json'])).stdout)
    assert.deepEqual(
      keys.map((key: { state: string }) => key.state),
      ['active', 'pending'],
    )
    const activatesAt = Date.parse(keys[1].activates_at)
    assert.equal(Date.parse(keys[0].retires_at), activatesAt + (600 + 5) * 1000)
    assert.ok(Math.abs(activatesAt - Date.now() - 600_000) < 60_000)
    const table = await run(io, ['keys', 'list'])
    assert.match(table.stdout, /^KID\s+ALG\s+STATE\s+SIGNS FROM\s+LEAVES JWKS AT\n/)
  })

  for (const algorithm of ['ES256', 'RS256']) {
    it(`keys rotate --algorithm ${algorithm} --json describes the new key and never a private member`, async (t) => {
      const io = createIo(t)
      const rotated = await run(io, ['keys', 'rotate', '--algorithm', algorithm, '--json'])
      assert.equal(rotated.code, 0)
      const answer = JSON.parse(rotated.stdout)
      assert.equal(answer.key.algorithm, algorithm)
      assert.deepEqual(Object.keys(answer.key).sort(), [
        'activates_at',
        'algorithm',
        'created_at',
        'kid',
        'retires_at',
        'state',
      ])
      assert.doesNotMatch(rotated.stdout, /"d"|privateJwk|v1\./)
    })
  }

  it('refuses an unknown algorithm, stray arguments and subcommands as usage errors', async (t) => {
    const io = createIo(t)
    for (const args of [
      ['keys', 'rotate', '--algorithm', 'HS256'],
      ['keys', 'rotate', '--algorithm', 'rs256'],
      ['keys', 'list', 'extra'],
      ['keys', 'list', '--algorithm', 'EdDSA'],
      ['keys', 'retire'],
      ['keys'],
    ]) {
      assert.equal((await run(io, args)).code, 2, args.join(' '))
    }
    // Refused command lines touch nothing: the directory is still empty.
    assert.deepEqual(readdirSync(io.env.TESSERA_DATA_DIR ?? ''), [])
  })
})

describe('tessera client', () => {
  it('client create prints the secret once; client list never shows it', async (t) => {
    const io = createIo(t)
    const created = await run(io, ['client', 'create', 'game-server', '--json'])
    assert.equal(created.code, 0, created.stderr)
    const client = JSON.parse(created.stdout)
    assert.equal(Buffer.from(client.client_secret, 'base64url').length, 32)
    const listed = await run(io, ['client', 'list', '--json'])
    assert.deepEqual(JSON.parse(listed.stdout).clients, [
      { client_id: client.client_id, name: 'game-server', created_at: client.created_at },
    ])
    const table = await run(io, ['client', 'list'])
    assert.match(table.stdout, /^NAME\s+CLIENT ID\s+CREATED\ngame-server\s/)
    for (const output of [listed.stdout, table.stdout]) assert.equal(output.includes(client.client_secret), false)
  })

  it('client create in human form names both credentials and warns that the secret is shown once', async (t) => {
    const io = createIo(t)
    const created = await run(io, ['client', 'create', 'chat'])
    assert.match(created.stdout, /client id:\s+\S+\n\s+client secret:\s+[A-Za-z0-9_-]{43}\n/)
    assert.match(created.stdout, /shown only now/)
    assert.match(created.stdout, /ticket redemption, session and player data, and the event stream/)
  })

  it('refuses a taken or invalid name with exit code 1 and a missing one with 2', async (t) => {
    const io = createIo(t)
    await run(io, ['client', 'create', 'game-server'])
    const taken = await run(io, ['client', 'create', 'game-server'])
    assert.equal(taken.code, 1)
    assert.match(taken.stderr, /client_name_taken/)
    assert.equal((await run(io, ['client', 'create', 'Game Server'])).code, 1)
    assert.equal((await run(io, ['client', 'create'])).code, 2)
    assert.equal((await run(io, ['client', 'create', 'a', 'b'])).code, 2)
    assert.equal(JSON.parse((await run(io, ['client', 'list', '--json'])).stdout).clients.length, 1)
  })

  it('client delete removes a client by name, and refuses an unknown one with 1', async (t) => {
    const io = createIo(t)
    await run(io, ['client', 'create', 'game-server'])
    assert.equal((await run(io, ['client', 'delete', 'game-server'])).code, 0)
    assert.equal((await run(io, ['client', 'list'])).stdout, 'No service clients.\n')
    assert.equal((await run(io, ['client', 'delete', 'game-server'])).code, 1)
  })
})
