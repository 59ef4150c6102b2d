import type { DatabaseSync } from 'node:sqlite'
import type { RefreshRotation, RefreshTokenRecord, RefreshTokenStore } from '../../core/tokens/store.ts'
import { toSession } from './sessions.ts'
import { runAtomically } from './transaction.ts'

function toRefreshToken(row: Record<string, unknown>): RefreshTokenRecord {
  return {
    tokenHash: String(row.token_hash),
    sessionId: String(row.session_id),
    issuedAt: new Date(Number(row.issued_at)),
    rotatedAt: row.rotated_at === null ? null : new Date(Number(row.rotated_at)),
    successorHash: row.successor_hash === null ? null : String(row.successor_hash),
  }
}

export function createSqliteRefreshTokenStore(db: DatabaseSync): RefreshTokenStore {
  const insert = db.prepare(
    'INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash) VALUES (?, ?, ?, NULL, NULL)',
  )
  const findByHash = db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?')
  const findCurrent = db.prepare('SELECT * FROM refresh_tokens WHERE session_id = ? AND rotated_at IS NULL')
  const findSession = db.prepare('SELECT * FROM sessions WHERE id = ?')
  const markRotated = db.prepare(
    'UPDATE refresh_tokens SET rotated_at = ?, successor_hash = ? WHERE token_hash = ? AND rotated_at IS NULL',
  )
  const touchSession = db.prepare('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?')
  const deleteSession = db.prepare('DELETE FROM sessions WHERE id = ?')

  function rotate(presentedHash: string, successorHash: string, now: Date, graceStartsAt: Date): RefreshRotation {
    const presentedRow = findByHash.get(presentedHash)
    const sessionRow = presentedRow ? findSession.get(String(presentedRow.session_id)) : undefined
    if (!presentedRow || !sessionRow) return { outcome: 'missing' }
    const presented = toRefreshToken(presentedRow)
    const session = toSession(sessionRow)
    if (presented.rotatedAt === null) {
      markRotated.run(now.getTime(), successorHash, presentedHash)
      insert.run(successorHash, session.id, now.getTime())
      touchSession.run(now.getTime(), session.id)
      return { outcome: 'rotated', session }
    }
    const successorRow = presented.successorHash === null ? undefined : findByHash.get(presented.successorHash)
    const isRetry =
      presented.rotatedAt.getTime() > graceStartsAt.getTime() &&
      presented.successorHash === successorHash &&
      successorRow !== undefined &&
      successorRow.rotated_at === null
    if (isRetry) return { outcome: 'grace', session }
    deleteSession.run(session.id)
    return { outcome: 'reused', session }
  }

  return {
    async insertRefreshToken({ tokenHash, sessionId, issuedAt }) {
      insert.run(tokenHash, sessionId, issuedAt.getTime())
    },

    async rotateRefreshToken({ presentedHash, successorHash, now, graceStartsAt }) {
      return runAtomically(db, () => rotate(presentedHash, successorHash, now, graceStartsAt))
    },

    async findRefreshToken(tokenHash) {
      const row = findByHash.get(tokenHash)
      return row ? toRefreshToken(row) : null
    },

    async findCurrentRefreshToken(sessionId) {
      const row = findCurrent.get(sessionId)
      return row ? toRefreshToken(row) : null
    },
  }
}
