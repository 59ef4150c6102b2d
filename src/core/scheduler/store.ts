/**
 * Leases for scheduled jobs, so that in a deployment of several nodes each occurrence of a job
 * runs on one node only. A lease has an owner and an expiry: a node that dies mid-run loses it
 * when it expires, and another node may then run that occurrence. The completed occurrence is
 * remembered, so a node that wakes a second later does not run it again. Any store with an
 * atomic compare-and-set can hold this (SQLite and PostgreSQL: a conditional UPSERT; Redis: a
 * Lua script over one hash).
 */
export interface JobLeaseRequest {
  job: string
  /** The scheduled instant this run is for. */
  occurrenceAt: Date
  /** A node id, unique per process. */
  owner: string
  now: Date
  leaseExpiresAt: Date
}

export interface SchedulerLockStore {
  /**
   * Takes the lease for this occurrence when it is later than the last completed one and no
   * other owner holds an unexpired lease. True when taken.
   */
  acquireJobLease(request: JobLeaseRequest): Promise<boolean>
  /** Marks the occurrence completed and frees the lease, if `owner` still holds it. */
  completeJobRun(input: { job: string; owner: string; occurrenceAt: Date }): Promise<boolean>
  /** The last completed occurrence of the job, or null. */
  findLastCompletedRun(job: string): Promise<Date | null>
}
