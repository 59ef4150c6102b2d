-- Refresh-token families, service clients, sign-in throttling, the audit trail, alerts and
-- scheduler leases: the stores the SQLite backend gained in its migrations 002 to 004.
--
-- Refresh tokens leave the two columns of `sessions` (which remembered one predecessor only) for
-- a family table: every token a session has had stays there, as a SHA-256, until the session
-- ends, so presenting any earlier token of the family is recognised as reuse.
CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  issued_at timestamptz NOT NULL,
  -- NULL while the token is the family's current one.
  rotated_at timestamptz,
  successor_hash text
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
-- A family has at most one current token, whatever the code does.
CREATE UNIQUE INDEX refresh_tokens_one_current ON refresh_tokens (session_id) WHERE rotated_at IS NULL;

-- Earlier tokens are marked as rotated long ago: presenting one is reuse, never a grace repeat.
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash)
  SELECT previous_refresh_token_hash, id, created_at, 'epoch', refresh_token_hash FROM sessions
  WHERE previous_refresh_token_hash IS NOT NULL AND refresh_token_hash IS NOT NULL;
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash)
  SELECT refresh_token_hash, id, last_seen_at, NULL, NULL FROM sessions
  WHERE refresh_token_hash IS NOT NULL;

ALTER TABLE sessions DROP COLUMN refresh_token_hash, DROP COLUMN previous_refresh_token_hash;

CREATE TABLE service_clients (
  id text PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  -- SHA-256 of a 256-bit random secret: a slow hash adds nothing at that entropy.
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE throttles (
  key text COLLATE "C" PRIMARY KEY,
  count integer NOT NULL,
  blocked_until timestamptz,
  expires_at timestamptz
);

CREATE INDEX throttles_by_expiry ON throttles (expires_at) WHERE expires_at IS NOT NULL;

-- The audit trail: append-only (an UPDATE is refused by the trigger below; only retention
-- deletes rows). No foreign keys: events outlive the users and sessions they mention.
CREATE TABLE audit_events (
  id text COLLATE "C" PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  type text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  reason text,
  actor_user_id text,
  subject_user_id text,
  username text,
  ip text,
  user_agent text,
  session_id text,
  request_id text,
  node_id text NOT NULL,
  details text NOT NULL
);

CREATE INDEX audit_events_by_time ON audit_events (occurred_at, id);
CREATE INDEX audit_events_by_type ON audit_events (type, occurred_at);
CREATE INDEX audit_events_by_subject ON audit_events (subject_user_id, occurred_at) WHERE subject_user_id IS NOT NULL;
CREATE INDEX audit_events_by_actor ON audit_events (actor_user_id, occurred_at) WHERE actor_user_id IS NOT NULL;
CREATE INDEX audit_events_by_ip ON audit_events (ip, occurred_at) WHERE ip IS NOT NULL;

CREATE FUNCTION audit_events_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END;
$$;

CREATE TRIGGER audit_events_are_append_only BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_update();

CREATE TABLE alerts (
  id text COLLATE "C" PRIMARY KEY,
  rule text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high')),
  dedupe_key text NOT NULL,
  summary text NOT NULL,
  evidence text NOT NULL,
  window_starts_at timestamptz NOT NULL,
  window_ends_at timestamptz NOT NULL,
  raised_at timestamptz NOT NULL,
  delivery_state text NOT NULL CHECK (delivery_state IN ('not_configured', 'pending', 'delivered', 'abandoned')),
  delivery_attempts integer NOT NULL,
  next_delivery_at timestamptz,
  delivered_at timestamptz
);

CREATE INDEX alerts_by_time ON alerts (raised_at, id);
CREATE INDEX alerts_by_dedupe_key ON alerts (dedupe_key, raised_at);
CREATE INDEX alerts_due_for_delivery ON alerts (next_delivery_at) WHERE delivery_state = 'pending';

CREATE TABLE scheduler_leases (
  job text PRIMARY KEY,
  owner text,
  lease_expires_at timestamptz,
  leased_occurrence_at timestamptz,
  completed_occurrence_at timestamptz
);
