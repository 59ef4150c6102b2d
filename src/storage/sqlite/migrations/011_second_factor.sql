-- Second factor: TOTP secrets (sealed under the master key), recovery codes (SHA-256 of
-- 80-bit random codes: a slow hash adds nothing at that entropy), the challenges of sign-ins
-- waiting for their second step, passkeys and the challenges of their ceremonies, and the time
-- and methods (RFC 8176 `amr`) of each session's latest authentication. Sessions older than this
-- migration were authenticated by password when they started.
ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
UPDATE sessions SET authenticated_at = created_at;

CREATE TABLE totp_secrets (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  secret_ciphertext TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
  digits INTEGER NOT NULL,
  period_seconds INTEGER NOT NULL,
  -- NULL until a code was accepted; no code of this step or an earlier one is accepted again.
  last_used_step INTEGER,
  created_at INTEGER NOT NULL,
  -- NULL while the enrolment waits for its first code.
  confirmed_at INTEGER
) STRICT;

CREATE TABLE recovery_codes (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, code_hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE mfa_challenges (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  transport TEXT NOT NULL CHECK (transport IN ('cookie', 'token')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts_left INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);

CREATE TABLE passkeys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key BLOB NOT NULL,
  counter INTEGER NOT NULL,
  transports TEXT NOT NULL,
  is_backup_eligible INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;

CREATE INDEX passkeys_by_user ON passkeys (user_id, created_at);

CREATE TABLE webauthn_challenges (
  challenge_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('registration', 'sign_in', 'second_factor', 'reauthentication')),
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  bound_to TEXT,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges (expires_at);
