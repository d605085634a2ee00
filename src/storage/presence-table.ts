/**
 * A presence shard's tables (schema.ts). Written only when a user's live
 * platforms change, never on a heartbeat.
 *
 * - online_users: who is online, to rebuild the shard's memory after a restart.
 * - offline_users: when each user who has been online was last seen, and the
 *   seq of that change, so a late answer cannot bring an offline user back.
 */
export interface OnlineRow {
  uid: string;
  seq: number;
  /** platformMask of the live platforms; never 0. */
  platforms: number;
}

export class PresenceTable {
  constructor(private readonly sql: SqlStorage) {}

  onlineUsers(): OnlineRow[] {
    return this.sql.exec<{ uid: string; seq: number; platforms: number }>("SELECT uid, seq, platforms FROM online_users").toArray();
  }

  /** The seq of the last change stored for a user who is not in memory, if any. */
  offlineSeq(uid: string): number | undefined {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM offline_users WHERE uid = ?", uid).toArray()[0]?.seq;
  }

  markOnline(uid: string, seq: number, platforms: number): void {
    this.sql.exec(
      `INSERT INTO online_users (uid, seq, platforms) VALUES (?1, ?2, ?3)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, platforms = ?3`,
      uid,
      seq,
      platforms,
    );
  }

  markOffline(uid: string, seq: number, lastSeenMs: number | undefined): void {
    this.sql.exec("DELETE FROM online_users WHERE uid = ?", uid);
    if (lastSeenMs === undefined) return;
    this.sql.exec(
      `INSERT INTO offline_users (uid, seq, last_seen_ms) VALUES (?1, ?2, ?3)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, last_seen_ms = ?3`,
      uid,
      seq,
      lastSeenMs,
    );
  }

  /** Drops a user who now belongs to another shard. */
  forget(uid: string): void {
    this.sql.exec("DELETE FROM online_users WHERE uid = ?", uid);
  }

  /** lastSeen of each uid that has one. */
  lastSeen(uids: readonly string[]): Map<string, number> {
    const rows = this.sql.exec<{ uid: string; last_seen_ms: number }>(
      "SELECT uid, last_seen_ms FROM offline_users WHERE uid IN (SELECT value FROM json_each(?1))",
      JSON.stringify(uids),
    );
    return new Map([...rows].map((row) => [row.uid, row.last_seen_ms]));
  }
}
