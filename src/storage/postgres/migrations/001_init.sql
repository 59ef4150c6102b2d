-- Ids are text, not uuid: the stores take any id a caller presents and answer "none" for a
-- malformed one instead of failing. Username keys compare bytewise ("C") so that ordering and
-- uniqueness do not depend on the server's locale.
CREATE TABLE users (
  id text PRIMARY KEY,
  username text NOT NULL,
  username_key text COLLATE "C" NOT NULL UNIQUE,
  password_hash text NOT NULL,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE user_roles (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text COLLATE "C" NOT NULL,
  PRIMARY KEY (user_id, role)
);

CREATE INDEX user_roles_by_role ON user_roles (role);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  token_hash text UNIQUE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  transport text NOT NULL CHECK (transport IN ('cookie', 'token')),
  refresh_token_hash text UNIQUE,
  previous_refresh_token_hash text UNIQUE,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL,
  ip text NOT NULL,
  user_agent text NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_by_absolute_expiry ON sessions (absolute_expires_at);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  algorithm text NOT NULL CHECK (algorithm IN ('EdDSA', 'ES256')),
  public_jwk text NOT NULL,
  private_jwk_ciphertext text NOT NULL,
  created_at timestamptz NOT NULL,
  activates_at timestamptz NOT NULL,
  retires_at timestamptz
);
