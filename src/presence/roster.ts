import { platformMask, platformsOfMask, type PlatformId } from "../platforms";
import { planVerification, type PresenceReport, type VerifyTiming } from "./verification";
import { VerifySchedule } from "./verify-schedule";

export interface LivePlatforms {
  uid: string;
  platforms: PlatformId[];
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
  | { kind: "online"; seq: number; platforms: number }
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

  constructor(private readonly timing: VerifyTiming) {}

  get size(): number {
    return this.online.size;
  }

  /** After a restart: users the tables say are online, to be verified at once. */
  restore(rows: readonly { uid: string; seq: number; platforms: number }[], nowMs: number, trustUntilMs: number): void {
    for (const row of rows) {
      this.online.set(row.uid, { seq: row.seq, reportedAtMs: 0, platforms: row.platforms, trustUntilMs });
      this.schedule.set(row.uid, nowMs);
    }
  }

  /**
   * Applies a report unless a newer one is already here. `storedSeq` is asked
   * only for users not in memory (offline ones). Returns the table write a
   * change needs; an unchanged report needs none.
   */
  apply(uid: string, report: PresenceReport, storedSeq: () => number | undefined): RosterWrite | undefined {
    const known = this.online.get(uid);
    const knownSeq = known?.seq ?? storedSeq() ?? 0;
    if (report.seq < knownSeq || (report.seq === knownSeq && known && report.reportedAtMs < known.reportedAtMs)) {
      return undefined;
    }
    const platforms = platformMask(report.platforms);
    let write: RosterWrite | undefined;
    if (report.movedAway) write = { kind: "forget" };
    else if (report.seq > knownSeq) {
      write = platforms
        ? { kind: "online", seq: report.seq, platforms }
        : { kind: "offline", seq: report.seq, lastSeenMs: report.lastSeenMs };
    }

    const plan = planVerification(report, this.timing);
    if (plan) {
      this.online.set(uid, { seq: report.seq, reportedAtMs: report.reportedAtMs, platforms, trustUntilMs: plan.trustUntilMs });
      this.schedule.set(uid, plan.verifyAtMs);
    } else {
      this.online.delete(uid);
      this.schedule.delete(uid);
    }
    return write;
  }

  /** Live platforms of each uid that has any, as far as the entries can still be trusted at `nowMs`. */
  live(uids: readonly string[], nowMs: number): LivePlatforms[] {
    const live: LivePlatforms[] = [];
    for (const uid of new Set(uids)) {
      const entry = this.online.get(uid);
      if (entry && nowMs < entry.trustUntilMs) live.push({ uid, platforms: platformsOfMask(entry.platforms) });
    }
    return live;
  }

  /**
   * Takes the users to verify now: those due by `nowMs`, and those due within
   * `coalesceMs` after it, so one alarm serves many and alarms stay apart.
   */
  takeDue(nowMs: number, max: number): string[] {
    return this.schedule.takeDue(nowMs + this.timing.coalesceMs, max);
  }

  /** A verify that got no answer: try again at `atMs`, keeping the entry's trust window. */
  retry(uid: string, atMs: number): void {
    if (this.online.has(uid)) this.schedule.set(uid, atMs);
  }

  /** When the next verify is due, if anyone is online. */
  nextDue(): number | undefined {
    return this.schedule.next();
  }
}
