/**
 * The example game server over WebSocket, with real processes: Tessera and the game server each
 * run on their own. A player connects with a one-time ticket, keeps progress in player data, and
 * loses the socket within 1 s of a logout or of a sign-in on another device (session limit).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import WebSocket from 'ws'
import { startGameServerProcess, type GameServerProcess } from '../helpers/game-server-process.ts'
import { startTesseraProcess, type TesseraProcess } from '../helpers/tessera-process.ts'

const password = 'correct horse battery staple'
const audience = 'game.example'
const root = mkdtempSync(join(tmpdir(), 'tessera-game-ws-'))
let tessera: TesseraProcess
let game: GameServerProcess
let adminToken = ''

async function call(path: string, init: { method?: string; body?: unknown; bearer?: string } = {}) {
  const response = await fetch(`${tessera.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  const text = await response.text()
  return { status: response.status, json: text === '' ? null : JSON.parse(text) }
}

before(async () => {
  const passwordFile = join(root, 'admin-password')
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 })
  tessera = await startTesseraProcess({
    TESSERA_DATA_DIR: root,
    TESSERA_SESSION_LIMITS: 'player:1',
    TESSERA_BOOTSTRAP_ADMIN_USERNAME: 'root',
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD_FILE: passwordFile,
  })
  adminToken = (await call('/v1/auth/login', { body: { username: 'root', password } })).json.access_token
  const client = (await call('/v1/admin/clients', { body: { name: 'game-server' }, bearer: adminToken })).json
  game = await startGameServerProcess({
    TESSERA_URL: tessera.url,
    GAME_AUDIENCE: audience,
    GAME_CLIENT_ID: client.client_id,
    GAME_CLIENT_SECRET: client.client_secret,
  })
})

after(async () => {
  await game?.stop()
  await tessera?.stop()
  rmSync(root, { recursive: true, force: true })
})

interface Connection {
  socket: WebSocket
  messages: Array<Record<string, unknown>>
  closed: Promise<{ code: number; reason: string; at: number }>
  next(type: string): Promise<Record<string, unknown>>
}

function connect(ticket: string): Promise<Connection> {
  const socket = new WebSocket(`${game.wsUrl}`)
  const messages: Array<Record<string, unknown>> = []
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: performance.now() })),
  )
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = messages.find((message) => message.type === type)
      if (found) return resolve(found)
      const timer = setTimeout(() => reject(new Error(`no ${type} message`)), 5000)
      socket.on('message', function listener(raw) {
        const message = JSON.parse(String(raw)) as Record<string, unknown>
        if (message.type !== type) return
        clearTimeout(timer)
        socket.off('message', listener)
        resolve(message)
      })
    })
  socket.on('message', (raw) => void messages.push(JSON.parse(String(raw)) as Record<string, unknown>))
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.once('open', () => {
      socket.send(JSON.stringify({ type: 'hello', ticket }))
      resolve({ socket, messages, closed, next })
    })
  })
}

async function newPlayer(username: string) {
  const registered = await call('/v1/auth/register', { body: { username, password } })
  assert.equal(registered.status, 201)
  const id = registered.json.id as string
  assert.equal(
    (
      await call(`/v1/admin/users/${id}/roles`, {
        method: 'PUT',
        body: { roles: ['player', 'user'] },
        bearer: adminToken,
      })
    ).status,
    200,
  )
  return id
}

async function signIn(username: string) {
  return (await call('/v1/auth/login', { body: { username, password } })).json as {
    access_token: string
    session_id: string
  }
}

async function ticketFor(accessToken: string): Promise<string> {
  const answer = await call('/v1/tickets', { body: { audience }, bearer: accessToken })
  assert.equal(answer.status, 201, JSON.stringify(answer.json))
  return answer.json.ticket as string
}

describe('example game server over WebSocket', () => {
  it('admits a player with a ticket once, keeps progress in player data, and closes the socket within 1 s of a logout', async (t) => {
    const id = await newPlayer('miner')
    const login = await signIn('miner')
    const ticket = await ticketFor(login.access_token)
    const player = await connect(ticket)
    const welcome = await player.next('welcome')
    assert.equal(welcome.user_id, id)
    assert.deepEqual(welcome.progress, {})
    player.socket.send(JSON.stringify({ type: 'score', points: 5 }))
    assert.deepEqual((await player.next('progress')).progress, { score: 5 })

    // The same ticket again: refused.
    const replay = await connect(ticket)
    assert.equal((await replay.closed).code, 4401)

    // Progress is kept across connections.
    const again = await connect(await ticketFor(login.access_token))
    assert.deepEqual((await again.next('welcome')).progress, { score: 5 })

    const startedAt = performance.now()
    assert.equal((await call('/v1/auth/logout', { method: 'POST', bearer: login.access_token })).status, 204)
    const [first, second] = await Promise.all([player.closed, again.closed])
    for (const closed of [first, second]) {
      assert.equal(closed.code, 4001)
      assert.equal(closed.reason, 'session_ended:logout')
      assert.ok(closed.at - startedAt < 1000, `closed ${closed.at - startedAt} ms after the logout`)
    }
    t.diagnostic(`socket closed ${(first.at - startedAt).toFixed(1)} ms after the logout answered`)
  })

  it('closes the socket of a player who signs in on another device (player:1), telling it why', async (t) => {
    await newPlayer('nomad')
    const phone = await signIn('nomad')
    const player = await connect(await ticketFor(phone.access_token))
    await player.next('welcome')
    await signIn('nomad')
    // Timed from the answer: the sign-in's own password hash is no part of the kick.
    const answeredAt = performance.now()
    const closed = await player.closed
    assert.equal(closed.code, 4001)
    assert.equal(closed.reason, 'signed_in_elsewhere')
    assert.ok(closed.at - answeredAt < 1000, `closed ${closed.at - answeredAt} ms after the other sign-in answered`)
    t.diagnostic(`socket closed ${(closed.at - answeredAt).toFixed(1)} ms after the other sign-in answered`)
  })
})
