import type { CustomStatus, PlatformId } from "../../protocol";

/**
 * A presence shard's tables (schema.ts). Written only when what a user's
 * watchers or the status route see changes, never on a heartbeat.
 *
 * - online_users: who is online, and the verify plan of each one's last
 *   publish, to rebuild the shard's memory after a wake without asking anyone.
 * - offline_users: when each user who has been online was last seen, its
 *   custom status, and the seq of that change, so a late answer cannot bring
 *   an offline user back.
 * - roster_snapshot: the whole schedule, saved when the shard goes idle.
 * - fanout_state: since when a fan-out has been under way (docs/presence.md#containment).
 */

/** When a shard asks a user's object next, and until when it trusts what it knows (presence/verification.ts). */
export interface VerifyPlan {
  /** The user may be verified from this moment: an alarm that runs for someone else takes it along... */
  fromMs: number;
  /** ...and must be by this one: the shard's alarm runs at the earliest of these. */
  byMs: number;
  /**
   * Until when a read may report the user's platforms without a newer answer:
   * a verify that is a moment late leaves a pinging user online; one that never
   * comes lets the entry lapse.
   */
  trustUntilMs: number;
}

/** What a user's object reports beside its platforms (docs/protocol.md#your-own-presence). */
export interface PresenceDetails {
  /** While the user is invisible: what its watchers see instead. */
  invisible?: { seq: number; lastSeenMs?: number };
  /** The live platforms whose app is in the background. */
  background?: PlatformId[];
  customStatus?: CustomStatus;
}

/** When a user's custom status expires, in Unix ms, if it does. */
export function statusExpiryMs(details: PresenceDetails | undefined): number | undefined {
  const expiresAt = details?.customStatus?.expiresAt;
  return expiresAt === undefined ? undefined : expiresAt * 1000;
}

/** A user a shard holds as online: its state as of one report of its object, and the plan that report brought. */
export interface OnlineUser {
  uid: string;
  /** The user's incarnation: a newer one wins whatever the seq (src/storage/account.ts). */
  epoch: number;
  seq: number;
  /** platformMask of the live platforms; never 0. */
  platforms: number;
  /** When the user's object computed that report: of two reports with one seq, the later wins. */
  reportedAtMs: number;
  plan: VerifyPlan;
  details?: PresenceDetails;
}

/** An online row as stored: one written before schema v3 has no plan. */
export type OnlineRow = Omit<OnlineUser, "plan"> & { plan?: VerifyPlan };

/** One user in the schedule snapshot (its platforms are in its row). */
export type SnapshotEntry = Omit<OnlineUser, "platforms">;

/** A user a shard holds as offline: its last change, and when its last session ended. */
export interface OfflineUser {
  uid: string;
  epoch: number;
  seq: number;
  lastSeenMs?: number;
  details?: PresenceDetails;
}

type OfflineRow = {
  uid: string;
  epoch: number;
  seq: number;
  /** Null for a user never online, stored for its custom status. */
  last_seen_ms: number | null;
  details: string | null;
};

function toOfflineUser(row: OfflineRow): OfflineUser {
  return {
    uid: row.uid,
    epoch: row.epoch,
    seq: row.seq,
    ...(row.last_seen_ms === null ? {} : { lastSeenMs: row.last_seen_ms }),
    ...detailsOf(row.details),
  };
}

/** Details are stored only when there are any: a visible user's rows stay as small as before. */
function detailsOf(json: string | null): { details?: PresenceDetails } {
  return json === null ? {} : { details: JSON.parse(json) as PresenceDetails };
}

function detailsJson(details: PresenceDetails | undefined): string | null {
  return details && Object.keys(details).length > 0 ? JSON.stringify(details) : null;
}

/** Bytes of entries per snapshot row, at most: a row stays well under the 2 MB a value may hold, whatever the uids. */
const SNAPSHOT_CHUNK_BYTES = 1_000_000;

const utf8 = new TextEncoder();

export class ShardTables {
  constructor(private readonly sql: SqlStorage) {}

  onlineUsers(): OnlineRow[] {
    return this.sql
      .exec<{
        uid: string;
        epoch: number;
        seq: number;
        platforms: number;
        published_at_ms: number;
        details: string | null;
        trust_until_ms: number | null;
        verify_from_ms: number | null;
        verify_by_ms: number | null;
      }>(
        "SELECT uid, epoch, seq, platforms, published_at_ms, trust_until_ms, verify_from_ms, verify_by_ms, details FROM online_users",
      )
      .toArray()
      .map((row) => ({
        uid: row.uid,
        epoch: row.epoch,
        seq: row.seq,
        platforms: row.platforms,
        reportedAtMs: row.published_at_ms,
        ...detailsOf(row.details),
        ...(row.trust_until_ms === null || row.verify_from_ms === null || row.verify_by_ms === null
          ? {}
          : { plan: { fromMs: row.verify_from_ms, byMs: row.verify_by_ms, trustUntilMs: row.trust_until_ms } }),
      }));
  }

  /** What is stored of a user who is not in memory (an offline one who has been online), if anything. */
  offlineState(uid: string): OfflineUser | undefined {
    const row = this.sql
      .exec<OfflineRow>("SELECT uid, epoch, seq, last_seen_ms, details FROM offline_users WHERE uid = ?", uid)
      .toArray()[0];
    return row && toOfflineUser(row);
  }

