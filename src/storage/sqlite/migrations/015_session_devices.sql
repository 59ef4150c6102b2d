-- A session started by a device sign-in names the device, so that unlinking the device ends it.
ALTER TABLE sessions ADD COLUMN device_id TEXT;
