/**
 * Interoperability: tokens issued by Tessera verify with an independent JWT implementation,
 * Python's PyJWT, reading only the published JWKS. The test needs PyJWT with `cryptography`
 * (Debian: `apt-get install python3-jwt`); without it, it is skipped and says so, and with CI=true
 * it fails.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { requirePython } from '../helpers/python.ts'
import { logInWithToken, registerUser, startTestServer } from '../helpers/test-server.ts'

const verifyScript = `
import json, sys, jwt
request = json.load(sys.stdin)
kid = jwt.get_unverified_header(request["token"])["kid"]
header = jwt.get_unverified_header(request["token"])
jwk = next(key for key in request["jwks"]["keys"] if key["kid"] == kid)
key = jwt.PyJWK(jwk).key
claims = jwt.decode(
    request["token"], key=key, algorithms=[jwk["alg"]],
    audience=request["audience"], issuer=request["issuer"],
    options={"require": ["exp", "iat", "iss", "aud", "sub"]},
    leeway=5,
)
print(json.dumps({"typ": header.get("typ"), "claims": claims}))
`

function verifyWithPyJwt(python: string, input: Record<string, unknown>) {
  const run = spawnSync(python, ['-c', verifyScript], { input: JSON.stringify(input), encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('interoperability with PyJWT', () => {
  for (const algorithm of ['EdDSA', 'ES256', 'RS256'] as const) {
    it(`an ${algorithm} access token verifies with PyJWT against the published JWKS`, async (t) => {
      const python = requirePython(
        t,
        ['jwt', 'cryptography'],
        'from jwt.algorithms import OKPAlgorithm, ECAlgorithm, RSAAlgorithm',
      )
      if (python === null) return
      const start = new Date(Math.floor(Date.now() / 1000) * 1000)
      const server = await startTestServer(t, { TESSERA_SIGNING_ALGORITHM: algorithm }, { clockStart: start })
      const { username, id } = await registerUser(server)
      const tokens = await logInWithToken(server, username)
      const jwks = (await server.request('/.well-known/jwks.json')).json
      const input = {
        jwks,
        token: tokens.access_token,
        issuer: server.config.tokens.issuer,
        audience: server.config.tokens.audience,
      }
      const verified = verifyWithPyJwt(python, input)
      assert.equal(verified.status, 0, verified.stderr)
      const answer = JSON.parse(verified.stdout)
      assert.equal(answer.typ, 'at+jwt')
      assert.equal(answer.claims.sub, id)
      assert.equal(answer.claims.sid, tokens.session_id)
      assert.deepEqual(answer.claims.roles, ['user'])

      // The negative control: PyJWT refuses a changed payload and another audience.
      const [header, , signature] = tokens.access_token.split('.')
      const changed = Buffer.from(JSON.stringify({ ...answer.claims, roles: ['admin'] })).toString('base64url')
      assert.notEqual(verifyWithPyJwt(python, { ...input, token: `${header}.${changed}.${signature}` }).status, 0)
      assert.notEqual(verifyWithPyJwt(python, { ...input, audience: 'https://other.example' }).status, 0)
    })
  }
})
