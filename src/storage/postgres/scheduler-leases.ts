import type { SchedulerLockStore } from '../../core/scheduler/store.ts'
import type { SqlSession } from './database.ts'

export function createPostgresSchedulerLockStore(db: SqlSession): SchedulerLockStore {
  return {
    async acquireJobLease({ job, occurrenceAt, owner, now, leaseExpiresAt }) {
      // One conditional UPSERT: the row is taken only when the occurrence is newer than the last
      // completed one and the lease is free, expired or already ours.
      const rows = await db.query(
        `INSERT INTO scheduler_leases (job, owner, lease_expires_at, leased_occurrence_at, completed_occurrence_at)
         VALUES ($1, $2, $3, $4, NULL)
         ON CONFLICT (job) DO UPDATE SET owner = $2, lease_expires_at = $3, leased_occurrence_at = $4
         WHERE (scheduler_leases.completed_occurrence_at IS NULL OR scheduler_leases.completed_occurrence_at < $4)
           AND (scheduler_leases.owner IS NULL OR scheduler_leases.owner = $2 OR scheduler_leases.lease_expires_at <= $5)
         RETURNING job`,
        [job, owner, leaseExpiresAt, occurrenceAt, now],
      )
      return rows.length === 1
    },

    async completeJobRun({ job, owner, occurrenceAt }) {
      const rows = await db.query(
        `UPDATE scheduler_leases
         SET owner = NULL, lease_expires_at = NULL, leased_occurrence_at = NULL,
             completed_occurrence_at = greatest(completed_occurrence_at, $3)
         WHERE job = $1 AND owner = $2
         RETURNING job`,
        [job, owner, occurrenceAt],
      )
      return rows.length === 1
    },

    async findLastCompletedRun(job) {
      const [row] = await db.query('SELECT completed_occurrence_at FROM scheduler_leases WHERE job = $1', [job])
      return row?.completed_occurrence_at instanceof Date ? row.completed_occurrence_at : null
    },
  }
}
