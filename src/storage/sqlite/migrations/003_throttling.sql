CREATE TABLE throttles (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  blocked_until INTEGER,
  expires_at INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX throttles_by_expiry ON throttles (expires_at) WHERE expires_at IS NOT NULL;
