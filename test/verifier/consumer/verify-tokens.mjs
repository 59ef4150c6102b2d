// A resource server's plain JavaScript, run by test/verifier/package.test.ts in a project that
// installed the tessera-verifier tarball: node verify-tokens.mjs <issuer> <audience> <jwks-url> <token>…
// Prints what it resolved and imported, and each token's principal or refusal code, as JSON.
import * as verifierModule from 'tessera-verifier'
import { createVerifier, VerifierError } from 'tessera-verifier'

const [issuer, audience, jwksUrl, ...tokens] = process.argv.slice(2)
const verifier = createVerifier({ issuer, audience, jwksUrl })
const results = []
for (const token of tokens) {
  try {
    const principal = await verifier.verifyAccessToken(token)
    results.push({ userId: principal.userId, sessionId: principal.sessionId, roles: principal.roles })
  } catch (error) {
    if (!(error instanceof VerifierError)) throw error
    results.push({ code: error.code })
  }
}
process.stdout.write(
  JSON.stringify({
    resolved: import.meta.resolve('tessera-verifier'),
    exports: Object.fromEntries(Object.entries(verifierModule).map(([name, value]) => [name, typeof value])),
    results,
  }),
)
