-- Confusable skeletons of usernames (UTS #39): two accounts whose names look alike have the same
-- skeleton, and the unique index keeps a second one out. Skeletons are computed in TypeScript, so
-- existing accounts get theirs when a node opens the stores (fillMissingUsernameSkeletons); an
-- account whose skeleton another already holds keeps NULL (unique indexes let NULLs repeat) and
-- is reported at start, never deleted.
ALTER TABLE users ADD COLUMN username_skeleton text COLLATE "C";
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton);
