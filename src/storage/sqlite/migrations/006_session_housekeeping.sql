-- The minute sweep and the active-session gauge read only the sessions that have expired: through
-- these two indexes, and a tally of the stored sessions kept by triggers (a count(*) would read
-- every row, and node:sqlite runs on the event loop: a million rows held every request for
-- hundreds of milliseconds). A later migration that rebuilds the sessions table must rebuild the
-- tally and its triggers with it.
CREATE INDEX sessions_by_last_seen ON sessions (last_seen_at);
CREATE INDEX sessions_by_absolute_expiry ON sessions (absolute_expires_at);

CREATE TABLE session_tally (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  stored INTEGER NOT NULL
) STRICT;
INSERT INTO session_tally (id, stored) SELECT 1, count(*) FROM sessions;

-- Cascades (a user deleted) fire these too.
CREATE TRIGGER session_tally_on_insert AFTER INSERT ON sessions
BEGIN
  UPDATE session_tally SET stored = stored + 1 WHERE id = 1;
END;
CREATE TRIGGER session_tally_on_delete AFTER DELETE ON sessions
BEGIN
  UPDATE session_tally SET stored = stored - 1 WHERE id = 1;
END;
