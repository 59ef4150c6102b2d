-- Token lifecycle: refresh-token families, service clients.
--
-- Refresh tokens leave the two columns of `sessions` (which remembered one predecessor only) for
-- a family table: every token a session has had stays there, as a SHA-256, until the session
-- ends, so presenting any earlier token of the family is recognised as reuse.
--
-- SQLite cannot drop UNIQUE columns, so `sessions` is rebuilt without them. Nothing references
-- the old table; `refresh_tokens` is created against the new one, whose references follow the
-- rename.

CREATE TABLE sessions_next (
  id TEXT PRIMARY KEY,
  token_hash TEXT UNIQUE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  transport TEXT NOT NULL CHECK (transport IN ('cookie', 'token')),
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  ip TEXT NOT NULL,
  user_agent TEXT NOT NULL
) STRICT;

INSERT INTO sessions_next
  (id, token_hash, user_id, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent)
  SELECT id, token_hash, user_id, transport, created_at, last_seen_at, absolute_expires_at, ip, user_agent
  FROM sessions;

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions_next (id) ON DELETE CASCADE,
  issued_at INTEGER NOT NULL,
  -- NULL while the token is the family's current one.
  rotated_at INTEGER,
  successor_hash TEXT
) STRICT, WITHOUT ROWID;

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
-- A family has at most one current token, whatever the code above does.
CREATE UNIQUE INDEX refresh_tokens_one_current ON refresh_tokens (session_id) WHERE rotated_at IS NULL;

-- Earlier tokens are marked as rotated long ago: presenting one is reuse, never a grace repeat.
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash)
  SELECT previous_refresh_token_hash, id, created_at, 0, refresh_token_hash FROM sessions
  WHERE previous_refresh_token_hash IS NOT NULL AND refresh_token_hash IS NOT NULL;
INSERT INTO refresh_tokens (token_hash, session_id, issued_at, rotated_at, successor_hash)
  SELECT refresh_token_hash, id, last_seen_at, NULL, NULL FROM sessions
  WHERE refresh_token_hash IS NOT NULL;

DROP TABLE sessions;
ALTER TABLE sessions_next RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE service_clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  -- SHA-256 of a 256-bit random secret: a slow hash adds nothing at that entropy.
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
