-- Email: an optional address per account (deleted with it), unique by its lower-cased key, and
-- the single-use tokens mailed to it (SHA-256 digests of 256-bit random tokens), at most one per
-- account and purpose so that a newer token voids the one before it.
CREATE TABLE user_emails (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  address TEXT NOT NULL,
  address_key TEXT NOT NULL,
  verified_at INTEGER,
  language TEXT NOT NULL CHECK (language IN ('en', 'ko')),
  updated_at INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX user_emails_by_key ON user_emails (address_key);

CREATE TABLE email_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
  binding TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX email_tokens_by_user ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_by_expiry ON email_tokens (expires_at);
