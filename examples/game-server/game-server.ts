/**
 * A small game-server-style API that trusts Tessera's access tokens. Each request is verified
 * offline against Tessera's JWKS (no call to Tessera per request); with a service client it
 * also asks Tessera whether the token is still live, so a logout or a kick applies at once.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { createFastifyAuthHook, type Principal, type Verifier } from 'tessera/verifier'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

interface Match {
  id: string
  players: Set<string>
}

const maxPlayersPerMatch = 4

function requirePrincipal(principal: Principal | null): Principal {
  if (!principal) throw new TypeError('route is missing the Tessera hook')
  return principal
}

/**
 * Ends every Tessera session of a player (`DELETE /v1/admin/users/{id}/sessions`) with the
 * moderator's own token, which carries the admin role; the number ended, or null when Tessera
 * refused.
 */
async function endTesseraSessions(tesseraUrl: string, userId: string, authorization: string): Promise<number | null> {
  const response = await fetch(`${tesseraUrl}/v1/admin/users/${encodeURIComponent(userId)}/sessions`, {
    method: 'DELETE',
    headers: { authorization },
    signal: AbortSignal.timeout(5000),
  })
  if (!response.ok) return null
  const body = (await response.json()) as { ended_sessions: number }
  return body.ended_sessions
}

/**
 * `tesseraUrl`: where a kick also ends the player's Tessera sessions, so a kicked player cannot
 * rejoin with the token they hold (the verifier sees it at once with introspection, else when the
 * token expires) nor refresh it. Without it, a kick only removes the player from the match.
 */
export function buildGameServer(deps: { verifier: Verifier; tesseraUrl?: string }): FastifyInstance {
  const app = Fastify()
  const matches: Match[] = []

  function joinMatch(userId: string): Match {
    const current = matches.find((match) => match.players.has(userId))
    if (current) return current
    let open = matches.find((match) => match.players.size < maxPlayersPerMatch)
    if (!open) {
      open = { id: `match-${matches.length + 1}`, players: new Set() }
      matches.push(open)
    }
    open.players.add(userId)
    return open
  }

  app.decorateRequest('principal', null)
  app.get('/health', async () => ({ status: 'ok' }))

  app.register(async (players) => {
    players.addHook('onRequest', createFastifyAuthHook(deps.verifier))

    players.get('/me', async (request) => {
      const principal = requirePrincipal(request.principal)
      // `username` is for display (who is playing); the player is `user_id`.
      return {
        user_id: principal.userId,
        username: principal.username,
        session_id: principal.sessionId,
        roles: principal.roles,
      }
    })

    players.post('/matches/join', async (request) => {
      const principal = requirePrincipal(request.principal)
      const match = joinMatch(principal.userId)
      return { match_id: match.id, players: match.players.size }
    })
  })

  app.register(async (moderators) => {
    moderators.addHook('onRequest', createFastifyAuthHook(deps.verifier, { roles: ['admin'] }))

    moderators.post<{ Params: { userId: string } }>('/matches/kick/:userId', async (request) => {
      const kicked = matches.filter((match) => match.players.delete(request.params.userId)).length
      if (deps.tesseraUrl === undefined) return { kicked: kicked > 0 }
      const endedSessions = await endTesseraSessions(
        deps.tesseraUrl,
        request.params.userId,
        request.headers.authorization ?? '',
      )
      return { kicked: kicked > 0, ended_sessions: endedSessions }
    })
  })

  return app
}
