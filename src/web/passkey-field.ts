/**
 * A passkey credential as a page form carries it: the JSON of `PublicKeyCredential.toJSON()` in
 * one field, put there by the page's script. It is held to the same schema as the API's
 * `passkey` and `credential` fields before any verification, so a malformed value is refused as
 * a wrong passkey rather than reaching the verifier.
 */
import { Ajv } from 'ajv'
import { publicKeyCredentialSchema } from '../http/schemas/webauthn.ts'

/** An attestation with its certificate chain stays well below this; an assertion is ~1 KiB. */
export const passkeyFieldMaxLength = 12 * 1024

// Compiled on the first passkey form, not at start: most servers never see one.
let isCredential: ((value: unknown) => boolean) | null = null

/** The credential in a form field, or null when the field is absent, empty or not a credential. */
export function readPasskeyField(value: string | undefined): unknown {
  if (value === undefined || value === '' || value.length > passkeyFieldMaxLength) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    return null
  }
  isCredential ??= new Ajv({ strict: false, allErrors: false }).compile(publicKeyCredentialSchema)
  return isCredential(parsed) ? parsed : null
}
