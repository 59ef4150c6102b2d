-- Email: an optional address per account (deleted with it), unique by its lower-cased key, and
-- the single-use tokens mailed to it (SHA-256 digests of 256-bit random tokens), at most one per
-- account and purpose so that a newer token voids the one before it.
CREATE TABLE user_emails (
  user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  address text NOT NULL,
  address_key text NOT NULL,
  verified_at timestamptz,
  language text NOT NULL CHECK (language IN ('en', 'ko')),
  updated_at timestamptz NOT NULL
);

-- text_pattern_ops: prefix searches (LIKE 'abc%') use the index whatever the collation.
CREATE UNIQUE INDEX user_emails_by_key ON user_emails (address_key text_pattern_ops);

CREATE TABLE email_tokens (
  token_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
  binding text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX email_tokens_by_user ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_by_expiry ON email_tokens (expires_at);
