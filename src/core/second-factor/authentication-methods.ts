/**
 * Authentication method references (RFC 8176) for sessions and access tokens:
 *
 * - `pwd`: the password.
 * - `otp`: a TOTP code (RFC 6238, the RFC's own example) or a recovery code, which is a
 *   one-time password in RFC 4949's sense (a password changed after each use).
 * - `hwk` / `swk`: proof of possession of a passkey's key, hardware- or software-held. A passkey
 *   that is backup eligible (synced between devices, WebAuthn's BE flag) has its key outside any
 *   one device's hardware: `swk`; a device-bound one: `hwk`. With attestation "none" the hardware
 *   claim is the authenticator's own word, which is what `hwk` can say here.
 * - `user`: a user-presence test (RFC 8176 names WebAuthn's "test of user presence"); every
 *   passkey ceremony Tessera accepts has the UP flag.
 * - `mfa`: two factors were used: the password with `otp`, `hwk` or `swk`, or a passkey that
 *   verified the user itself (WebAuthn's UV flag: a PIN or biometric on the authenticator, which
 *   RFC 8176 would call `pin`, `fpt` or `face`, but the assertion does not say which). A resource
 *   server that wants a second factor of any kind checks for `mfa`.
 */

export type AuthenticationMethod = 'pwd' | 'otp' | 'hwk' | 'swk' | 'user' | 'mfa'

const order: readonly AuthenticationMethod[] = ['pwd', 'otp', 'hwk', 'swk', 'user', 'mfa']
const possessionMethods: readonly string[] = ['otp', 'hwk', 'swk']

/** The methods of a passkey assertion. */
export function describePasskeyMethods(
  passkey: { isBackupEligible: boolean },
  isUserVerified: boolean,
): AuthenticationMethod[] {
  const methods: AuthenticationMethod[] = [passkey.isBackupEligible ? 'swk' : 'hwk', 'user']
  if (isUserVerified) methods.push('mfa')
  return methods
}

/**
 * The references of an authentication that used all of `methods` (earlier ones of the same
 * session included), in a stable order, with `mfa` when knowledge and possession were both shown.
 */
export function combineMethods(...groups: ReadonlyArray<readonly string[]>): AuthenticationMethod[] {
  const used = new Set(groups.flat())
  if (used.has('pwd') && possessionMethods.some((method) => used.has(method))) used.add('mfa')
  return order.filter((method) => used.has(method))
}

/** True when the references show a second factor (or a passkey that verified the user). */
export function isMultiFactor(amr: readonly string[]): boolean {
  return amr.includes('mfa')
}
