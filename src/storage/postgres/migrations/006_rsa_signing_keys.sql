-- Signing keys may be RS256 (RSA 2048), for gateways that verify RSA signatures only.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_algorithm_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_algorithm_check CHECK (algorithm IN ('EdDSA', 'ES256', 'RS256'));
