-- Signing keys may be RS256 (RSA 2048), for gateways that verify RSA signatures only. SQLite
-- cannot change a CHECK constraint in place: the table is rebuilt with the same columns and rows.
CREATE TABLE signing_keys_next (
  kid TEXT PRIMARY KEY,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('EdDSA', 'ES256', 'RS256')),
  public_jwk TEXT NOT NULL,
  private_jwk_ciphertext TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activates_at INTEGER NOT NULL,
  retires_at INTEGER
) STRICT;

INSERT INTO signing_keys_next (kid, algorithm, public_jwk, private_jwk_ciphertext, created_at, activates_at, retires_at)
  SELECT kid, algorithm, public_jwk, private_jwk_ciphertext, created_at, activates_at, retires_at FROM signing_keys;

DROP TABLE signing_keys;

ALTER TABLE signing_keys_next RENAME TO signing_keys;
