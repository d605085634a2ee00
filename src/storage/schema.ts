import { MAX_IDS_PER_ROW } from "./watch-lists";

/**
 * Each Durable Object class's SQLite schema, versioned. An object applies the
 * migrations it has not seen yet, once, in one transaction, and records the
 * version it reached; a wake-up after that costs one read and no DDL. A new
 * migration is appended to its list, never edited (docs/upgrading.md).
 */
export interface Migration {
  version: number;
  /** What it does, for the upgrade notes. */
  description: string;
  apply(sql: SqlStorage): void;
}

const VERSION_TABLE = "_schema_version";

function storedVersion(sql: SqlStorage): number {
  const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", VERSION_TABLE).toArray();
  if (exists.length === 0) return 0;
  return sql.exec<{ version: number }>(`SELECT version FROM ${VERSION_TABLE}`).toArray()[0]?.version ?? 0;
}

/** Brings the object's tables to the newest version of `migrations`; refuses storage newer than this code. */
export function ensureSchema(storage: DurableObjectStorage, migrations: readonly Migration[]): void {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = storedVersion(storage.sql);
  if (current === latest) return;
  if (current > latest) throw new Error(`storage schema v${current} is newer than this code's v${latest}`);
  storage.transactionSync(() => {
    for (const migration of migrations) if (migration.version > current) migration.apply(storage.sql);
    storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
    );
    storage.sql.exec(
      `INSERT INTO ${VERSION_TABLE} (id, version) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET version = ?1`,
      latest,
    );
  });
}

function hasColumn(sql: SqlStorage, table: string, column: string): boolean {
  return sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table)
    .toArray()
    .some((c) => c.name === column);
}

/**
 * The user's object. v1 is written to also take objects created before
 * versioning: it creates what is missing and drops what is no longer used.
 */
export const USER_SESSION_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "revoked_tokens, logout_cutoffs (kept for good: no expiry column), presence_state (seq, live platforms, lastSeen, held and unsent webhook events); drops meta (the uid is ctx.id.name)",
    apply(sql) {
      sql.exec(`CREATE TABLE IF NOT EXISTS revoked_tokens (
        jti TEXT PRIMARY KEY,
        expires_at_ms INTEGER NOT NULL
      )`);
      sql.exec(`CREATE TABLE IF NOT EXISTS logout_cutoffs (
        platform INTEGER PRIMARY KEY,
        cutoff_ms INTEGER NOT NULL
      )`);
      if (hasColumn(sql, "logout_cutoffs", "expires_at_ms"))
        sql.exec("ALTER TABLE logout_cutoffs DROP COLUMN expires_at_ms");
      // An INTEGER PRIMARY KEY is the rowid itself: an upsert writes one row, no index entry.
      sql.exec(`CREATE TABLE IF NOT EXISTS presence_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        platforms INTEGER NOT NULL,
        last_seen_ms INTEGER,
        held TEXT NOT NULL DEFAULT '[]',
        outbox TEXT NOT NULL DEFAULT '[]',
        publish_pending INTEGER NOT NULL DEFAULT 0
      )`);
      sql.exec("DROP TABLE IF EXISTS meta");
    },
  },
  {
    version: 2,
    description: "socket_subscriptions: the users each socket watches (presence subscriptions), one row per socket",
    apply(sql) {
      sql.exec(`CREATE TABLE IF NOT EXISTS socket_subscriptions (
        socket_key TEXT PRIMARY KEY,
        ids TEXT NOT NULL
      ) WITHOUT ROWID`);
    },
  },
  {
    version: 3,
    description:
      "watch_lists replaces socket_subscriptions: a socket's watched ids in one row per change (adds, or tombstones), so a frame writes rows in proportion to its own ids, never the whole list",
    apply(sql) {
      createWatchLists(sql);
      moveWholeLists(sql, "socket_subscriptions", "socket_key");
    },
  },
  {
    version: 4,
    description:
      "account_state: the incarnation's start (epoch_ms; tokens issued before it are refused) and a ban (banned_until_ms, ban_reason), one row written only by delete_user and ban_user",
    apply(sql) {
      sql.exec(`CREATE TABLE IF NOT EXISTS account_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        epoch_ms INTEGER NOT NULL DEFAULT 0,
        banned_until_ms INTEGER,
        ban_reason TEXT
      )`);
    },
  },
  {
    version: 5,
    description:
      "presence_state gets settings (JSON): what the user sets about its own presence, such as invisibility, written with the row it changes",
    apply(sql) {
      if (!hasColumn(sql, "presence_state", "settings"))
        sql.exec("ALTER TABLE presence_state ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'");
    },
  },
  {
    version: 6,
    description:
      "presence_state gets background (platformMask of the live platforms whose app is in the background), written with the row it changes; settings may now hold a custom status",
    apply(sql) {
      if (!hasColumn(sql, "presence_state", "background"))
        sql.exec("ALTER TABLE presence_state ADD COLUMN background INTEGER NOT NULL DEFAULT 0");
    },
  },
  {
    version: 7,
    description:
      "presence_state gets held_background (JSON, null when none): a change of background held for PRESENCE_WEBHOOK_GRACE, written with the row it changes",
    apply(sql) {
      if (!hasColumn(sql, "presence_state", "held_background"))
        sql.exec("ALTER TABLE presence_state ADD COLUMN held_background TEXT");
    },
  },
];