  /**
   * One row, whatever the columns: the plan rides along with the change it
   * comes from, and so does `fanoutAtMs` when watchers are to hear of it.
   */
  markOnline(user: OnlineUser, fanoutAtMs: number | undefined): void {
    this.sql.exec(
      `INSERT INTO online_users (uid, seq, platforms, published_at_ms, trust_until_ms, verify_from_ms, verify_by_ms, fanout_at_ms, epoch, details)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, platforms = ?3, published_at_ms = ?4,
         trust_until_ms = ?5, verify_from_ms = ?6, verify_by_ms = ?7, fanout_at_ms = ?8, epoch = ?9, details = ?10`,
      user.uid,
      user.seq,
      user.platforms,
      user.reportedAtMs,
      user.plan.trustUntilMs,
      user.plan.fromMs,
      user.plan.byMs,
      fanoutAtMs ?? null,
      user.epoch,
      detailsJson(user.details),
    );
  }

  /**
   * The user's offline row: its lastSeen, its custom status (with its expiry,
   * indexed so a wake finds what to expire), and the version of this change,
   * so a late older report cannot undo it.
   */
  markOffline(user: OfflineUser, fanoutAtMs: number | undefined): void {
    this.sql.exec("DELETE FROM online_users WHERE uid = ?", user.uid);
    this.sql.exec(
      `INSERT INTO offline_users (uid, seq, last_seen_ms, fanout_at_ms, epoch, details, status_expires_at_ms)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT (uid) DO UPDATE SET seq = ?2, last_seen_ms = ?3, fanout_at_ms = ?4, epoch = ?5, details = ?6,
         status_expires_at_ms = ?7`,
      user.uid,
      user.seq,
      user.lastSeenMs ?? null,
      fanoutAtMs ?? null,
      user.epoch,
      detailsJson(user.details),
      statusExpiryMs(user.details) ?? null,
    );
  }

  /** The offline users whose custom status expires, and when: an index read of just those rows. */
  offlineStatusExpiries(): { uid: string; expiresAtMs: number }[] {
    return this.sql
      .exec<{ uid: string; status_expires_at_ms: number }>(
        "SELECT uid, status_expires_at_ms FROM offline_users WHERE status_expires_at_ms IS NOT NULL",
      )
      .toArray()
      .map((row) => ({ uid: row.uid, expiresAtMs: row.status_expires_at_ms }));
  }

  /** Everything stored of a deleted user: its online row, or its lastSeen. */
  erase(uid: string): void {
    this.sql.exec("DELETE FROM online_users WHERE uid = ?", uid);
    this.sql.exec("DELETE FROM offline_users WHERE uid = ?", uid);
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
      const { trustUntilMs, fromMs, byMs } = e.plan;
      const part = JSON.stringify([e.uid, e.seq, e.reportedAtMs, trustUntilMs, fromMs, byMs, e.epoch]);
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
      (JSON.parse(row.entries) as [string, number, number, number, number, number, number?][]).map(
        // Entries saved before schema v5 have no epoch: theirs is 0.
        ([uid, seq, reportedAtMs, trustUntilMs, fromMs, byMs, epoch = 0]) => ({
          uid,
          epoch,
          seq,
          reportedAtMs,
          plan: { fromMs, byMs, trustUntilMs },
        }),
      ),
    );
  }

  /** What is stored of each of these users who is offline and has been online. */
  offlineUsers(uids: readonly string[]): OfflineUser[] {
    if (uids.length === 0) return [];
    return this.sql
      .exec<OfflineRow>(
        "SELECT uid, epoch, seq, last_seen_ms, details FROM offline_users WHERE uid IN (SELECT value FROM json_each(?1))",
        JSON.stringify(uids),
      )
      .toArray()
      .map(toOfflineUser);
  }

  // ---- grants: who may see whose presence (docs/security.md#who-may-see-whom) ----

  grantsOf(owner: string): string[] {
    return this.sql
      .exec<{ grantee: string }>("SELECT grantee FROM grants WHERE owner = ?", owner)
      .toArray()
      .map((row) => row.grantee);
  }

  /**
   * Which of `owners` have granted `grantee`: one statement, a primary-key
   * lookup per owner, the same for an owner with grants, one without and one
   * that does not exist.
   */
  grantersAmong(grantee: string, owners: readonly string[]): Set<string> {
    if (owners.length === 0) return new Set();
    return new Set(
      this.sql
        .exec<{ owner: string }>(
          `SELECT value AS owner FROM json_each(?2)
           WHERE EXISTS (SELECT 1 FROM grants WHERE owner = value AND grantee = ?1)`,
          grantee,
          JSON.stringify(owners),
        )
        .toArray()
        .map((row) => row.owner),
    );
  }

  /** One row per grant added or removed, in one transaction with the caller's. */
  changeGrants(owner: string, add: readonly string[], remove: readonly string[]): void {
    for (const grantee of add)
      this.sql.exec("INSERT INTO grants (owner, grantee) VALUES (?, ?) ON CONFLICT DO NOTHING", owner, grantee);
    for (const grantee of remove) this.sql.exec("DELETE FROM grants WHERE owner = ? AND grantee = ?", owner, grantee);
  }

  /** A page of an owner's grantees in code-point order after `after`, and one more to tell whether a next page exists. */
  grantPage(owner: string, after: string | undefined, limit: number): string[] {
    return this.sql
      .exec<{ grantee: string }>(
        "SELECT grantee FROM grants WHERE owner = ?1 AND grantee > ?2 ORDER BY grantee LIMIT ?3",
        owner,
        after ?? "",
        limit + 1,
      )
      .toArray()
      .map((row) => row.grantee);
  }

  /** Every grant of deleted users, whichever way it points. */
  eraseGrants(uids: readonly string[]): void {
    const list = JSON.stringify(uids);
    this.sql.exec(
      "DELETE FROM grants WHERE owner IN (SELECT value FROM json_each(?1)) OR grantee IN (SELECT value FROM json_each(?1))",
      list,
    );
  }
}
