-- The audit trail: append-only (an UPDATE is refused by the trigger below; only retention
-- deletes rows). No foreign keys: events outlive the users and sessions they mention.
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  occurred_at INTEGER NOT NULL,
  type TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
  reason TEXT,
  actor_user_id TEXT,
  subject_user_id TEXT,
  username TEXT,
  ip TEXT,
  user_agent TEXT,
  session_id TEXT,
  request_id TEXT,
  node_id TEXT NOT NULL,
  details TEXT NOT NULL
) STRICT;

CREATE INDEX audit_events_by_time ON audit_events (occurred_at, id);
CREATE INDEX audit_events_by_type ON audit_events (type, occurred_at);
CREATE INDEX audit_events_by_subject ON audit_events (subject_user_id, occurred_at) WHERE subject_user_id IS NOT NULL;
CREATE INDEX audit_events_by_actor ON audit_events (actor_user_id, occurred_at) WHERE actor_user_id IS NOT NULL;
CREATE INDEX audit_events_by_ip ON audit_events (ip, occurred_at) WHERE ip IS NOT NULL;

CREATE TRIGGER audit_events_are_append_only BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high')),
  dedupe_key TEXT NOT NULL,
  summary TEXT NOT NULL,
  evidence TEXT NOT NULL,
  window_starts_at INTEGER NOT NULL,
  window_ends_at INTEGER NOT NULL,
  raised_at INTEGER NOT NULL,
  delivery_state TEXT NOT NULL CHECK (delivery_state IN ('not_configured', 'pending', 'delivered', 'abandoned')),
  delivery_attempts INTEGER NOT NULL,
  next_delivery_at INTEGER,
  delivered_at INTEGER
) STRICT;

CREATE INDEX alerts_by_time ON alerts (raised_at, id);
CREATE INDEX alerts_by_dedupe_key ON alerts (dedupe_key, raised_at);
CREATE INDEX alerts_due_for_delivery ON alerts (next_delivery_at) WHERE delivery_state = 'pending';

CREATE TABLE scheduler_leases (
  job TEXT PRIMARY KEY,
  owner TEXT,
  lease_expires_at INTEGER,
  leased_occurrence_at INTEGER,
  completed_occurrence_at INTEGER
) STRICT;
