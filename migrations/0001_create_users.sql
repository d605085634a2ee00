-- One row per registered user. The uid is the primary key, so a second
-- INSERT of the same uid cannot succeed: concurrent registers race on the
-- constraint, not on a read-then-write.
CREATE TABLE users (
  uid                 TEXT    PRIMARY KEY NOT NULL,
  name                TEXT    NOT NULL,
  icon                TEXT    NOT NULL DEFAULT '',
  gender              INTEGER NOT NULL DEFAULT 0 CHECK (gender IN (0, 1, 2)),
  mobile              TEXT    NOT NULL DEFAULT '',
  birth               TEXT    NOT NULL DEFAULT '',
  email               TEXT    NOT NULL DEFAULT '',
  ex                  TEXT    NOT NULL DEFAULT '',
  registered_platform INTEGER NOT NULL CHECK (registered_platform BETWEEN 1 AND 7),
  created_at          INTEGER NOT NULL -- Unix milliseconds
) WITHOUT ROWID;
