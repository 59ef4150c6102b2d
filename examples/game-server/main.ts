/**
 * Runs the example game server against a running Tessera:
 *
 *   TESSERA_URL=http://127.0.0.1:8080 node --conditions=tessera-source examples/game-server/main.ts
 *
 * (`tessera/verifier` is src/verifier inside this repository; a project of its own installs the
 * tessera-verifier package, imports from 'tessera-verifier' and runs its copy with plain `node`.)
 *
 * Settings (environment): TESSERA_URL (Tessera's public URL, the token issuer), TESSERA_API_URL
 * (where this server reaches Tessera, default TESSERA_URL), GAME_AUDIENCE (the `aud` to accept
 * and the audience of tickets; default TESSERA_URL, which is Tessera's default audience),
 * GAME_PORT (HTTP API, default 9090), and GAME_CLIENT_ID and GAME_CLIENT_SECRET (a service
 * client from `tessera client create game-server`). With a service client, the server also
 * takes players over WebSocket on GAME_WS_PORT (default 9091; tickets, player data) and follows
 * Tessera's event stream, closing a player's socket the moment their session ends.
 */
import { createVerifier, type EndedSession } from 'tessera/verifier'
import { buildGameServer } from './game-server.ts'
import { buildRealtimeGameServer, type RealtimeGameServer } from './realtime-server.ts'

const issuer = process.env.TESSERA_URL ?? 'http://127.0.0.1:8080'
const apiUrl = process.env.TESSERA_API_URL ?? issuer
const audience = process.env.GAME_AUDIENCE ?? issuer
const clientId = process.env.GAME_CLIENT_ID
const clientSecret = process.env.GAME_CLIENT_SECRET

let realtime: RealtimeGameServer | null = null
const verifier = createVerifier({
  issuer,
  audience,
  jwksUrl: `${apiUrl}/.well-known/jwks.json`,
  ...(clientId && clientSecret
    ? {
        revocationStream: {
          clientId,
          clientSecret,
          url: `${apiUrl}/v1/events/stream`,
          onSessionEnded: (ended: EndedSession) => realtime?.endSession(ended),
          onError: (error: Error) => process.stderr.write(`event stream: ${error.message}\n`),
        },
      }
    : {}),
})

// A kick also ends the player's sessions at Tessera (the moderator's token carries the admin role).
const app = buildGameServer({ verifier, tesseraUrl: issuer })
const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.GAME_PORT ?? 9090) })
process.stdout.write(`game server on ${url}, trusting tokens of ${issuer}\n`)
if (clientId && clientSecret) {
  realtime = buildRealtimeGameServer({ tessera: { url: apiUrl, clientId, clientSecret, audience }, verifier })
  const port = Number(process.env.GAME_WS_PORT ?? 9091)
  await new Promise<void>((resolve) => realtime?.server.listen(port, '127.0.0.1', resolve))
  await verifier.revocationsReady()
  const address = realtime.server.address()
  process.stdout.write(
    `players over WebSocket at ws://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/play\n`,
  )
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close()
    void realtime?.close()
    verifier.close()
  })
}
