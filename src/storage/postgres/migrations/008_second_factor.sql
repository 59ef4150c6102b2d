-- Second factor: TOTP secrets (sealed under the master key), recovery codes (SHA-256 of
-- 80-bit random codes: a slow hash adds nothing at that entropy), the challenges of sign-ins
-- waiting for their second step, passkeys and the challenges of their ceremonies, and the time
-- and methods (RFC 8176 `amr`) of each session's latest authentication. Sessions older than this
-- migration were authenticated by password when they started.
ALTER TABLE sessions ADD COLUMN authenticated_at timestamptz;
UPDATE sessions SET authenticated_at = created_at;
ALTER TABLE sessions ALTER COLUMN authenticated_at SET NOT NULL;
ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd';

CREATE TABLE totp_secrets (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  id text NOT NULL,
  secret_ciphertext text NOT NULL,
  algorithm text NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
  digits integer NOT NULL,
  period_seconds integer NOT NULL,
  -- NULL until a code was accepted; no code of this step or an earlier one is accepted again.
  last_used_step bigint,
  created_at timestamptz NOT NULL,
  -- NULL while the enrolment waits for its first code.
  confirmed_at timestamptz
);

CREATE TABLE recovery_codes (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE mfa_challenges (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  transport text NOT NULL CHECK (transport IN ('cookie', 'token')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  attempts_left integer NOT NULL
);

CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);

CREATE TABLE passkeys (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key bytea NOT NULL,
  counter bigint NOT NULL,
  transports text NOT NULL,
  is_backup_eligible boolean NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);

CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

CREATE TABLE webauthn_challenges (
  challenge_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('registration', 'sign_in', 'second_factor', 'reauthentication')),
  user_id text REFERENCES users (id) ON DELETE CASCADE,
  bound_to text,
  expires_at timestamptz NOT NULL
);

CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges (expires_at);
