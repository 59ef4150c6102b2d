/**
 * WebAuthn shapes as JSON (WebAuthn Level 3 `toJSON()` forms): the options Tessera sends to
 * `navigator.credentials.create()` / `.get()` (response allow-lists: every field a browser reads),
 * and the credentials browsers send back (bounded; their content is checked by the verifier).
 */
const base64url = { type: 'string', maxLength: 8192, pattern: '^[A-Za-z0-9_-]*={0,2}$' } as const
const credentialDescriptor = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string' },
    transports: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'type'],
} as const

export const creationOptionsSchema = {
  type: 'object',
  description: 'PublicKeyCredentialCreationOptionsJSON: pass to `PublicKeyCredential.parseCreationOptionsFromJSON()`.',
  properties: {
    challenge: { type: 'string' },
    rp: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } }, required: ['name'] },
    user: {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' }, displayName: { type: 'string' } },
      required: ['id', 'name', 'displayName'],
    },
    pubKeyCredParams: {
      type: 'array',
      items: {
        type: 'object',
        properties: { alg: { type: 'integer' }, type: { type: 'string' } },
        required: ['alg', 'type'],
      },
    },
    timeout: { type: 'integer' },
    excludeCredentials: { type: 'array', items: credentialDescriptor },
    authenticatorSelection: {
      type: 'object',
      properties: {
        authenticatorAttachment: { type: 'string' },
        residentKey: { type: 'string' },
        requireResidentKey: { type: 'boolean' },
        userVerification: { type: 'string' },
      },
    },
    attestation: { type: 'string' },
    hints: { type: 'array', items: { type: 'string' } },
    extensions: { type: 'object', properties: { credProps: { type: 'boolean' } } },
  },
  required: ['challenge', 'rp', 'user', 'pubKeyCredParams'],
} as const

export const requestOptionsSchema = {
  type: 'object',
  description: 'PublicKeyCredentialRequestOptionsJSON: pass to `PublicKeyCredential.parseRequestOptionsFromJSON()`.',
  properties: {
    challenge: { type: 'string' },
    timeout: { type: 'integer' },
    rpId: { type: 'string' },
    allowCredentials: { type: 'array', items: credentialDescriptor },
    userVerification: { type: 'string' },
    hints: { type: 'array', items: { type: 'string' } },
  },
  required: ['challenge'],
} as const

/** A credential from `navigator.credentials.create()` or `.get()`, as `toJSON()` gives it. */
export const publicKeyCredentialSchema = {
  type: 'object',
  description:
    'A PublicKeyCredential as its `toJSON()` gives it (RegistrationResponseJSON or AuthenticationResponseJSON).',
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 1366 },
    rawId: { type: 'string', minLength: 1, maxLength: 1366 },
    type: { type: 'string', enum: ['public-key'] },
    authenticatorAttachment: { type: 'string', maxLength: 32 },
    clientExtensionResults: { type: 'object', maxProperties: 16 },
    response: {
      type: 'object',
      properties: {
        clientDataJSON: base64url,
        attestationObject: base64url,
        authenticatorData: base64url,
        signature: base64url,
        userHandle: base64url,
        publicKey: base64url,
        publicKeyAlgorithm: { type: 'integer' },
        transports: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 32 } },
      },
      required: ['clientDataJSON'],
      additionalProperties: false,
    },
  },
  required: ['id', 'rawId', 'type', 'response'],
  additionalProperties: false,
} as const
