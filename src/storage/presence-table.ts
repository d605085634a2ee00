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

/** Bytes of entries per snapshot row, at most: a row stays well under the 2 MB a value may hold, whatever the uids. */
const SNAPSHOT_CHUNK_BYTES = 1_000_000;

const utf8 = new TextEncoder();

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

  /**
   * One row, whatever the columns: the plan rides along with the change it
   * comes from, and so does `fanoutAtMs` when watchers are to hear of it.
   */
  markOnline(
    uid: string,
    seq: number,
    platforms: number,
    publishedAtMs: number,
    plan: VerifyPlan,
    fanoutAtMs: number | undefined,
  ): void {
    this.sql.exec(
      `INSERT INTO online_users (uid, seq, platforms, published_at_ms, trust_until_ms, verify_from_ms, verify_by_ms, fanout_at_ms)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, platforms = ?3, published_at_ms = ?4,
         trust_until_ms = ?5, verify_from_ms = ?6, verify_by_ms = ?7, fanout_at_ms = ?8`,
      uid,
      seq,
      platforms,
      publishedAtMs,
      plan.trustUntilMs,
      plan.verifyFromMs,
      plan.verifyByMs,
      fanoutAtMs ?? null,
    );
  }

  markOffline(uid: string, seq: number, lastSeenMs: number | undefined, fanoutAtMs: number | undefined): void {
    this.sql.exec("DELETE FROM online_users WHERE uid = ?", uid);
    if (lastSeenMs === undefined) return;
    this.sql.exec(
      `INSERT INTO offline_users (uid, seq, last_seen_ms, fanout_at_ms) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, last_seen_ms = ?3, fanout_at_ms = ?4`,
      uid,
      seq,
      lastSeenMs,
      fanoutAtMs ?? null,
    );
  }

  /**
   * Since when fan-outs have been under way without all being done (one row,
   * written when the first starts and cleared when the last is done), or
   * undefined when none is: a shard that wakes with one set restarted in the
   * middle of a fan-out.
   */
  fanoutBusySince(): number | undefined {
    return (
      this.sql
        .exec<{ busy_since_ms: number | null }>("SELECT busy_since_ms FROM fanout_state WHERE id = 1")
        .toArray()[0]?.busy_since_ms ?? undefined
    );
  }

  setFanoutBusySince(sinceMs: number | undefined): void {
    this.sql.exec(
      `INSERT INTO fanout_state (id, busy_since_ms) VALUES (1, ?1)
       ON CONFLICT (id) DO UPDATE SET busy_since_ms = ?1`,
      sinceMs ?? null,
    );
  }

  /** Users whose change was being told to watchers at or after `sinceMs`. */
  fannedOutSince(sinceMs: number): string[] {
    return this.sql
      .exec<{ uid: string }>(
        `SELECT uid FROM online_users WHERE fanout_at_ms >= ?1
         UNION SELECT uid FROM offline_users WHERE fanout_at_ms >= ?1`,
        sinceMs,
      )
      .toArray()
      .map((row) => row.uid);
  }

  /** Drops a user who now belongs to another shard. */
  forget(uid: string): void {
    this.sql.exec("DELETE FROM online_users WHERE uid = ?", uid);
  }

  /**
   * The verify schedule, in rows of at most 1 MB (rows are billed by count,
   * not size): about 10,000 users a row with ASCII uids, fewer with longer ones.
   */
  saveSnapshot(entries: readonly SnapshotEntry[]): void {
    let chunk = 0;
    let parts: string[] = [];
    let bytes = 2;
    const flush = () => {
      this.sql.exec(
        "INSERT INTO roster_snapshot (chunk, entries) VALUES (?1, ?2) ON CONFLICT (chunk) DO UPDATE SET entries = ?2",
        chunk++,
        `[${parts.join(",")}]`,
      );
      parts = [];
      bytes = 2;
    };
    for (const e of entries) {
      const part = JSON.stringify([e.uid, e.seq, e.reportedAtMs, e.trustUntilMs, e.fromMs, e.byMs]);
      const size = utf8.encode(part).byteLength + 1;
      if (parts.length > 0 && bytes + size > SNAPSHOT_CHUNK_BYTES) flush();
      parts.push(part);
      bytes += size;
    }
    if (parts.length > 0) flush();
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
