-- Managing users (docs/api.md): bans that end by themselves, and deletions that finish even
-- when the call that began them did not.

-- A ban is in force while banned_until (Unix seconds) is in the future: nothing has to run
-- when it ends. NULL: never banned, or the ban was lifted.
ALTER TABLE users ADD COLUMN banned_until INTEGER;
ALTER TABLE users ADD COLUMN ban_reason TEXT;

-- A deletion whose erasure (the user's Durable Objects) has not finished yet. The users row
-- is gone the moment the deletion begins; this row, which holds no personal data, lets a
-- retry of delete_user (or a register of the same uid) finish the erasure. It is removed
-- as soon as the erasure is complete.
CREATE TABLE pending_deletions (
  uid           TEXT    PRIMARY KEY NOT NULL,
  deleted_at_ms INTEGER NOT NULL -- Unix milliseconds: tokens issued until then are refused for good
) WITHOUT ROWID;
