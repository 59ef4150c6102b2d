/**
 * Runs the example game server against a running Tessera:
 *
 *   TESSERA_URL=http://127.0.0.1:8080 node --conditions=tessera-source examples/game-server/main.ts
 *
 * (`tessera/verifier` is src/verifier inside this repository; a project of its own installs the
 * tessera-verifier package, imports from 'tessera-verifier' and runs its copy with plain `node`.)
 *
 * Settings (environment): TESSERA_URL (Tessera's public URL, the token issuer), GAME_AUDIENCE
 * (the `aud` to accept; default TESSERA_URL, which is Tessera's default audience), GAME_PORT
 * (default 9090), and optionally GAME_CLIENT_ID and GAME_CLIENT_SECRET (a service client from
 * `tessera client create game-server`) to check every token with Tessera as well.
 */
import { createVerifier } from 'tessera/verifier'
import { buildGameServer } from './game-server.ts'

const issuer = process.env.TESSERA_URL ?? 'http://127.0.0.1:8080'
const clientId = process.env.GAME_CLIENT_ID
const clientSecret = process.env.GAME_CLIENT_SECRET

const verifier = createVerifier({
  issuer,
  audience: process.env.GAME_AUDIENCE ?? issuer,
  ...(clientId && clientSecret ? { introspection: { clientId, clientSecret, cacheSeconds: 5 } } : {}),
})

// A kick also ends the player's sessions at Tessera (the moderator's token carries the admin role).
const app = buildGameServer({ verifier, tesseraUrl: issuer })
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.GAME_PORT ?? 9090) })
process.stdout.write(`game server on ${url}, trusting tokens of ${issuer}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())
