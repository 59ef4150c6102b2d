-- Account lifecycle: an administrator may require a new password at the next sign-in, and a
-- deleted account's events stay in the audit trail under a pseudonym. The trail stays
-- append-only in every other way: an UPDATE may only replace a user id or a username by a
-- pseudonym (`~` and a keyed digest), and may change nothing else.
ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false;

CREATE INDEX audit_events_by_username ON audit_events (username) WHERE username IS NOT NULL;

CREATE OR REPLACE FUNCTION audit_events_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.occurred_at IS DISTINCT FROM OLD.occurred_at
    OR NEW.type IS DISTINCT FROM OLD.type OR NEW.outcome IS DISTINCT FROM OLD.outcome
    OR NEW.reason IS DISTINCT FROM OLD.reason OR NEW.ip IS DISTINCT FROM OLD.ip
    OR NEW.user_agent IS DISTINCT FROM OLD.user_agent OR NEW.session_id IS DISTINCT FROM OLD.session_id
    OR NEW.request_id IS DISTINCT FROM OLD.request_id OR NEW.node_id IS DISTINCT FROM OLD.node_id
    OR NEW.details IS DISTINCT FROM OLD.details
    OR (NEW.actor_user_id IS DISTINCT FROM OLD.actor_user_id AND NEW.actor_user_id NOT LIKE '~%')
    OR (NEW.subject_user_id IS DISTINCT FROM OLD.subject_user_id AND NEW.subject_user_id NOT LIKE '~%')
    OR (NEW.username IS DISTINCT FROM OLD.username AND NEW.username NOT LIKE '~%') THEN
    RAISE EXCEPTION 'audit events are append-only';
  END IF;
  RETURN NEW;
END;
$$;
