import { getOrInsertComputed } from "../lib/maps";

/**
 * Who watches whom (SPEC §5e), on both sides, each as one row per subscriber
 * holding its whole set as JSON: a subscribe frame of 200 ids writes one row,
 * not 200 (rows are billed by count). Lookups go through an index built in
 * memory from those rows when the object wakes.
 */

/** A set of ids per key (one row each), and the reverse index. */
class SetRows {
  private byKey?: Map<string, Set<string>>;
  private byMember = new Map<string, Set<string>>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly table: "socket_subscriptions" | "watchers",
    private readonly keyColumn: "socket_key" | "watcher_uid",
  ) {}

  private load(): Map<string, Set<string>> {
    if (this.byKey) return this.byKey;
    this.byKey = new Map();
    const rows = this.sql.exec<{ key: string; ids: string }>(`SELECT ${this.keyColumn} AS key, ids FROM ${this.table}`);
    for (const row of rows) this.index(row.key, new Set(JSON.parse(row.ids) as string[]));
    return this.byKey;
  }

  private index(key: string, members: Set<string>): void {
    this.byKey?.set(key, members);
    for (const member of members) getOrInsertComputed(this.byMember, member, () => new Set()).add(key);
  }

  private unindex(key: string): void {
    for (const member of this.byKey?.get(key) ?? []) {
      const keys = this.byMember.get(member);
      keys?.delete(key);
      if (keys?.size === 0) this.byMember.delete(member);
    }
    this.byKey?.delete(key);
  }

  membersOf(key: string): ReadonlySet<string> {
    return this.load().get(key) ?? new Set();
  }

  keysOf(member: string): string[] {
    this.load();
    return [...(this.byMember.get(member) ?? [])];
  }

  keys(): string[] {
    return [...this.load().keys()];
  }

  /** Replaces a key's set: one row written (or deleted when empty), nothing when unchanged. */
  set(key: string, members: ReadonlySet<string>): void {
    const current = this.membersOf(key);
    if (current.size === members.size && [...members].every((m) => current.has(m))) return;
    this.unindex(key);
    if (members.size === 0) {
      this.sql.exec(`DELETE FROM ${this.table} WHERE ${this.keyColumn} = ?`, key);
      return;
    }
    this.sql.exec(
      `INSERT INTO ${this.table} (${this.keyColumn}, ids) VALUES (?1, ?2)
       ON CONFLICT (${this.keyColumn}) DO UPDATE SET ids = ?2`,
      key,
      JSON.stringify([...members]),
    );
    this.index(key, new Set(members));
  }
}

/** A user's object: which users each of its sockets watches (socket key → ids). */
export class SocketSubscriptions {
  private readonly rows: SetRows;

  constructor(sql: SqlStorage) {
    this.rows = new SetRows(sql, "socket_subscriptions", "socket_key");
  }

  watchedBy(socketKey: string): ReadonlySet<string> {
    return this.rows.membersOf(socketKey);
  }

  socketsWatching(uid: string): string[] {
    return this.rows.keysOf(uid);
  }

  socketKeys(): string[] {
    return this.rows.keys();
  }

  set(socketKey: string, uids: ReadonlySet<string>): void {
    this.rows.set(socketKey, uids);
  }
}

/** A presence shard: which users (watchers) watch which of its users (watcher uid → ids). */
export class ShardWatchers {
  private readonly rows: SetRows;

  constructor(sql: SqlStorage) {
    this.rows = new SetRows(sql, "watchers", "watcher_uid");
  }

  watchersOf(uid: string): string[] {
    return this.rows.keysOf(uid);
  }

  add(watcherUid: string, uids: readonly string[]): void {
    this.rows.set(watcherUid, new Set([...this.rows.membersOf(watcherUid), ...uids]));
  }

  remove(watcherUid: string, uids: readonly string[]): void {
    const gone = new Set(uids);
    this.rows.set(watcherUid, new Set([...this.rows.membersOf(watcherUid)].filter((uid) => !gone.has(uid))));
  }
}