/** One row per change of a watch list (storage/watch-lists.ts); the same shape in both classes. */
function createWatchLists(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS watch_lists (
    owner TEXT NOT NULL,
    row_no INTEGER NOT NULL,
    added TEXT NOT NULL,
    removed TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (owner, row_no)
  ) WITHOUT ROWID`);
}

/** Copies whole-list rows (one JSON list per owner) into watch_lists, a frame's worth of ids a row, then drops the old table. */
function moveWholeLists(sql: SqlStorage, table: "socket_subscriptions" | "watchers", ownerColumn: string): void {
  const exists = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray().length > 0;
  if (!exists) return;
  const rows = sql.exec<{ owner: string; ids: string }>(`SELECT ${ownerColumn} AS owner, ids FROM ${table}`).toArray();
  for (const { owner, ids } of rows) {
    const list = JSON.parse(ids) as string[];
    for (let start = 0, rowNo = 1; start < list.length; start += MAX_IDS_PER_ROW, rowNo++) {
      sql.exec(
        "INSERT INTO watch_lists (owner, row_no, added, removed) VALUES (?, ?, ?, '[]')",
        owner,
        rowNo,
        JSON.stringify(list.slice(start, start + MAX_IDS_PER_ROW)),
      );
    }
  }
  sql.exec(`DROP TABLE ${table}`);
}

/**
 * A presence shard. WITHOUT ROWID tables: an upsert writes one row, not a
 * row plus a primary-key index entry (each is billed).
 */
export const PRESENCE_SHARD_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description:
      "online_users, offline_users (lastSeen) and roster_snapshot (the verify schedule, kept across hibernation); drops presence (the per-heartbeat table they replace)",
    apply(sql) {
      sql.exec(`CREATE TABLE IF NOT EXISTS online_users (
        uid TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        platforms INTEGER NOT NULL,
        published_at_ms INTEGER NOT NULL
      ) WITHOUT ROWID`);
      sql.exec(`CREATE TABLE IF NOT EXISTS offline_users (
        uid TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL
      ) WITHOUT ROWID`);
      sql.exec(`CREATE TABLE IF NOT EXISTS roster_snapshot (
        chunk INTEGER PRIMARY KEY,
        entries TEXT NOT NULL
      )`);
      sql.exec("DROP TABLE IF EXISTS presence");
    },
  },
  {
    version: 2,
    description:
      "watchers: which users watch which of this shard's users (presence subscriptions), one row per watcher",
    apply(sql) {
      sql.exec(`CREATE TABLE IF NOT EXISTS watchers (
        watcher_uid TEXT PRIMARY KEY,
        ids TEXT NOT NULL
      ) WITHOUT ROWID`);
    },
  },
  {
    version: 3,
    description:
      "online_users gets each publish's verify plan (trust_until_ms, verify_from_ms, verify_by_ms): a shard that wakes resumes its users' verifies from their rows, without a verify each",
    apply(sql) {
      for (const column of ["trust_until_ms", "verify_from_ms", "verify_by_ms"])
        if (!hasColumn(sql, "online_users", column)) sql.exec(`ALTER TABLE online_users ADD COLUMN ${column} INTEGER`);
    },
  },
  {
    version: 4,
    description:
      "watch_lists replaces watchers (one row per change, not one per watcher); online_users and offline_users get fanout_at_ms (a change watchers are told of), and fanout_state since when fan-outs have been under way, so a shard that restarts in the middle of one tells those watchers again",
    apply(sql) {
      createWatchLists(sql);
      moveWholeLists(sql, "watchers", "watcher_uid");
      for (const table of ["online_users", "offline_users"])
        if (!hasColumn(sql, table, "fanout_at_ms")) sql.exec(`ALTER TABLE ${table} ADD COLUMN fanout_at_ms INTEGER`);
      sql.exec(`CREATE TABLE IF NOT EXISTS fanout_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        busy_since_ms INTEGER
      )`);
    },
  },
  {
    version: 5,
    description:
      "online_users and offline_users get epoch (the user's incarnation, account_state.epoch_ms of its object): a user deleted and registered again is ordered after the old one, and erasing the old one never touches the new",
    apply(sql) {
      for (const table of ["online_users", "offline_users"])
        if (!hasColumn(sql, table, "epoch"))
          sql.exec(`ALTER TABLE ${table} ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0`);
    },
  },
  {
    version: 6,
    description:
      "online_users and offline_users get details (JSON: what watchers see instead while the user is invisible); grants, one row per (owner, grantee): who may see the owner's presence when PRESENCE_VISIBILITY is granted",
    apply(sql) {
      for (const table of ["online_users", "offline_users"])
        if (!hasColumn(sql, table, "details")) sql.exec(`ALTER TABLE ${table} ADD COLUMN details TEXT`);
      sql.exec(`CREATE TABLE IF NOT EXISTS grants (
        owner TEXT NOT NULL,
        grantee TEXT NOT NULL,
        PRIMARY KEY (owner, grantee)
      ) WITHOUT ROWID`);
    },
  },
  {
    version: 7,
    description:
      "offline_users is rebuilt with last_seen_ms nullable (a user never online can have a custom status) and status_expires_at_ms, indexed where set, so a wake finds the custom statuses to expire without a scan; details also hold background and the custom status",
    apply(sql) {
      if (hasColumn(sql, "offline_users", "status_expires_at_ms")) return;
      sql.exec(`CREATE TABLE offline_users_v7 (
        uid TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        last_seen_ms INTEGER,
        fanout_at_ms INTEGER,
        epoch INTEGER NOT NULL DEFAULT 0,
        details TEXT,
        status_expires_at_ms INTEGER
      ) WITHOUT ROWID`);
      sql.exec(`INSERT INTO offline_users_v7 (uid, seq, last_seen_ms, fanout_at_ms, epoch, details)
        SELECT uid, seq, last_seen_ms, fanout_at_ms, epoch, details FROM offline_users`);
      sql.exec("DROP TABLE offline_users");
      sql.exec("ALTER TABLE offline_users_v7 RENAME TO offline_users");
      sql.exec(`CREATE INDEX offline_status_expiries ON offline_users (status_expires_at_ms)
        WHERE status_expires_at_ms IS NOT NULL`);
    },
  },
];
