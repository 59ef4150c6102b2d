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

-- Devices that sign in with a secret of their own (SHA-256 of 256 random bits: a slow hash adds
-- nothing at that entropy). A guest account is a user whose username key starts with '#guest:',
-- which no username can (a name starts with a letter or digit), so no one can sign in to it with
-- a password or register a name that collides with it.
CREATE TABLE devices (
  id text PRIMARY KEY,
  device_id text NOT NULL UNIQUE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  secret_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL
);

CREATE INDEX devices_by_user ON devices (user_id);
CREATE INDEX users_by_creation ON users (created_at);
