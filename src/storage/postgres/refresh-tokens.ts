import type { RefreshRotation, RefreshTokenRecord, RefreshTokenStore } from '../../core/tokens/store.ts'
import type { SqlSession, Row } from './database.ts'
import { toSession } from './sessions.ts'

function toRefreshToken(row: Row): RefreshTokenRecord {
  return {
    tokenHash: String(row.token_hash),
    sessionId: String(row.session_id),
    issuedAt: row.issued_at as Date,
    rotatedAt: row.rotated_at instanceof Date ? row.rotated_at : null,
    successorHash: row.successor_hash === null ? null : String(row.successor_hash),
  }
}

export function createPostgresRefreshTokenStore(db: SqlSession): RefreshTokenStore {
  return {
    async insertRefreshToken({ tokenHash, sessionId, issuedAt }) {
      await db.query(
        'INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash) VALUES ($1, $2, $3, NULL, NULL)',
        [tokenHash, sessionId, issuedAt],
      )
    },

    rotateRefreshToken({ presentedHash, successorHash, now, graceStartsAt }) {
      return db.transaction(async (tx): Promise<RefreshRotation> => {
        // Locking the session row first makes concurrent presenters of one family wait in turn:
        // the second then finds the token rotated (grace or reuse), never current.
        const [presentedRow] = await tx.query('SELECT session_id FROM refresh_tokens WHERE token_hash = $1', [
          presentedHash,
        ])
        if (!presentedRow) return { outcome: 'missing' }
        const [sessionRow] = await tx.query('SELECT * FROM sessions WHERE id = $1 FOR UPDATE', [
          presentedRow.session_id,
        ])
        const [lockedRow] = await tx.query('SELECT * FROM refresh_tokens WHERE token_hash = $1', [presentedHash])
        if (!sessionRow || !lockedRow) return { outcome: 'missing' }
        const presented = toRefreshToken(lockedRow)
        const session = toSession(sessionRow)
        if (presented.rotatedAt === null) {
          await tx.query('UPDATE refresh_tokens SET rotated_at = $1, successor_hash = $2 WHERE token_hash = $3', [
            now,
            successorHash,
            presentedHash,
          ])
          await tx.query(
            'INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash) VALUES ($1, $2, $3, NULL, NULL)',
            [successorHash, session.id, now],
          )
          await tx.query('UPDATE sessions SET last_seen_at = greatest(last_seen_at, $1) WHERE id = $2', [
            now,
            session.id,
          ])
          return { outcome: 'rotated', session }
        }
        const [successorRow] =
          presented.successorHash === null
            ? []
            : await tx.query('SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1', [presented.successorHash])
        const isRetry =
          presented.rotatedAt.getTime() > graceStartsAt.getTime() &&
          presented.successorHash === successorHash &&
          successorRow !== undefined &&
          successorRow.rotated_at === null
        if (isRetry) return { outcome: 'grace', session }
        await tx.query('DELETE FROM sessions WHERE id = $1', [session.id])
        return { outcome: 'reused', session }
      })
    },

    async findRefreshToken(tokenHash) {
      const [row] = await db.query('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash])
      return row ? toRefreshToken(row) : null
    },

    async findCurrentRefreshToken(sessionId) {
      const [row] = await db.query('SELECT * FROM refresh_tokens WHERE session_id = $1 AND rotated_at IS NULL', [
        sessionId,
      ])
      return row ? toRefreshToken(row) : null
    },
  }
}
