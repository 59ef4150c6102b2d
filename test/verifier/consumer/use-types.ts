/**
 * A resource server's TypeScript, type-checked by test/verifier/package.test.ts against the
 * declarations of the installed tessera-verifier package, with `"module": "nodenext"` and strict
 * settings. The repository's own tsconfig leaves this directory out: it cannot resolve the package.
 */
import {
  createFastifyAuthHook,
  createVerifier,
  VerifierError,
  type Principal,
  type VerifierErrorCode,
} from 'tessera-verifier'

const verifier = createVerifier({
  issuer: 'https://auth.example',
  audience: 'https://game.example',
  algorithms: ['EdDSA'],
})

export const requireAdmin = createFastifyAuthHook(verifier, { roles: ['admin'] })

export async function readUserId(authorization: string): Promise<string> {
  const principal: Principal = await verifier.authenticateRequest({ headers: { authorization } })
  return principal.userId
}

export function readRefusalCode(error: unknown): VerifierErrorCode | null {
  return error instanceof VerifierError ? error.code : null
}

// Declarations that had decayed to `any` would accept both.
// @ts-expect-error the issuer is a string
export const numericIssuer = () => createVerifier({ issuer: 1, audience: 'https://game.example' })
export const symmetric = () =>
  // @ts-expect-error the algorithms are EdDSA, ES256 and RS256 only
  createVerifier({ issuer: 'https://auth.example', audience: 'https://game.example', algorithms: ['HS256'] })
