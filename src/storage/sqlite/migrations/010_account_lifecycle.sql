-- Account lifecycle: an administrator may require a new password at the next sign-in, and a
-- deleted account's events stay in the audit trail under a pseudonym. The trail stays
-- append-only in every other way: an UPDATE may only replace a user id or a username by a
-- pseudonym (`~` and a keyed digest), and may change nothing else.
ALTER TABLE users ADD COLUMN password_change_required INTEGER NOT NULL DEFAULT 0;

CREATE INDEX audit_events_by_username ON audit_events (username) WHERE username IS NOT NULL;

DROP TRIGGER audit_events_are_append_only;

CREATE TRIGGER audit_events_are_append_only BEFORE UPDATE ON audit_events
WHEN NEW.id IS NOT OLD.id OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.type IS NOT OLD.type
  OR NEW.outcome IS NOT OLD.outcome OR NEW.reason IS NOT OLD.reason OR NEW.ip IS NOT OLD.ip
  OR NEW.user_agent IS NOT OLD.user_agent OR NEW.session_id IS NOT OLD.session_id
  OR NEW.request_id IS NOT OLD.request_id OR NEW.node_id IS NOT OLD.node_id OR NEW.details IS NOT OLD.details
  OR (NEW.actor_user_id IS NOT OLD.actor_user_id AND NEW.actor_user_id NOT LIKE '~%')
  OR (NEW.subject_user_id IS NOT OLD.subject_user_id AND NEW.subject_user_id NOT LIKE '~%')
  OR (NEW.username IS NOT OLD.username AND NEW.username NOT LIKE '~%')
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only');
END;
