import { DurableObject } from "cloudflare:workers";
import { readSettings } from "../config";
import type { Env } from "../env";
import { platformMask, platformsOfMask, type PlatformId } from "../platforms";
import { PresenceTable } from "../storage/presence-table";
import { userSession } from "./user-sessions";
import { OFFLINE_GRACE_MS, planVerification, verifyTiming, type PresenceReport, type VerifyTiming } from "./verification";
import { VerifySchedule } from "./verify-schedule";

export interface LivePlatforms {
  uid: string;
  platforms: PlatformId[];
}

interface OnlineEntry {
  seq: number;
  /** When the object computed the report this entry comes from: orders two answers with one seq. */
  reportedAtMs: number;
  platforms: number;
  trustUntilMs: number;
}

/**
 * Verifies per alarm, at most. Each is a subrequest; Workers allow 1,000 to
 * Cloudflare services per invocation on the Free plan (10,000 on Paid). More
 * due users are taken by the next alarm, set at once.
 */
const MAX_VERIFIES_PER_ALARM = 500;

/** A verify that failed (object overloaded, a deploy) is tried again this soon. */
const VERIFY_RETRY_MS = 1_000;

/**
 * One shard of presence: the read model that status queries read, and the
 * clock that keeps it exact. User objects are the source of truth and publish
 * here when their live platforms change; in between, this shard asks each
 * online user's object to verify its sockets once per heartbeat deadline
 * (see verification.ts). It keeps the schedule in memory and writes SQLite
 * only on a change, so an always-online user costs requests but no rows.
 */
export class PresenceIndex extends DurableObject<Env> {
  private readonly table: PresenceTable;
  private readonly timing: VerifyTiming;
  private readonly heartbeatTimeoutMs: number;
  private readonly online = new Map<string, OnlineEntry>();
  private readonly schedule = new VerifySchedule();
  /** The alarm as last set, so setAlarm (a billed row) runs only when it has to move earlier. */
  private alarmAtMs?: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.table = new PresenceTable(ctx.storage.sql);
    this.heartbeatTimeoutMs = readSettings(env).heartbeatTimeoutMs;
    this.timing = verifyTiming(this.heartbeatTimeoutMs);
    void ctx.blockConcurrencyWhile(() => this.restore());
  }

  /**
   * Rebuilds memory after a restart or an eviction. How long ago each user was
   * verified is unknown, so everyone is verified at once. Until then a user
   * reads online (an eviction leaves sockets alive), unless the alarm is long
   * overdue: then the runtime itself was down, and no socket outlived it.
   */
  private async restore(): Promise<void> {
    const now = Date.now();
    this.alarmAtMs = (await this.ctx.storage.getAlarm()) ?? undefined;
    const runtimeWasDown = this.alarmAtMs !== undefined && now - this.alarmAtMs > OFFLINE_GRACE_MS;
    const trustUntilMs = runtimeWasDown ? now : now + this.heartbeatTimeoutMs;
    for (const row of this.table.onlineUsers()) {
      this.online.set(row.uid, { seq: row.seq, reportedAtMs: 0, platforms: row.platforms, trustUntilMs });
      this.schedule.set(row.uid, now);
    }
    await this.armAlarm();
  }

  // ---- from user objects -----------------------------------------------------

  /** A user's object reports a change (or a connect, which may bring an earlier deadline). */
  async publish(uid: string, report: PresenceReport): Promise<void> {
    this.apply(uid, report);
    await this.armAlarm();
  }

  // ---- from the worker -------------------------------------------------------

  /** Live platforms of each uid that has any; uids with none are left out. */
  livePlatforms(uids: string[]): LivePlatforms[] {
    const now = Date.now();
    const live: LivePlatforms[] = [];
    for (const uid of new Set(uids)) {
      const entry = this.online.get(uid);
      if (entry && now < entry.trustUntilMs) live.push({ uid, platforms: platformsOfMask(entry.platforms) });
    }
    return live;
  }

  // ---- the verify loop ---------------------------------------------------------

  override async alarm(): Promise<void> {
    this.alarmAtMs = undefined;
    // Users due a little later are taken now too: one alarm serves many, and the shard's own
    // alarms (a request and a row each) stay at least `coalesceMs` apart.
    const due = this.schedule.takeDue(Date.now() + this.timing.coalesceMs, MAX_VERIFIES_PER_ALARM);
    await Promise.all(due.map((uid) => this.verify(uid)));
    await this.armAlarm();
  }

  private async verify(uid: string): Promise<void> {
    try {
      this.apply(uid, await userSession(this.env, uid).verify(this.ctx.id.name ?? ""));
    } catch (error) {
      // The entry keeps its trust window; if no answer comes within it, the user reads offline.
      if (this.online.has(uid)) this.schedule.set(uid, Date.now() + VERIFY_RETRY_MS);
      console.error(JSON.stringify({ level: "error", event: "presence_verify_failed", error: String(error) }));
    }
  }

  /** Applies a report unless a newer one is already here; writes SQLite only when the platforms changed. */
  private apply(uid: string, report: PresenceReport): void {
    const known = this.online.get(uid);
    const knownSeq = known?.seq ?? this.table.offlineSeq(uid) ?? 0;
    if (report.seq < knownSeq || (report.seq === knownSeq && known && report.reportedAtMs < known.reportedAtMs)) return;

    const platforms = platformMask(report.platforms);
    if (report.movedAway) {
      this.table.forget(uid);
    } else if (report.seq > knownSeq) {
      if (platforms) this.table.markOnline(uid, report.seq, platforms);
      else this.table.markOffline(uid, report.seq, report.lastSeenMs);
    }
    const plan = planVerification(report, this.timing);
    if (!plan) {
      this.online.delete(uid);
      this.schedule.delete(uid);
      return;
    }
    this.online.set(uid, { seq: report.seq, reportedAtMs: report.reportedAtMs, platforms, trustUntilMs: plan.trustUntilMs });
    this.schedule.set(uid, plan.verifyAtMs);
  }

  /** Moves the alarm to the earliest due verify when that is sooner than the alarm already set. */
  private async armAlarm(): Promise<void> {
    const next = this.schedule.next();
    if (next === undefined || (this.alarmAtMs !== undefined && this.alarmAtMs <= next)) return;
    this.alarmAtMs = next;
    await this.ctx.storage.setAlarm(next);
  }
}
