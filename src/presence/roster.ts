import { type PlatformId, platformMask, platformsOfMask } from "../platforms";
import type { OnlineRow, SnapshotEntry } from "../storage/presence-table";
import { type PresenceReport, planVerification, type VerifyPlan, type VerifyTiming } from "./verification";
import { VerifySchedule, type VerifyWindow } from "./verify-schedule";

/** Catch-up verifies after a wake are at most this far apart (and all within one verify window). */
const RESTORE_STEP_MS = 5;

export interface LivePlatforms {
  uid: string;
  seq: number;
  platforms: PlatformId[];
}

/** What a shard knows of a user: online with its platforms, or offline (since lastSeen, if it has been online). */
export type UserPresence = LivePlatforms | { uid: string; seq: number; lastSeenMs?: number };

/** What applying a report means: the table write it needs, and the user's new state if watchers must hear of it. */
export interface AppliedReport {
  write?: RosterWrite;
  changed?: UserPresence;
}

interface OnlineEntry {
  seq: number;
  /** When the object computed the report this entry comes from: orders two answers with one seq. */
  reportedAtMs: number;
  /** platformMask of the live platforms. */
  platforms: number;
  trustUntilMs: number;
}

/** What a report means for the shard's tables; `undefined` when they stay as they are. */
export type RosterWrite =
  | { kind: "online"; seq: number; platforms: number; publishedAtMs: number; plan: VerifyPlan }
  | { kind: "offline"; seq: number; lastSeenMs: number | undefined }
  | { kind: "forget" };

/**
 * A presence shard's memory: who is online, until when each entry may be
 * trusted, and when each user's object is next to be verified. Pure and
 * clock-free (every call takes `nowMs`), so the same code runs in the
 * Durable Object and in a simulation of 100,000 users.
 */
export class PresenceRoster {
  private readonly online = new Map<string, OnlineEntry>();
  private readonly schedule = new VerifySchedule();
  /** Memory changed since the last snapshot was taken. */
  private unsaved = false;

  constructor(private readonly timing: VerifyTiming) {}

  get size(): number {
    return this.online.size;
  }

  /**
   * After a wake: the users the tables say are online. Each resumes where its
   * newest saved plan left it: the last snapshot's entry when that is newer
   * than the user's last publish, else the plan its row got with that publish.
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
      const resumed = newestPlan(row, saved.get(row.uid));
      if (!resumed || resumed.byMs < nowMs) catchUp.push(row);
      else
        this.track(
          row.uid,
          {
            seq: row.seq,
            reportedAtMs: resumed.reportedAtMs,
            platforms: row.platforms,
            trustUntilMs: resumed.trustUntilMs,
          },
          { fromMs: resumed.fromMs, byMs: resumed.byMs },
        );
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
      this.track(
        row.uid,
        { seq: row.seq, reportedAtMs: 0, platforms: row.platforms, trustUntilMs },
        { fromMs: at, byMs: at },
      );
    });
  }

  /** Holds a user as online, and when to verify it next. */
  private track(uid: string, entry: OnlineEntry, window: VerifyWindow): void {
    this.online.set(uid, entry);
    this.schedule.set(uid, window);
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

  /** Every online user's schedule and trust, for restore(). */
  snapshot(): SnapshotEntry[] {
    const entries: SnapshotEntry[] = [];
    for (const [uid, entry] of this.online) {
      const window = this.schedule.window(uid);
      // A user being verified right now has no window; the next restore verifies it at once.
      if (window)
        entries.push({
          uid,
          seq: entry.seq,
          reportedAtMs: entry.reportedAtMs,
          trustUntilMs: entry.trustUntilMs,
          ...window,
        });
    }
    return entries;
  }

  /**
   * Applies a report unless a newer one is already here. `storedSeq` is asked
   * only for users not in memory (offline ones). Returns the table write it
   * needs: a change always; a publish from the user's object also refreshes
   * the online row (a new socket may have brought an earlier deadline, which
   * a snapshot taken before must not override); a verify's answer that changes
   * nothing needs none, so steady state writes nothing.
   */
  apply(
    uid: string,
    report: PresenceReport,
    storedSeq: () => number | undefined,
    origin: "publish" | "verify",
  ): AppliedReport {
    const known = this.online.get(uid);
    const knownSeq = known?.seq ?? storedSeq() ?? 0;
    if (report.seq < knownSeq || (report.seq === knownSeq && known && report.reportedAtMs < known.reportedAtMs)) {
      return {};
    }
    this.unsaved = true;
    const platforms = platformMask(report.platforms);
    const plan = planVerification(report, this.timing);
    let write: RosterWrite | undefined;
    if (report.movedAway) write = { kind: "forget" };
    else if (report.seq > knownSeq || (origin === "publish" && plan)) {
      write = plan
        ? { kind: "online", seq: report.seq, platforms, publishedAtMs: report.reportedAtMs, plan }
        : { kind: "offline", seq: report.seq, lastSeenMs: report.lastSeenMs };
    }

    if (plan) {
      this.track(
        uid,
        { seq: report.seq, reportedAtMs: report.reportedAtMs, platforms, trustUntilMs: plan.trustUntilMs },
        { fromMs: plan.verifyFromMs, byMs: plan.verifyByMs },
      );
    } else {
      this.online.delete(uid);
      this.schedule.delete(uid);
    }
    // What watchers see: the user's platforms, or that it went offline. A seq alone is no change.
    const before = known?.platforms ?? 0;
    const after = report.movedAway ? before : platforms;
    if (after === before) return { write };
    const changed: UserPresence = after
      ? { uid, seq: report.seq, platforms: platformsOfMask(after) }
      : { uid, seq: report.seq, ...(report.lastSeenMs === undefined ? {} : { lastSeenMs: report.lastSeenMs }) };
    return { write, changed };
  }

  /** Live platforms of each uid that has any, as far as the entries can still be trusted at `nowMs`. */
  live(uids: readonly string[], nowMs: number): LivePlatforms[] {
    const live: LivePlatforms[] = [];
    for (const uid of new Set(uids)) {
      const entry = this.online.get(uid);
      if (entry && nowMs < entry.trustUntilMs)
        live.push({ uid, seq: entry.seq, platforms: platformsOfMask(entry.platforms) });
    }
    return live;
  }

  /**
   * Takes the users to verify now: every one whose window has opened, so the
   * alarm that runs for the earliest closing window serves them all.
   */
  takeDue(nowMs: number, max: number): string[] {
    return this.schedule.takeOpen(nowMs, max);
  }

  /** A verify that got no answer: try again at `atMs`, keeping the entry's trust window. */
  retry(uid: string, atMs: number): void {
    if (!this.online.has(uid)) return;
    this.schedule.set(uid, { fromMs: atMs, byMs: atMs });
    this.unsaved = true;
  }

  /** When the next verify must run, if anyone is online: the shard's next alarm. */
  nextDue(): number | undefined {
    return this.schedule.next();
  }
}

/**
 * The newer of a user's two saved plans: the snapshot's entry (taken after a
 * verify, which writes no row) unless the user published since, which wrote
 * its row with a plan of its own.
 */
function newestPlan(row: OnlineRow, entry: SnapshotEntry | undefined): Omit<SnapshotEntry, "uid" | "seq"> | undefined {
  if (entry && entry.seq === row.seq && entry.reportedAtMs >= row.publishedAtMs) return entry;
  if (!row.plan) return undefined;
  const { trustUntilMs, verifyFromMs, verifyByMs } = row.plan;
  return { reportedAtMs: row.publishedAtMs, trustUntilMs, fromMs: verifyFromMs, byMs: verifyByMs };
}
