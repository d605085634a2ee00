import type { VerifyPlan } from "../presence/verification";

/**
 * A presence shard's tables (schema.ts). Written only when a user's live
 * platforms change, never on a heartbeat.
 *
 * - online_users: who is online, and the verify plan of each one's last
 *   publish, to rebuild the shard's memory after a wake without asking anyone.
 * - offline_users: when each user who has been online was last seen, and the
 *   seq of that change, so a late answer cannot bring an offline user back.
 */
export interface OnlineRow {
  uid: string;
  seq: number;
  /** platformMask of the live platforms; never 0. */
  platforms: number;
  /** When the user's object computed its last published report: a snapshot older than this is stale for the user. */
  publishedAtMs: number;
  /** The verify plan that publish brought (schema v3); absent on a row written before. */
  plan?: VerifyPlan;
}

/** Entries per snapshot row: a row stays well under the 2 MB a value may hold. */
const SNAPSHOT_CHUNK = 10_000;

/** One online user in the shard's schedule snapshot: enough to resume its verifies exactly. */
export interface SnapshotEntry {
  uid: string;
  seq: number;
  reportedAtMs: number;
  trustUntilMs: number;
  fromMs: number;
  byMs: number;
}

export class PresenceTable {
  constructor(private readonly sql: SqlStorage) {}

  onlineUsers(): OnlineRow[] {
    return this.sql
      .exec<{
        uid: string;
        seq: number;
        platforms: number;
        published_at_ms: number;
        trust_until_ms: number | null;
        verify_from_ms: number | null;
        verify_by_ms: number | null;
      }>("SELECT uid, seq, platforms, published_at_ms, trust_until_ms, verify_from_ms, verify_by_ms FROM online_users")
      .toArray()
      .map((row) => ({
        uid: row.uid,
        seq: row.seq,
        platforms: row.platforms,
        publishedAtMs: row.published_at_ms,
        ...(row.trust_until_ms === null || row.verify_from_ms === null || row.verify_by_ms === null
          ? {}
          : {
              plan: {
                trustUntilMs: row.trust_until_ms,
                verifyFromMs: row.verify_from_ms,
                verifyByMs: row.verify_by_ms,
              },
            }),
      }));
  }

  /** The seq of the last change stored for a user who is not in memory, if any. */
  offlineSeq(uid: string): number | undefined {
    return this.sql.exec<{ seq: number }>("SELECT seq FROM offline_users WHERE uid = ?", uid).toArray()[0]?.seq;
  }

  /** One row, whatever the columns: the plan rides along with the change it comes from. */
  markOnline(uid: string, seq: number, platforms: number, publishedAtMs: number, plan: VerifyPlan): void {
    this.sql.exec(
      `INSERT INTO online_users (uid, seq, platforms, published_at_ms, trust_until_ms, verify_from_ms, verify_by_ms)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, platforms = ?3, published_at_ms = ?4,
         trust_until_ms = ?5, verify_from_ms = ?6, verify_by_ms = ?7`,
      uid,
      seq,
      platforms,
      publishedAtMs,
      plan.trustUntilMs,
      plan.verifyFromMs,
      plan.verifyByMs,
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

  /** The verify schedule, in rows of 10,000 users (rows are billed by count, not size). */
  saveSnapshot(entries: readonly SnapshotEntry[]): void {
    const compact = entries.map((e) => [e.uid, e.seq, e.reportedAtMs, e.trustUntilMs, e.fromMs, e.byMs]);
    let chunk = 0;
    for (let start = 0; start < compact.length; start += SNAPSHOT_CHUNK, chunk++) {
      this.sql.exec(
        "INSERT INTO roster_snapshot (chunk, entries) VALUES (?1, ?2) ON CONFLICT (chunk) DO UPDATE SET entries = ?2",
        chunk,
        JSON.stringify(compact.slice(start, start + SNAPSHOT_CHUNK)),
      );
    }
    this.sql.exec("DELETE FROM roster_snapshot WHERE chunk >= ?", chunk);
  }

  loadSnapshot(): SnapshotEntry[] {
    const rows = this.sql.exec<{ entries: string }>("SELECT entries FROM roster_snapshot ORDER BY chunk").toArray();
    return rows.flatMap((row) =>
      (JSON.parse(row.entries) as [string, number, number, number, number, number][]).map(
        ([uid, seq, reportedAtMs, trustUntilMs, fromMs, byMs]) => ({
          uid,
          seq,
          reportedAtMs,
          trustUntilMs,
          fromMs,
          byMs,
        }),
      ),
    );
  }

  /** When each of these users was last seen, for those who have been online. */
  lastSeen(uids: readonly string[]): { uid: string; seq: number; lastSeenMs: number }[] {
    if (uids.length === 0) return [];
    return this.sql
      .exec<{ uid: string; seq: number; last_seen_ms: number }>(
        "SELECT uid, seq, last_seen_ms FROM offline_users WHERE uid IN (SELECT value FROM json_each(?1))",
        JSON.stringify(uids),
      )
      .toArray()
      .map((row) => ({ uid: row.uid, seq: row.seq, lastSeenMs: row.last_seen_ms }));
  }
}
