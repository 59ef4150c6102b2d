-- Sessions ended by the per-user session limit are kept, marked, until they expire: their holder
-- is told why (`signed_in_elsewhere`) on each request and refresh, rather than a bare refusal.
ALTER TABLE sessions ADD COLUMN ended_notice text;
