-- Game sessions: a versioned JSON document per session (deleted with the session) and per user
-- (deleted with the account), and one-time tickets (SHA-256 of 256-bit random values) bound to a
-- session, redeemed once by a game server.
CREATE TABLE session_data (
  session_id text PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
  json text NOT NULL,
  version bigint NOT NULL CHECK (version > 0)
);

CREATE TABLE player_data (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  json text NOT NULL,
  version bigint NOT NULL CHECK (version > 0)
);

CREATE TABLE tickets (
  ticket_hash text PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  audience text NOT NULL,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE INDEX tickets_by_expiry ON tickets (expires_at);
CREATE INDEX tickets_by_session ON tickets (session_id);
