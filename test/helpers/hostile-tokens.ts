/**
 * The hostile-token set of the token-lifecycle issue (and SECURITY.md JW-01…JW-08): forgeries,
 * confusions and malformations that Tessera and the verifier must both refuse. Tokens that must
 * fail on their claims or header are signed with the real key, so the refusal cannot come from
 * the signature.
 */
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto'
import {
  decodeJwt,
  decodeProtectedHeader,
  FlattenedSign,
  generateKeyPair,
  SignJWT,
  exportJWK,
  type JWTPayload,
} from 'jose'
import type { TestServer } from './test-server.ts'

export type HostileToken = [name: string, token: string]

const order = 2n ** 252n + 27742317777372353535851937790883648493n

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/** An Ed25519 signature with S replaced by S + L: the same point equation, a non-canonical S. */
function addGroupOrderToS(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url')
  const s = BigInt(`0x${Buffer.from(bytes.subarray(32)).reverse().toString('hex')}`) + order
  const sBytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse()
  return Buffer.concat([bytes.subarray(0, 32), sBytes]).toString('base64url')
}

/**
 * Signs `header` and an encoded payload with the server's real key, bypassing jose, which will
 * not sign a header it would refuse (an unknown `crit`).
 */
export async function signWithRawHeader(
  server: TestServer,
  header: Record<string, unknown>,
  payloadPart: string,
): Promise<string> {
  const signingKey = await server.readSigningKey()
  const signingInput = `${encodeSegment(header)}.${payloadPart}`
  const algorithm = signingKey.algorithm === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' }
  const signature = await crypto.subtle.sign(algorithm, signingKey.privateKey, new TextEncoder().encode(signingInput))
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`
}

/**
 * Builds the set from a genuine EdDSA access token of `server`. `listenerUrl` is where the
 * `jku` and `x5u` headers point: it must receive no request at all.
 */
export async function buildHostileTokens(
  server: TestServer,
  genuine: string,
  listenerUrl: string,
): Promise<HostileToken[]> {
  const [headerPart = '', payloadPart = '', signaturePart = ''] = genuine.split('.')
  const header = decodeProtectedHeader(genuine)
  const claims = decodeJwt(genuine)
  const signingKey = await server.readSigningKey()
  const nowSeconds = Math.floor(server.clock.now().getTime() / 1000)
  const publicJwk = server.application.tokenAdmin.publicJwks().keys.find((key) => key.kid === header.kid)
  const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const attackerJwk = await exportJWK(attacker.publicKey)

  const signReal = (payload: JWTPayload, extraHeader: Record<string, unknown> = {}) =>
    new SignJWT({ ...claims, ...payload })
      .setProtectedHeader({ alg: signingKey.algorithm, kid: signingKey.kid, typ: 'at+jwt', ...extraHeader })
      .sign(signingKey.privateKey)
  const signAttacker = (extraHeader: Record<string, unknown>) =>
    new SignJWT({ ...claims, roles: ['admin', 'user'] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...extraHeader })
      .sign(attacker.privateKey)
  const hmacWith = (secret: string | Uint8Array, extraHeader: Record<string, unknown> = {}) => {
    const forgedHeader = encodeSegment({ alg: 'HS256', kid: header.kid, typ: 'at+jwt', ...extraHeader })
    return `${forgedHeader}.${payloadPart}.${createHmac('sha256', secret).update(`${forgedHeader}.${payloadPart}`).digest('base64url')}`
  }
  const signRawHeader = (rawHeader: Record<string, unknown>) => signWithRawHeader(server, rawHeader, payloadPart)
  const withHeader = (replacement: Record<string, unknown>) =>
    `${encodeSegment(replacement)}.${payloadPart}.${signaturePart}`
  const unencodedPayload = await new FlattenedSign(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader({ alg: signingKey.algorithm, kid: signingKey.kid, typ: 'at+jwt', b64: false, crit: ['b64'] })
    .sign(signingKey.privateKey)

  return [
    ['alg none, empty signature', `${encodeSegment({ alg: 'none', typ: 'at+jwt' })}.${payloadPart}.`],
    [
      'alg none with the real kid',
      `${encodeSegment({ alg: 'none', kid: header.kid, typ: 'at+jwt' })}.${payloadPart}.${signaturePart}`,
    ],
    ['alg NONE', `${encodeSegment({ alg: 'NONE', kid: header.kid, typ: 'at+jwt' })}.${payloadPart}.`],
    ['HS256 keyed with the public JWK', hmacWith(JSON.stringify(publicJwk))],
    ['HS256 keyed with the raw public key bytes', hmacWith(Buffer.from(String(publicJwk?.x), 'base64url'))],
    ['HS256 keyed with the kid', hmacWith(String(header.kid))],
    ['ES256 header on the EdDSA key', withHeader({ ...header, alg: 'ES256' })],
    ['unknown kid', withHeader({ ...header, kid: 'no-such-key' })],
    ['no kid, real signature', await signReal({}, { kid: undefined })],
    ['kid with a path', await signReal({}, { kid: '../../../../etc/passwd' })],
    ['kid with SQL', await signReal({}, { kid: "' OR '1'='1' --" })],
    ['kid __proto__', await signReal({}, { kid: '__proto__' })],
    ['kid constructor', await signReal({}, { kid: 'constructor' })],
    ['embedded jwk of the attacker', await signAttacker({ jwk: attackerJwk })],
    ['jku to another server', await signAttacker({ kid: 'attacker', jku: `${listenerUrl}/jwks.json` })],
    ['x5u to another server', await signAttacker({ kid: 'attacker', x5u: `${listenerUrl}/cert.pem` })],
    ['jku with the real kid', await signAttacker({ kid: header.kid, jku: `${listenerUrl}/jwks.json` })],
    ['signature of another key under the real kid', await signAttacker({ kid: header.kid })],
    ['expired', await signReal({ iat: nowSeconds - 3600, exp: nowSeconds - 600 })],
    ['not yet valid (nbf)', await signReal({ nbf: nowSeconds + 600 })],
    ['issued in the future', await signReal({ iat: nowSeconds + 600, exp: nowSeconds + 1200 })],
    ['lifetime beyond the maximum', await signReal({ iat: nowSeconds - 1000, exp: nowSeconds + 3600 })],
    ['wrong issuer', await signReal({ iss: 'https://evil.example' })],
    ['wrong audience', await signReal({ aud: 'https://other-api.example' })],
    ['audience list without ours', await signReal({ aud: ['https://other-api.example'] })],
    ['no exp', await signReal({ exp: undefined })],
    ['no sid', await signReal({ sid: undefined })],
    ['no client_id', await signReal({ client_id: undefined })],
    ['roles not a list', await signReal({ roles: 'admin' })],
    ['typ JWT', await signReal({}, { typ: 'JWT' })],
    ['no typ', await signReal({}, { typ: undefined })],
    ['unknown crit', await signRawHeader({ ...header, crit: ['urn:example:unknown'], 'urn:example:unknown': true })],
    ['b64 false, compact', `${unencodedPayload.protected}.${payloadPart}.${unencodedPayload.signature}`],
    ['payload changed', `${headerPart}.${encodeSegment({ ...claims, roles: ['admin', 'user'] })}.${signaturePart}`],
    ['truncated', genuine.slice(0, -10)],
    ['signature missing', `${headerPart}.${payloadPart}.`],
    ['four segments', `${genuine}.${signaturePart}`],
    ['five segments (JWE shape)', `${headerPart}.${payloadPart}.${signaturePart}.${signaturePart}.${signaturePart}`],
    ['JSON serialization', JSON.stringify({ protected: headerPart, payload: payloadPart, signature: signaturePart })],
    ['100 KB', `${headerPart}.${'A'.repeat(100 * 1024)}.${signaturePart}`],
    [
      'non-base64url characters',
      `${headerPart}.${payloadPart}.${signaturePart.slice(0, 10)}+/=${signaturePart.slice(13)}`,
    ],
    ['padded base64', `${headerPart}==.${payloadPart}.${signaturePart}`],
    ['Ed25519 S + L (malleated signature)', `${headerPart}.${payloadPart}.${addGroupOrderToS(signaturePart)}`],
    ['signature of zeros', `${headerPart}.${payloadPart}.${Buffer.alloc(64).toString('base64url')}`],
  ]
}

/** ES256 psychic signatures (CVE-2022-21449): r = s = 0, raw and DER, under a real ES256 kid. */
export function buildPsychicSignatureTokens(genuineEs256: string): HostileToken[] {
  const [headerPart = '', payloadPart = ''] = genuineEs256.split('.')
  return [
    ['ES256 signature of 64 zero bytes', `${headerPart}.${payloadPart}.${Buffer.alloc(64).toString('base64url')}`],
    ['ES256 DER signature r = s = 0', `${headerPart}.${payloadPart}.MAYCAQACAQA`],
    ['ES256 signature of one zero byte', `${headerPart}.${payloadPart}.AA`],
  ]
}

/**
 * RSA confusions under a real RS256 kid: HS256 keyed with the public key as PEM and as its JWK
 * (the classic forgery against libraries that let the header pick the algorithm), the genuine
 * RS256 signature relabelled PS256 and RS384, and an all-zero signature of the key's length.
 */
export function buildRsaConfusionTokens(server: TestServer, genuineRs256: string): HostileToken[] {
  const [headerPart = '', payloadPart = '', signaturePart = ''] = genuineRs256.split('.')
  const header = decodeProtectedHeader(genuineRs256)
  const publicJwk = server.application.tokenAdmin.publicJwks().keys.find((key) => key.kid === header.kid)
  const pem = createPublicKey({ key: { ...publicJwk } as JsonWebKey, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  })
  const hmacWith = (secret: string) => {
    const forgedHeader = encodeSegment({ alg: 'HS256', kid: header.kid, typ: 'at+jwt' })
    return `${forgedHeader}.${payloadPart}.${createHmac('sha256', secret).update(`${forgedHeader}.${payloadPart}`).digest('base64url')}`
  }
  const relabel = (alg: string) => `${encodeSegment({ ...header, alg })}.${payloadPart}.${signaturePart}`
  return [
    ['HS256 keyed with the RSA public key as PEM', hmacWith(String(pem))],
    ['HS256 keyed with the RSA public JWK', hmacWith(JSON.stringify(publicJwk))],
    ['RS256 signature relabelled PS256', relabel('PS256')],
    ['RS256 signature relabelled RS384', relabel('RS384')],
    ['RS256 header, signature of zeros', `${headerPart}.${payloadPart}.${Buffer.alloc(256).toString('base64url')}`],
  ]
}
