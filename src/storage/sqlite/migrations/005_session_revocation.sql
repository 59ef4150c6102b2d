-- Ending sessions is decided in the durable store, in the transaction that records it, even when
-- the sessions themselves live elsewhere (Redis): a session is alive only while its user's
-- session epoch is the one it was started under and its id is not in `revoked_sessions`. Deleting
-- the session record afterwards is tidying up; if that step fails, the session is already over.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN user_epoch INTEGER NOT NULL DEFAULT 0;

CREATE TABLE revoked_sessions (
  session_id TEXT PRIMARY KEY,
  -- The latest instant the session could have lived to; the row is useless afterwards.
  keep_until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (keep_until);
