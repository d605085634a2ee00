import type { PlatformId } from "../../protocol";
import { platformMask, platformsOfMask } from "../platforms";
import type {
  OfflineUser,
  OnlineRow,
  OnlineUser,
  PresenceDetails,
  SnapshotEntry,
  VerifyPlan,
} from "../storage/shard-tables";
import { DeadlineSchedule } from "./deadlines";
import { type PresenceReport, planVerification, type VerifyTiming } from "./verification";

/** Catch-up verifies after a wake are at most this far apart (and all within one verify window). */
const RESTORE_STEP_MS = 5;

/** Which report of a user something comes from: its incarnation, then its seq. */
export interface Version {
  epoch: number;
  seq: number;
}

export interface LivePlatforms extends Version {
  uid: string;
  platforms: PlatformId[];
  details?: PresenceDetails;
}

/** What a shard knows of a user: online with its platforms, or offline (since lastSeen, if it has been online). */
export type UserPresence = LivePlatforms | OfflineUser;

/**
 * What a user's watchers see of it, seq aside: a change of this is what they
 * are told of. While the user is invisible they see it offline since then, and
 * nothing else; a custom status's expiry is not part of it (the expiry, when
 * it comes, is a change of its own).
 */
function watcherView(presence: UserPresence | undefined): string {
  if (!presence) return "unknown";
  const { invisible, background, customStatus } = presence.details ?? {};
  if (invisible) return JSON.stringify([presence.epoch, "offline", invisible.lastSeenMs]);
  return "platforms" in presence
    ? JSON.stringify([presence.epoch, "online", presence.platforms, background, customStatus])
    : JSON.stringify([presence.epoch, "offline", presence.lastSeenMs, customStatus]);
}

/** The details a report brings: only what it has, so a visible user in the foreground with no status stores none. */
function detailsOf(report: PresenceReport): PresenceDetails | undefined {
  const details: PresenceDetails = {
    ...(report.invisible ? { invisible: report.invisible } : {}),
    ...(report.background?.length ? { background: report.background } : {}),
    ...(report.customStatus ? { customStatus: report.customStatus } : {}),
  };
  return Object.keys(details).length > 0 ? details : undefined;
}

function presenceOf(user: OnlineUser): LivePlatforms {
  const { uid, epoch, seq, platforms, details } = user;
  return { uid, epoch, seq, platforms: platformsOfMask(platforms), ...(details ? { details } : {}) };
}

/** Whether `a` comes after `b`: a later incarnation, then a higher seq. */
export function isLaterVersion(a: Version, b: Version): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq);
}

/**
 * What applying a report means: the table write it needs, the user's state
 * after it (unless the report was older than what is known, or the user moved
 * away), and that state again if watchers must hear of it.
 */
export interface AppliedReport {
  write?: RosterWrite;
  current?: UserPresence;
  changed?: UserPresence;
}

/** What a report means for the shard's tables; `undefined` when they stay as they are. */
export type RosterWrite =
  | { kind: "online"; user: OnlineUser }
  | { kind: "offline"; user: OfflineUser }
  | { kind: "forget" };

/**
 * A presence shard's memory of who is online: what it knows of each user,
 * until when that can be trusted, and when the user's object is to be
 * verified next. Pure and clock-free: every call takes the time, and what it
 * needs from storage, as values. So the same code runs in the Durable Object
 * and in a simulation of 100,000 users (bench/simulation/shard.ts).
 */
export class OnlineRoster {
  private readonly online = new Map<string, OnlineUser>();
  private readonly schedule = new DeadlineSchedule<VerifyPlan>();
  /** Memory changed since the last snapshot was taken. */
  private unsaved = false;

  constructor(private readonly timing: VerifyTiming) {}

  get size(): number {
    return this.online.size;
  }

  /** Whether the user is held as online; if not, `apply` needs the version its table stored. */
  has(uid: string): boolean {
    return this.online.has(uid);
  }

  /**
   * After a wake: the users the tables say are online. Each resumes from its
   * newest saved plan: the last snapshot's entry when that is newer than the
   * user's last publish, else the plan its row got with that publish.
   * Resuming asks no one, so the read that woke the shard is answered at once.
   * A user with no plan (a row older than schema v3) or an overdue one is
   * verified within a moment instead, trusted until `fallbackTrustUntilMs`.
   */
  restore(
    rows: readonly OnlineRow[],
    snapshot: readonly SnapshotEntry[],
    nowMs: number,
    fallbackTrustUntilMs: number,
  ): void {
    const saved = new Map(snapshot.map((entry) => [entry.uid, entry]));
    const catchUp: OnlineRow[] = [];
    for (const row of rows) {
      const entry = saved.get(row.uid);
      // The snapshot is taken after verifies, which write no row; a publish since wrote the row's own plan.
      const newest = entry && entry.seq === row.seq && entry.reportedAtMs >= row.reportedAtMs ? entry : row;
      if (!newest.plan || newest.plan.byMs < nowMs) catchUp.push(row);
      else this.track({ ...row, reportedAtMs: newest.reportedAtMs, plan: newest.plan });
    }
    this.verifySoon(catchUp, nowMs, fallbackTrustUntilMs);
  }

  /**
   * After the runtime itself was down: no socket outlived it, so no saved plan
   * is trusted and every user is verified at once, reading offline until then.
   */
  restoreAfterOutage(rows: readonly OnlineRow[], nowMs: number): void {
    this.verifySoon(rows, nowMs, nowMs);
  }

