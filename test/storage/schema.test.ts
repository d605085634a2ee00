import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ensureSchema, PRESENCE_SHARD_MIGRATIONS, USER_SESSION_MIGRATIONS } from "../../src/storage/schema";
import { ShardTables } from "../../src/storage/shard-tables";
import { WatchLists } from "../../src/storage/watch-lists";
import { freshUid } from "../helpers";
import { sessionStub } from "../presence/helpers";

const tables = (sql: SqlStorage) =>
  sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' ORDER BY name",
    )
    .toArray()
    .map((t) => t.name);

/** The statements a piece of code runs on `sql`. */
function statementsRun(sql: SqlStorage, run: (sql: SqlStorage) => void): string[] {
  const seen: string[] = [];
  const spy = new Proxy(sql, {
    get: (target, property) =>
      property === "exec"
        ? (query: string, ...bindings: unknown[]) => {
            seen.push(query);
            return target.exec(query, ...bindings);
          }
        : Reflect.get(target, property, target),
  });
  run(spy);
  return seen;
}

describe("each object's versioned schema", () => {
  it("upgrades a user object created before versioning, keeping its data", async () => {
    await runInDurableObject(sessionStub(freshUid()), (_instance, state) => {
      const sql = state.storage.sql;
      // The layout such objects had: no version, a meta table, cutoffs with an expiry column.
      sql.exec("DROP TABLE _schema_version");
      sql.exec("DROP TABLE logout_cutoffs");
      sql.exec(
        "CREATE TABLE logout_cutoffs (platform INTEGER PRIMARY KEY, cutoff_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL)",
      );
      sql.exec("INSERT INTO logout_cutoffs VALUES (1, 1000, 2000)");
      sql.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");

      ensureSchema(state.storage, USER_SESSION_MIGRATIONS);

      expect(tables(sql)).toEqual([
        "_schema_version",
        "account_state",
        "logout_cutoffs",
        "presence_state",
        "revoked_tokens",
        "watch_lists",
      ]);
      expect(sql.exec("SELECT * FROM logout_cutoffs").toArray()).toEqual([{ platform: 1, cutoff_ms: 1000 }]);
      expect(sql.exec("SELECT version FROM _schema_version").one()).toEqual({ version: 7 });
    });
  });

  it("upgrades a shard created before versioning (drops the per-heartbeat presence table)", async () => {
    const shard = env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`schema-${freshUid()}`));
    await runInDurableObject(shard, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE _schema_version");
      sql.exec("CREATE TABLE presence (uid TEXT PRIMARY KEY, version INTEGER, live_until_ms INTEGER, platforms TEXT)");
      ensureSchema(state.storage, PRESENCE_SHARD_MIGRATIONS);
      expect(tables(sql)).toEqual([
        "_schema_version",
        "fanout_state",
        "grants",
        "offline_users",
        "online_users",
        "roster_snapshot",
        "watch_lists",
      ]);
    });
  });

  it("upgrades a v2 shard's online rows: each keeps its data and has no plan until its next publish", async () => {
    const shard = env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`schema-${freshUid()}`));
    await runInDurableObject(shard, (_instance, state) => {
      const sql = state.storage.sql;
      // online_users as v2 made it.
      sql.exec("DROP TABLE online_users");
      sql.exec(`CREATE TABLE online_users (uid TEXT PRIMARY KEY, seq INTEGER NOT NULL, platforms INTEGER NOT NULL,
        published_at_ms INTEGER NOT NULL) WITHOUT ROWID`);
      sql.exec("INSERT INTO online_users VALUES ('ada', 3, 2, 1000)");
      sql.exec("UPDATE _schema_version SET version = 2");

      ensureSchema(state.storage, PRESENCE_SHARD_MIGRATIONS);
      const table = new ShardTables(sql);
      expect(table.onlineUsers()).toEqual([{ uid: "ada", epoch: 0, seq: 3, platforms: 2, reportedAtMs: 1000 }]);
      const user = {
        uid: "ada",
        seq: 4,
        platforms: 2,
        reportedAtMs: 2000,
        plan: { fromMs: 31_000, byMs: 33_500, trustUntilMs: 35_000 },
        epoch: 0,
      };
      table.markOnline(user, undefined);
      expect(table.onlineUsers()).toEqual([user]);
      expect(sql.exec("SELECT version FROM _schema_version").one()).toEqual({ version: 7 });
    });
  });

  it("rebuilds a v6 shard's offline_users keeping every row, with lastSeen nullable and expiries indexed", async () => {
    const shard = env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`schema-${freshUid()}`));
    await runInDurableObject(shard, (_instance, state) => {
      const sql = state.storage.sql;
      // offline_users as v6 left it.
      sql.exec("DROP TABLE offline_users");
      sql.exec(`CREATE TABLE offline_users (uid TEXT PRIMARY KEY, seq INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
        fanout_at_ms INTEGER, epoch INTEGER NOT NULL DEFAULT 0, details TEXT) WITHOUT ROWID`);
      sql.exec(
        `INSERT INTO offline_users VALUES ('ada', 7, 5000, NULL, 3, '{"invisible":{"seq":6,"lastSeenMs":4000}}')`,
      );
      sql.exec("UPDATE _schema_version SET version = 6");

      ensureSchema(state.storage, PRESENCE_SHARD_MIGRATIONS);
      const table = new ShardTables(sql);
      expect(table.offlineState("ada")).toEqual({
        uid: "ada",
        epoch: 3,
        seq: 7,
        lastSeenMs: 5000,
        details: { invisible: { seq: 6, lastSeenMs: 4000 } },
      });
      // A user never online, with a status that expires: stored, and found by the index.
      table.markOffline(
        { uid: "bob", epoch: 1, seq: 1, details: { customStatus: { text: "Away", expiresAt: 2_000_000_000 } } },
        undefined,
      );
      expect(table.offlineState("bob")).toEqual({
        uid: "bob",
        epoch: 1,
        seq: 1,
        details: { customStatus: { text: "Away", expiresAt: 2_000_000_000 } },
      });
      expect(table.offlineStatusExpiries()).toEqual([{ uid: "bob", expiresAtMs: 2_000_000_000_000 }]);
      const plan = sql
        .exec<{ detail: string }>(
          "EXPLAIN QUERY PLAN SELECT uid, status_expires_at_ms FROM offline_users WHERE status_expires_at_ms IS NOT NULL",
        )
        .toArray()
        .map((row) => row.detail)
        .join(" ");
      expect(plan).toContain("offline_status_expiries");
      expect(sql.exec("SELECT version FROM _schema_version").one()).toEqual({ version: 7 });
    });
  });

  it("moves a v2 user object's whole-list subscriptions into watch_lists, 200 ids a row, watching the same ids", async () => {
    await runInDurableObject(sessionStub(freshUid()), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE watch_lists");
      sql.exec("CREATE TABLE socket_subscriptions (socket_key TEXT PRIMARY KEY, ids TEXT NOT NULL) WITHOUT ROWID");
      const ids = Array.from({ length: 450 }, (_, i) => `id-${i}`);
      sql.exec("INSERT INTO socket_subscriptions VALUES ('socket-a', ?), ('socket-b', '[\"x\"]')", JSON.stringify(ids));
      sql.exec("UPDATE _schema_version SET version = 2");

      ensureSchema(state.storage, USER_SESSION_MIGRATIONS);
      expect(tables(sql)).not.toContain("socket_subscriptions");
      const rows = sql.exec<{ owner: string; n: number }>(
        "SELECT owner, json_array_length(added) AS n FROM watch_lists ORDER BY owner, row_no",
      );
      expect(rows.toArray()).toEqual([
        { owner: "socket-a", n: 200 },
        { owner: "socket-a", n: 200 },
        { owner: "socket-a", n: 50 },
        { owner: "socket-b", n: 1 },
      ]);
      const lists = new WatchLists(state.storage);
      expect(lists.idsOf("socket-a").sort()).toEqual([...ids].sort());
      expect(lists.ownersOf("x")).toEqual(["socket-b"]);
    });
  });

  it("moves a v3 shard's watchers into watch_lists and gives its rows fanout_at_ms", async () => {
    const shard = env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`schema-${freshUid()}`));
    await runInDurableObject(shard, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE watch_lists");
      sql.exec("DROP TABLE fanout_state");
      sql.exec("ALTER TABLE online_users DROP COLUMN fanout_at_ms");
      sql.exec("ALTER TABLE offline_users DROP COLUMN fanout_at_ms");
      sql.exec("CREATE TABLE watchers (watcher_uid TEXT PRIMARY KEY, ids TEXT NOT NULL) WITHOUT ROWID");
      sql.exec(`INSERT INTO watchers VALUES ('bob', '["ada","eve"]')`);
      sql.exec("UPDATE _schema_version SET version = 3");

      ensureSchema(state.storage, PRESENCE_SHARD_MIGRATIONS);
      expect(tables(sql)).not.toContain("watchers");
      const lists = new WatchLists(state.storage);
      expect(lists.ownersOf("eve")).toEqual(["bob"]);
      expect(new ShardTables(sql).fanoutBusySince()).toBeUndefined();
    });
  });

  it("runs no DDL on a wake-up once the object is current: one read of the version", async () => {
    await runInDurableObject(sessionStub(freshUid()), (_instance, state) => {
      const run = statementsRun(state.storage.sql, (sql) => {
        const storage = { sql, transactionSync: (fn: () => void) => state.storage.transactionSync(fn) };
        ensureSchema(storage as DurableObjectStorage, USER_SESSION_MIGRATIONS);
      });
      expect(run.length).toBeGreaterThan(0);
      expect(run.every((query) => query.trimStart().startsWith("SELECT"))).toBe(true);
    });
  });

  it("refuses storage written by a newer version of the code", async () => {
    await runInDurableObject(sessionStub(freshUid()), (_instance, state) => {
      state.storage.sql.exec("UPDATE _schema_version SET version = 99");
      expect(() => ensureSchema(state.storage, USER_SESSION_MIGRATIONS)).toThrow(/v99 is newer than this code's v7/);
    });
  });
});
