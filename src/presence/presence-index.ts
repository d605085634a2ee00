import { DurableObject } from "cloudflare:workers";
import { readSettings } from "../config";
import { PresenceTable } from "../storage/presence-table";
import { ensureSchema, PRESENCE_INDEX_MIGRATIONS } from "../storage/schema";
import { PresenceRoster, type RosterWrite, type UserPresence } from "./roster";
import { userSession } from "./user-sessions";
import {
  MAX_VERIFIES_PER_ALARM,
  OFFLINE_GRACE_MS,
  verifyTiming,
  type PresenceReport,
} from "./verification";

export type { UserPresence };


/** A verify that failed (object overloaded, a deploy) is tried again this soon. */
const VERIFY_RETRY_MS = 1_000;

/**
 * One shard of presence: the read model that status queries read, and the
 * clock that keeps it exact. User objects are the source of truth and publish
 * here when their live platforms change; in between, this shard asks each
 * online user's object to verify its sockets once per heartbeat deadline
 * (verification.ts). Its memory is a PresenceRoster; SQLite is written only
 * on a change, so an always-online user costs requests but no rows.
 */
export class PresenceIndex extends DurableObject<Env> {
  private readonly table: PresenceTable;
  private readonly roster: PresenceRoster;
  private readonly heartbeatTimeoutMs: number;
  /** The alarm as last set, so setAlarm (a billed row) runs only when it has to move earlier. */
  private alarmAtMs?: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureSchema(ctx.storage, PRESENCE_INDEX_MIGRATIONS);
    this.table = new PresenceTable(ctx.storage.sql);
    this.heartbeatTimeoutMs = readSettings(env).heartbeatTimeoutMs;
    this.roster = new PresenceRoster(verifyTiming(this.heartbeatTimeoutMs));
    void ctx.blockConcurrencyWhile(() => this.restore());
  }

  /**
   * Rebuilds memory after hibernation or a restart. Users in the schedule's
   * snapshot resume their verifies where they were; any other is verified at
   * once and reads online until then (an eviction leaves sockets alive),
   * unless the alarm is long overdue: then the runtime itself was down, no
   * socket outlived it, and everyone is verified before reading online again.
   */
  private async restore(): Promise<void> {
    const now = Date.now();
    this.alarmAtMs = (await this.ctx.storage.getAlarm()) ?? undefined;
    const runtimeWasDown = this.alarmAtMs !== undefined && now - this.alarmAtMs > OFFLINE_GRACE_MS;
    const snapshot = runtimeWasDown ? [] : this.table.loadSnapshot();
    this.roster.restore(this.table.onlineUsers(), snapshot, now, runtimeWasDown ? now : now + this.heartbeatTimeoutMs);
    await this.armAlarm();
  }

  /** A user's object reports a change (or a connect, which may bring an earlier deadline). */
  async publish(uid: string, report: PresenceReport): Promise<void> {
    this.apply(uid, report, "publish");
    await this.armAlarm();
  }

  /**
   * What is known of each uid: its live platforms, or when it was last seen.
   * Uids never online (or unknown) are left out. Online users come from
   * memory; only the others cost a read of the lastSeen table.
   */
  read(uids: string[]): UserPresence[] {
    const live = this.roster.live(uids, Date.now());
    const online = new Set(live.map((entry) => entry.uid));
    return [...live, ...this.table.lastSeen(uids.filter((uid) => !online.has(uid)))];
  }

  override async alarm(): Promise<void> {
    this.alarmAtMs = undefined;
    const due = this.roster.takeDue(Date.now(), MAX_VERIFIES_PER_ALARM);
    await Promise.all(due.map((uid) => this.verify(uid)));
    await this.armAlarm();
    this.saveIfGoingIdle();
  }

  /**
   * After an alarm, saves the schedule when the shard is about to hibernate
   * (see PresenceRoster.snapshotIfGoingIdle). Not after a publish: a burst of
   * connects would rewrite it for each; a user published since the snapshot
   * is verified at once after a wake instead.
   */
  private saveIfGoingIdle(): void {
    const snapshot = this.roster.snapshotIfGoingIdle(Date.now());
    if (snapshot) this.table.saveSnapshot(snapshot);
  }

  private async verify(uid: string): Promise<void> {
    try {
      this.apply(uid, await userSession(this.env, uid).verify(this.ctx.id.name ?? ""), "verify");
    } catch (error) {
      // The entry keeps its trust window; if no answer comes within it, the user reads offline.
      this.roster.retry(uid, Date.now() + VERIFY_RETRY_MS);
      console.error(JSON.stringify({ level: "error", event: "presence_verify_failed", error: String(error) }));
    }
  }

  private apply(uid: string, report: PresenceReport, origin: "publish" | "verify"): void {
    this.write(uid, this.roster.apply(uid, report, () => this.table.offlineSeq(uid), origin));
  }

  private write(uid: string, change: RosterWrite | undefined): void {
    if (change?.kind === "online") this.table.markOnline(uid, change.seq, change.platforms, change.publishedAtMs);
    else if (change?.kind === "offline") this.table.markOffline(uid, change.seq, change.lastSeenMs);
    else if (change?.kind === "forget") this.table.forget(uid);
  }

  /** Moves the alarm to the earliest due verify when that is sooner than the alarm already set. */
  private async armAlarm(): Promise<void> {
    const next = this.roster.nextDue();
    if (next === undefined || (this.alarmAtMs !== undefined && this.alarmAtMs <= next)) return;
    this.alarmAtMs = next;
    await this.ctx.storage.setAlarm(next);
  }
}
