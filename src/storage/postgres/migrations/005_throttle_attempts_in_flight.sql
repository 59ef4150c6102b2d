-- Attempts counted on a throttle key but not settled yet (a password still being verified), and
-- the instant by which they settle: while they may still fail, they hold back the attempts after
-- them, so simultaneous attempts are admitted exactly as far as attempts sent one by one.
ALTER TABLE throttles ADD COLUMN pending integer NOT NULL DEFAULT 0, ADD COLUMN settles_by timestamptz;
