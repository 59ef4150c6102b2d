-- Game sessions: a versioned JSON document per session (deleted with the session) and per user
-- (deleted with the account), and one-time tickets (SHA-256 of 256-bit random values) bound to a
-- session, redeemed once by a game server.
CREATE TABLE session_data (
  session_id TEXT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
  json TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE player_data (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  json TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE tickets (
  ticket_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  audience TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX tickets_by_expiry ON tickets (expires_at);
CREATE INDEX tickets_by_session ON tickets (session_id);
