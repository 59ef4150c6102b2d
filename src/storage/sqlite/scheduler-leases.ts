import type { DatabaseSync } from 'node:sqlite'
import type { SchedulerLockStore } from '../../core/scheduler/store.ts'

export function createSqliteSchedulerLockStore(db: DatabaseSync): SchedulerLockStore {
  // One conditional UPSERT: the row is taken only when the occurrence is newer than the last
  // completed one and the lease is free, expired or already ours.
  const acquire =
    db.prepare(`INSERT INTO scheduler_leases (job, owner, lease_expires_at, leased_occurrence_at, completed_occurrence_at)
    VALUES (?1, ?2, ?3, ?4, NULL)
    ON CONFLICT (job) DO UPDATE SET owner = ?2, lease_expires_at = ?3, leased_occurrence_at = ?4
    WHERE (completed_occurrence_at IS NULL OR completed_occurrence_at < ?4)
      AND (owner IS NULL OR owner = ?2 OR lease_expires_at <= ?5)`)
  const complete = db.prepare(`UPDATE scheduler_leases
    SET owner = NULL, lease_expires_at = NULL, leased_occurrence_at = NULL,
        completed_occurrence_at = max(coalesce(completed_occurrence_at, 0), ?3)
    WHERE job = ?1 AND owner = ?2`)
  const lastCompleted = db.prepare('SELECT completed_occurrence_at FROM scheduler_leases WHERE job = ?')

  return {
    async acquireJobLease({ job, occurrenceAt, owner, now, leaseExpiresAt }) {
      const result = acquire.run(job, owner, leaseExpiresAt.getTime(), occurrenceAt.getTime(), now.getTime())
      return Number(result.changes) === 1
    },

    async completeJobRun({ job, owner, occurrenceAt }) {
      return Number(complete.run(job, owner, occurrenceAt.getTime()).changes) === 1
    },

    async findLastCompletedRun(job) {
      const value = lastCompleted.get(job)?.completed_occurrence_at
      return value === undefined || value === null ? null : new Date(Number(value))
    },
  }
}
