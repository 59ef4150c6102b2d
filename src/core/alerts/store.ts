export type AlertSeverity = 'info' | 'low' | 'medium' | 'high'

export type AlertDeliveryState = 'not_configured' | 'pending' | 'delivered' | 'abandoned'

/** What a finding rests on: enough for an operator to act without querying the trail first. */
export interface AlertEvidence {
  /** Counts by name, for example `{ failures: 42, accounts: 30 }`. */
  counts: Record<string, number>
  /** Client addresses involved, most active first (bounded). */
  ips: string[]
  /** Attempted usernames involved, most active first (bounded). */
  usernames: string[]
  userIds: string[]
  sessionIds: string[]
  /** Ids of some events behind the finding (bounded). */
  eventIds: string[]
  firstSeenAt: Date
  lastSeenAt: Date
}

export interface AlertRecord {
  id: string
  /** The detection rule that raised it (or `daily_report`). */
  rule: string
  severity: AlertSeverity
  /** Same rule and same subject (account, address, session): one alert per dedupe window. */
  dedupeKey: string
  summary: string
  evidence: AlertEvidence
  /** The review window the finding came from. */
  windowStartsAt: Date
  windowEndsAt: Date
  raisedAt: Date
  deliveryState: AlertDeliveryState
  deliveryAttempts: number
  nextDeliveryAt: Date | null
  deliveredAt: Date | null
}

export interface AlertDeliveryUpdate {
  deliveryState: AlertDeliveryState
  deliveryAttempts: number
  nextDeliveryAt: Date | null
  deliveredAt: Date | null
}

export interface AlertCursor {
  raisedAt: Date
  id: string
}

export interface AlertStore {
  /** Inserts an alert; the id is unique. */
  insertAlert(alert: AlertRecord): Promise<void>
  /** The newest alert with this dedupe key raised at or after `since`, or null. */
  findRecentAlert(dedupeKey: string, since: Date): Promise<AlertRecord | null>
  /** Alerts newest first, raised at or after `since`, strictly after the cursor, at most `limit`. */
  listAlerts(options: {
    since: Date | null
    rule: string | null
    after: AlertCursor | null
    limit: number
  }): Promise<AlertRecord[]>
  /** Pending alerts whose next delivery is due at `now`, oldest first, at most `limit`. */
  listAlertsDueForDelivery(now: Date, limit: number): Promise<AlertRecord[]>
  /** Records the outcome of a delivery attempt; false when the alert does not exist. */
  updateAlertDelivery(id: string, update: AlertDeliveryUpdate): Promise<boolean>
  /** Deletes at most `limit` of the oldest alerts raised before `before`; returns how many. */
  deleteAlertsBefore(before: Date, limit: number): Promise<number>
}