  /**
   * Users to verify right after a wake, trusted until `trustUntilMs`. The
   * verifies start a moment after the wake and spread out, so the read that
   * woke the shard is answered first and a big shard does not wake every
   * user's object at once.
   */
  private verifySoon(rows: readonly OnlineRow[], nowMs: number, trustUntilMs: number): void {
    const step = rows.length ? Math.min(RESTORE_STEP_MS, this.timing.closesAfterMs / rows.length) : 0;
    rows.forEach((row, i) => {
      const at = nowMs + this.timing.opensAfterMs + i * step;
      this.track({ ...row, reportedAtMs: 0, plan: { fromMs: at, byMs: at, trustUntilMs } });
    });
  }

  /** Holds a user as online, to be verified by its plan. */
  private track(user: OnlineUser): void {
    this.online.set(user.uid, user);
    this.schedule.set(user.uid, user.plan);
  }

  /**
   * A shard idle for a while hibernates and loses this memory. When the next
   * verify is at least `timing.idleAfterMs` off and something changed, this returns
   * the schedule to save first, so the wake resumes it instead of verifying
   * every user at once, early. A busy shard (verifies close together) saves nothing.
   */
  snapshotIfGoingIdle(nowMs: number): SnapshotEntry[] | undefined {
    const next = this.nextDue();
    if (!this.unsaved || next === undefined || next - nowMs < this.timing.idleAfterMs) return undefined;
    this.unsaved = false;
    return this.snapshot();
  }

  /** Every online user's plan, for restore(). */
  snapshot(): SnapshotEntry[] {
    const entries: SnapshotEntry[] = [];
    for (const { platforms: _inItsRow, ...user } of this.online.values()) {
      // A user being verified right now is off the schedule; the next restore verifies it at once.
      if (this.schedule.windowOf(user.uid)) entries.push(user);
    }
    return entries;
  }

  /**
   * Applies a report unless a newer one is already here. `stored` is the
   * version the tables hold for a user not in memory (an offline one). Returns the
   * table write it needs: a change always; a publish from the user's object
   * also refreshes the online row (a new socket may have brought an earlier
   * deadline, which a snapshot taken before must not override); a verify's
   * answer that changes nothing needs none, so steady state writes nothing.
   */
  apply(
    uid: string,
    report: PresenceReport,
    stored: OfflineUser | undefined,
    origin: "publish" | "verify",
  ): AppliedReport {
    const known = this.online.get(uid);
    const knownVersion = known ?? stored ?? { epoch: 0, seq: 0 };
    const sameVersion = report.epoch === knownVersion.epoch && report.seq === knownVersion.seq;
    if (isLaterVersion(knownVersion, report) || (sameVersion && known && report.reportedAtMs < known.reportedAtMs)) {
      return {};
    }
    this.unsaved = true;
    const platforms = platformMask(report.platforms);
    const plan = planVerification(report, this.timing);
    const details = detailsOf(report);
    const version = { uid, epoch: report.epoch, seq: report.seq, ...(details ? { details } : {}) };
    const user: OnlineUser | undefined = plan && { ...version, platforms, reportedAtMs: report.reportedAtMs, plan };
    const offline: OfflineUser = {
      ...version,
      ...(report.lastSeenMs === undefined ? {} : { lastSeenMs: report.lastSeenMs }),
    };
    let write: RosterWrite | undefined;
    if (report.movedAway) write = { kind: "forget" };
    else if (!sameVersion || (origin === "publish" && user)) {
      write = user ? { kind: "online", user } : { kind: "offline", user: offline };
    }

    if (user) this.track(user);
    else {
      this.online.delete(uid);
      this.schedule.delete(uid);
    }
    // Watchers hear of a change of what they see: the platforms, going offline, going invisible,
    // background, custom status, a new incarnation. A seq alone is no change, nor is anything
    // that happens while invisible.
    if (report.movedAway) return { write };
    const after: UserPresence = user ? presenceOf(user) : offline;
    if (watcherView(known ? presenceOf(known) : stored) === watcherView(after)) return { write, current: after };
    return { write, current: after, changed: after };
  }

  /** Live platforms of each uid that has any, as far as the entries can still be trusted at `nowMs`. */
  live(uids: readonly string[], nowMs: number): LivePlatforms[] {
    const live: LivePlatforms[] = [];
    for (const uid of new Set(uids)) {
      const user = this.online.get(uid);
      if (user && nowMs < user.plan.trustUntilMs) live.push(presenceOf(user));
    }
    return live;
  }

  /**
   * Takes the users to verify now: every one whose window has opened, so the
   * alarm that runs for the earliest closing window serves them all.
   */
  takeDue(nowMs: number, max: number): string[] {
    return this.schedule.takeOpen(nowMs, max).map(([uid]) => uid);
  }

  /** A verify that got no answer: try again at `atMs`, keeping the entry's trust. */
  retry(uid: string, atMs: number): void {
    const user = this.online.get(uid);
    if (!user) return;
    const plan: VerifyPlan = { ...user.plan, fromMs: atMs, byMs: atMs };
    this.track({ ...user, plan });
    this.unsaved = true;
  }

  /** The incarnation a user is held as, if online. */
  epochOf(uid: string): number | undefined {
    return this.online.get(uid)?.epoch;
  }

  /** Drops a user (deleted): nothing of it stays in memory. */
  forget(uid: string): void {
    this.online.delete(uid);
    this.schedule.delete(uid);
    this.unsaved = true;
  }

  /** When the next verify must run, if anyone is online: the shard's next alarm. */
  nextDue(): number | undefined {
    return this.schedule.next();
  }
}
