/**
 * Copies users (with their second factor: the sealed TOTP secret, the unused recovery codes and
 * the passkeys, so no account loses it on the way; their player data and linked devices), signing
 * keys and live sessions (with their session data) from one set
 * of stores to another through the
 * store interfaces, so any backend can be the source or the target (in practice: the embedded
 * SQLite into PostgreSQL and Redis). It can be run again after an interruption: what the target
 * already holds is skipped, and a username held by a different user in the target stops the copy
 * instead of merging. Throttle counters and scheduler leases are not copied: they are
 * short-lived, and the nodes on the target build them again.
 */
import type { Stores } from '../core/stores.ts'

export interface CopyReport {
  users: { copied: number; alreadyPresent: number }
  sessions: { copied: number; alreadyPresent: number }
  signingKeys: { copied: number; alreadyPresent: number }
}

export class CopyConflictError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CopyConflictError'
  }
}

const pageSize = 500

/**
 * Copies the current token of a session's family (also after an interrupted run). Earlier
 * tokens stay behind: presented after the move, one is refused as unknown rather than as reuse.
 */
/** Copies a confirmed TOTP secret with its unused recovery codes, and the passkeys, unless there. */
async function copySecondFactor(source: Stores, target: Stores, userId: string): Promise<void> {
  const totp = await source.secondFactors.findTotp(userId)
  if (totp?.confirmedAt && !(await target.secondFactors.findTotp(userId))?.confirmedAt) {
    // The secret stays sealed: both sides open it with the same master key (migrate-data checks).
    await target.secondFactors.savePendingTotp({ ...totp, lastUsedStep: null, confirmedAt: null })
    await target.secondFactors.confirmTotp(userId, totp.id, totp.lastUsedStep ?? 0, totp.confirmedAt)
    await target.secondFactors.replaceRecoveryCodes(
      userId,
      await source.secondFactors.listRecoveryCodeHashes(userId),
      totp.confirmedAt,
    )
  }
  for (const passkey of await source.passkeys.listUserPasskeys(userId)) await target.passkeys.insertPasskey(passkey)
  // The address with its verification; mailed tokens are short-lived and stay behind.
  const email = await source.emails.findEmail(userId)
  if (email && !(await target.emails.findEmail(userId))) await target.emails.setEmail(email)
}

/** Copies the user's player data (with its version) and linked devices, unless there. */
async function copyPlayerDataAndDevices(source: Stores, target: Stores, userId: string): Promise<void> {
  const playerData = await source.playerData.readDocument(userId)
  if (playerData) await target.playerData.importDocument(userId, playerData)
  for (const device of await source.devices.listUserDevices(userId)) await target.devices.insertDevice(device)
}

async function copyCurrentRefreshToken(source: Stores, target: Stores, sessionId: string): Promise<void> {
  const current = await source.refreshTokens.findCurrentRefreshToken(sessionId)
  if (!current || (await target.refreshTokens.findRefreshToken(current.tokenHash)) !== null) return
  await target.refreshTokens.insertRefreshToken({ tokenHash: current.tokenHash, sessionId, issuedAt: current.issuedAt })
}

export async function copyStores(
  source: Stores,
  target: Stores,
  options: { now: Date; includeSessions: boolean },
): Promise<CopyReport> {
  const report: CopyReport = {
    users: { copied: 0, alreadyPresent: 0 },
    sessions: { copied: 0, alreadyPresent: 0 },
    signingKeys: { copied: 0, alreadyPresent: 0 },
  }

  // Keys first: a node started on the target must find the key that signed live tokens.
  const targetKids = new Set((await target.signingKeys.listUsableSigningKeys(options.now)).map((key) => key.kid))
  for (const key of await source.signingKeys.listUsableSigningKeys(options.now)) {
    if (targetKids.has(key.kid)) {
      report.signingKeys.alreadyPresent += 1
      continue
    }
    await target.signingKeys.insertSigningKey(key)
    report.signingKeys.copied += 1
  }

  let after: string | null = null
  for (;;) {
    const users = await source.accounts.listUsers({ afterUsernameKey: after, limit: pageSize })
    for (const user of users) {
      if ((await target.accounts.insertUser(user)) === 'inserted') {
        report.users.copied += 1
      } else if ((await target.accounts.findUserById(user.id)) !== null) {
        report.users.alreadyPresent += 1
      } else {
        throw new CopyConflictError(`the target already has a different user named "${user.username}"`)
      }
      await copySecondFactor(source, target, user.id)
      await copyPlayerDataAndDevices(source, target, user.id)
      if (!options.includeSessions) continue
      for (const session of await source.sessions.listUserSessions(user.id)) {
        if (session.absoluteExpiresAt <= options.now) continue
        if ((await target.sessions.findSessionById(session.id)) !== null) {
          report.sessions.alreadyPresent += 1
        } else {
          await target.sessions.insertSession(session)
          report.sessions.copied += 1
        }
        await copyCurrentRefreshToken(source, target, session.id)
        const sessionData = await source.sessionData.readDocument(session.id)
        if (sessionData) await target.sessionData.importDocument(session.id, sessionData)
      }
    }
    const last = users.at(-1)
    if (!last || users.length < pageSize) break
    after = last.usernameKey
  }
  return report
}
