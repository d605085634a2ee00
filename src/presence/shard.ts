import { DurableObject } from "cloudflare:workers";
import { readSettings } from "../config";
import { FaultSwitch } from "../lib/faults";
import { getOrInsertComputed } from "../lib/maps";
import { recordMetric } from "../metrics";
import { platformName } from "../platforms";
import { ensureSchema, PRESENCE_SHARD_MIGRATIONS } from "../storage/schema";
import { type PresenceDetails, ShardTables, statusExpiryMs } from "../storage/shard-tables";
import { WatchLists } from "../storage/watch-lists";
import { DeadlineSchedule, type DueWindow } from "./deadlines";
import { isNewer, isUnexpired, type ShardEntry, StampClock, unknownEntry } from "./entries";
import { OnlineRoster, type RosterWrite, type UserPresence } from "./roster";
import { userSession } from "./user-sessions";
import { ALARM_CALLS, OFFLINE_GRACE_MS, type PresenceReport, verifyTiming } from "./verification";

/** A verify that failed (object overloaded, a deploy) is tried again this soon. */
const VERIFY_RETRY_MS = 1_000;

/**
 * Deliveries a publish starts itself; more wait for an alarm set at once.
 * Inline, a change watched by a few costs no alarm and no row.
 */
const INLINE_DELIVERIES = 50;

/** A delivery to a watcher's object that failed is tried this many times more. */
const DELIVERY_RETRIES = 2;

/**
 * A user's state as its watchers get it (docs/protocol.md#presence-subscriptions):
 * the truth, or while the user is invisible, what it would look like had it
 * gone offline then, and nothing else (docs/security.md#who-may-see-whom).
 * A custom status past its expiry is left out even before the expiry is
 * applied, so no reader sees it a moment late.
 */
function toEntry(presence: UserPresence, stamp: number): ShardEntry {
  const { uid: userID, seq } = presence;
  const { invisible, background, customStatus } = presence.details ?? {};
  if (invisible) {
    const lastSeen = invisible.lastSeenMs === undefined ? {} : { lastSeen: invisible.lastSeenMs };
    return { userID, status: "offline", ...lastSeen, seq: invisible.seq, stamp };
  }
  const status = customStatus && isUnexpired(customStatus, Date.now()) ? { customStatus } : {};
  return "platforms" in presence
    ? {
        userID,
        status: "online",
        platforms: presence.platforms.map(platformName),
        ...(background?.length ? { background: background.map(platformName) } : {}),
        ...status,
        seq,
        stamp,
      }
    : {
        userID,
        status: "offline",
        ...(presence.lastSeenMs === undefined ? {} : { lastSeen: presence.lastSeenMs }),
        ...status,
        seq,
        stamp,
      };
}

/** When a shard asks a user's object to clear its custom status: at its expiry, and by then at the latest. */
interface StatusExpiry extends DueWindow {
  expiresAtMs: number;
}

/**
 * A presence shard: the read model that status queries read, the clock that
 * keeps it exact, and the hub that tells watchers of its users' changes.
 * User objects are the source of truth and publish here when their live
 * platforms change; in between, this shard asks each online user's object to
 * verify its sockets once per heartbeat deadline (verification.ts). Its memory
 * is an OnlineRoster, its storage ShardTables; SQLite is written only on a
 * change, so an always-online user costs requests but no rows.
 */
export class PresenceShard extends DurableObject<Env> {
  private readonly table: ShardTables;
  /** Per watching user, the users of this shard it watches (owner: the watcher's uid). */
  private readonly watchers: WatchLists;
  private readonly roster: OnlineRoster;
  /**
   * When each custom status of this shard's users expires. Kept in memory
   * beside the verifies and served by the same alarm; a wake rebuilds it from
   * the tables. No alarm or timer per user.
   */
  private readonly statusExpiries = new DeadlineSchedule<StatusExpiry>();
  private readonly heartbeatTimeoutMs: number;
  /** The alarm as last set, so setAlarm (a billed row) runs only when it has to move earlier. */
  private alarmAtMs?: number;
  /** Changes still to deliver, per watching user: the newest state of each watched user it follows. */
  private readonly toDeliver = new Map<string, Map<string, ShardEntry>>();
  private readonly deliveryFailures = new Map<string, number>();
  /** Delivery calls under way (inline from a publish, or from the alarm). */
  private deliveriesInFlight = 0;
  /** fanout_state says a fan-out is under way: set with the first change watchers must hear of, cleared when all are told. */
  private fanoutMarked = false;
  /** Orders every entry this shard hands out (entries.ts). */
  private readonly stamps = new StampClock();
  /** PRESENCE_VISIBILITY is `granted`: a watcher sees a user only with its grant. */
  private readonly grantsApply: boolean;
  /** The grantees of users whose watchers were looked at since the shard started: fan-outs check them. */
  private readonly grantCache = new Map<string, Set<string>>();
  /** Test-only failure injection (test/presence/containment.test.ts); nothing in the worker arms it. */
  readonly faults = new FaultSwitch<"watch" | "unwatch" | "erase" | "abortBeforeDelivery">();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ensureSchema(ctx.storage, PRESENCE_SHARD_MIGRATIONS);
    this.table = new ShardTables(ctx.storage.sql);
    this.watchers = new WatchLists(ctx.storage);
    this.heartbeatTimeoutMs = readSettings(env).heartbeatTimeoutMs;
    this.grantsApply = readSettings(env).visibility === "granted";
    this.roster = new OnlineRoster(verifyTiming(this.heartbeatTimeoutMs));
    void ctx.blockConcurrencyWhile(() => this.restore());
  }

  /**
   * Rebuilds memory after hibernation, an eviction or a restart. Each user
   * resumes its verifies from its newest saved plan (the snapshot's or its
   * row's), so the wake asks nobody and writes nothing: the read that woke the
   * shard waits for no verify and no setAlarm. A user without a plan is
   * verified within a moment and reads online until then (an eviction leaves
   * sockets alive). If the alarm is long overdue, the runtime itself was down:
   * no socket outlived it, and everyone is verified before reading online again.
   */
  private async restore(): Promise<void> {
    const now = Date.now();
    this.alarmAtMs = (await this.ctx.storage.getAlarm()) ?? undefined;
    const runtimeWasDown = this.alarmAtMs !== undefined && now - this.alarmAtMs > OFFLINE_GRACE_MS;
    const rows = this.table.onlineUsers();
    if (runtimeWasDown) this.roster.restoreAfterOutage(rows, now);
    else this.roster.restore(rows, this.table.loadSnapshot(), now, now + this.heartbeatTimeoutMs);
    for (const row of rows) this.scheduleStatusExpiry(row.uid, row.details);
    for (const { uid, expiresAtMs } of this.table.offlineStatusExpiries()) this.expireAt(uid, expiresAtMs);
    this.resumeFanout();
    await this.armAlarm();
  }

  /**
   * A shard that stopped in the middle of a fan-out (a crash, a reset) lost
   * the deliveries it held in memory. Its watchers are told again: each user
   * whose change was being fanned out sends its state now, and watchers keep
   * only entries newer than what they have, so telling twice is harmless.
   */
  private resumeFanout(): void {
    const since = this.table.fanoutBusySince();
    if (since === undefined) return;
    this.fanoutMarked = true;
    const uids = this.table.fannedOutSince(since);
    const stamp = this.stamps.next();
    for (const presence of this.read(uids)) {
      const entry = toEntry(presence, stamp);
      for (const watcher of this.visibleWatchersOf(presence.uid)) this.queue(watcher, [entry]);
    }
    this.endFanoutIfDone();
  }

  // ---- from user objects -----------------------------------------------------

  /** A user's object reports a change (or a connect, which may bring an earlier deadline). */
  async publish(uid: string, report: PresenceReport): Promise<void> {
    this.apply(uid, report, "publish");
    // The publisher (a handshake, a close) does not wait for the fan-out: the object stays up until it is done.
    this.ctx.waitUntil(this.deliver(INLINE_DELIVERIES).then(() => this.armAlarm()));
    await this.armAlarm();
  }

  /**
   * A user's object subscribes its sockets to some of this shard's users:
   * they are registered (one row for the watcher), and their state now is the
   * snapshot it sends. Later changes reach it through `deliverPresence`.
   */
  watch(watcherUid: string, uids: string[]): ShardEntry[] {
    this.faults.trip("watch");
    this.watchers.add(watcherUid, uids);
    // Who may not see a user is answered without reading anything of that user: a hidden user and
    // one that never existed take the same path, and nothing in the answer or its timing tells them apart.
    const visible = this.visibleTo(watcherUid, uids);
    const stamp = this.stamps.next();
    const known = new Map(this.read(visible).map((presence) => [presence.uid, toEntry(presence, stamp)]));
    // A user never online, unknown, or hidden is offline, with no lastSeen, at seq 0.
    return uids.map((uid) => known.get(uid) ?? unknownEntry(uid, stamp));
  }

  /**
   * Which of `uids` the watcher may see (docs/security.md#who-may-see-whom).
   * In `granted` mode, one statement for the whole frame, whatever is in
   * memory: an id with grants to others, one with none and one that never
   * existed cost the same lookup, so the time of a snapshot says nothing of
   * which ids exist. A user always sees itself.
   */
  private visibleTo(watcher: string, uids: string[]): string[] {
    if (!this.grantsApply) return uids;
    const granted = this.table.grantersAmong(watcher, uids);
    return uids.filter((uid) => uid === watcher || granted.has(uid));
  }

  /** A user's grantees, read once and then kept in step with every change: a fan-out checks many. */
  private granteesOf(uid: string): Set<string> {
    let grantees = this.grantCache.get(uid);
    if (!grantees) {
      grantees = new Set(this.table.grantsOf(uid));
      this.grantCache.set(uid, grantees);
    }
    return grantees;
  }

  /**
   * set_presence_grants (docs/api.md#post-managerset_presence_grants): who may
   * see `uid`. Refused whole (nothing changes) past `max` grants. Watchers
   * already subscribed hear of it: a new grant sends them the user's real
   * entry, a removal the entry of a user they know nothing of.
   */
  async setGrants(
    uid: string,
    add: string[],
    remove: string[],
    max: number,
  ): Promise<{ ok: true } | { ok: false; count: number }> {
    const grantees = this.granteesOf(uid);
    const added = [...new Set(add)].filter((grantee) => !grantees.has(grantee));
    const removed = [...new Set(remove)].filter((grantee) => grantees.has(grantee));
    const count = grantees.size + added.length - removed.length;
    if (count > max) return { ok: false, count };
    this.ctx.storage.transactionSync(() => this.table.changeGrants(uid, added, removed));
    for (const grantee of added) grantees.add(grantee);
    for (const grantee of removed) grantees.delete(grantee);
    if (this.grantsApply) {
      const watching = new Set(this.watchers.ownersOf(uid));
      const stamp = this.stamps.next();
      const [presence] = this.read([uid]);
      const real = presence ? toEntry(presence, stamp) : unknownEntry(uid, stamp);
      for (const grantee of added) if (watching.has(grantee) && grantee !== uid) this.queue(grantee, [real]);
      for (const grantee of removed)
        if (watching.has(grantee) && grantee !== uid) this.queue(grantee, [unknownEntry(uid, stamp)]);
      if (this.toDeliver.size > 0) {
        this.markFanout();
        this.ctx.waitUntil(this.deliver(INLINE_DELIVERIES).then(() => this.armAlarm()));
        await this.armAlarm();
      }
    }
    return { ok: true };
  }

  /** get_presence_grants: a page of who may see `uid`, in code-point order after `after`. */
  grants(uid: string, after: string | undefined, limit: number): string[] {
    return this.table.grantPage(uid, after, limit);
  }

  /** The watcher's sockets no longer watch these users. */
  unwatch(watcherUid: string, uids: string[]): void {
    this.faults.trip("unwatch");
    this.watchers.remove(watcherUid, uids);
  }

  /**
   * Deleted users (docs/api.md#post-managerdelete_user): everything this shard
   * stored of each (online row, lastSeen, memory) goes, and its watchers get
   * the entry of a user nobody knows, at seq 0: a reset. State of a newer
   * incarnation (the uid registered again since) is left alone, so a late or
   * repeated call is harmless.
   */
  async erase(deletions: { uid: string; epoch: number }[]): Promise<void> {
    this.faults.trip("erase");
    // Grants go whichever way they point; a user registered again starts with none.
    this.table.eraseGrants(deletions.map(({ uid }) => uid));
    for (const { uid } of deletions) this.grantCache.delete(uid);
    for (const cached of this.grantCache.values()) for (const { uid } of deletions) cached.delete(uid);
    for (const { uid, epoch } of deletions) {
      const held = this.roster.epochOf(uid) ?? this.table.offlineState(uid)?.epoch;
      if (held === undefined || held >= epoch) continue;
      this.roster.forget(uid);
      this.statusExpiries.delete(uid);
      this.table.erase(uid);
      const watchers = this.watchers.ownersOf(uid);
      if (watchers.length > 0) this.markFanout();
      const reset = unknownEntry(uid, this.stamps.next());
      for (const watcher of watchers) this.queue(watcher, [reset]);
    }
    this.ctx.waitUntil(this.deliver(INLINE_DELIVERIES).then(() => this.armAlarm()));
    await this.armAlarm();
  }

  // ---- from the worker -------------------------------------------------------

  /**
   * What is known of each uid: its live platforms, or when it was last seen.
   * Uids never online (or unknown) are left out. Online users come from
   * memory; only the others cost a read of the lastSeen table.
   */
  read(uids: string[]): UserPresence[] {
    const live = this.roster.live(uids, Date.now());
    const online = new Set(live.map((entry) => entry.uid));
    return [...live, ...this.table.offlineUsers(uids.filter((uid) => !online.has(uid)))];
  }

  // ---- the alarm: verifies, then deliveries ------------------------------------

  override async alarm(): Promise<void> {
    const started = Date.now();
    // How late the runtime ran this alarm: the verify lag an operator watches (docs/operations.md).
    const lagMs = this.alarmAtMs === undefined ? 0 : Math.max(0, started - this.alarmAtMs);
    this.alarmAtMs = undefined;
    const due = this.roster.takeDue(started, ALARM_CALLS.verifies);
    // A custom status that expires is one more verify of its user: one call does both when both are due.
    const expiring = new Map(
      this.statusExpiries
        .takeOpen(started, ALARM_CALLS.verifies - due.length)
        .map(([uid, { expiresAtMs }]) => [uid, expiresAtMs]),
    );
    const asked = [...new Set([...due, ...expiring.keys()])];
    const answered = await Promise.all(asked.map((uid) => this.verify(uid, expiring.get(uid))));
    await this.deliver(ALARM_CALLS.total - asked.length);
    await this.armAlarm();
    this.saveIfGoingIdle();
    if (asked.length > 0) {
      // One point per alarm, not per verify: a metric must not cost more than what it measures.
      const failed = answered.filter((ok) => !ok).length;
      recordMetric(this.env, {
        kind: "verify_batch",
        outcome: failed ? "some_failed" : "ok",
        details: [this.ctx.id.name ?? ""],
        latencyMs: Date.now() - started,
        values: [asked.length, failed, lagMs, this.roster.size],
      });
    }
  }

  /**
   * Asks a user's object about its sockets, and to clear its custom status if
   * `statusDueMs` (its expiry) has come; false when it did not answer.
   */
  private async verify(uid: string, statusDueMs?: number): Promise<boolean> {
    try {
      this.apply(uid, await userSession(this.env, uid).verify(this.ctx.id.name ?? "", statusDueMs), "verify");
      return true;
    } catch (error) {
      // The entry keeps its trust window; if no answer comes within it, the user reads offline.
      const retryAtMs = Date.now() + VERIFY_RETRY_MS;
      this.roster.retry(uid, retryAtMs);
      if (statusDueMs !== undefined && !this.statusExpiries.windowOf(uid))
        this.statusExpiries.set(uid, { fromMs: retryAtMs, byMs: retryAtMs, expiresAtMs: statusDueMs });
      console.error(JSON.stringify({ level: "error", event: "presence_verify_failed", error: String(error) }));
      return false;
    }
  }

  /**
   * Keeps the user's custom status expiry, if it has one, in the schedule;
   * forgets it otherwise. An invisible user's status is shown to nobody but
   * expires all the same: the AppServer hears of it.
   */
  private scheduleStatusExpiry(uid: string, details: PresenceDetails | undefined): void {
    const expiresAtMs = statusExpiryMs(details);
    if (expiresAtMs === undefined) this.statusExpiries.delete(uid);
    else this.expireAt(uid, expiresAtMs);
  }

  private expireAt(uid: string, expiresAtMs: number): void {
    this.statusExpiries.set(uid, { fromMs: expiresAtMs, byMs: expiresAtMs, expiresAtMs });
  }

  /**
   * Sends each watching user's object the changes it waits for, one call per
   * watcher whatever the number of changes, at most `budget` calls. A watcher
   * whose sockets no longer watch someone says so, and is forgotten for them.
   */
  private async deliver(budget: number): Promise<void> {
    const batch = [...this.toDeliver].slice(0, Math.max(0, budget));
    if (batch.length === 0) return;
    // A crash after the change has been stored (its publish answered), before anyone is told.
    if (this.faults.tripped("abortBeforeDelivery")) {
      this.toDeliver.clear();
      await new Promise((resolve) => setTimeout(resolve, 50));
      return this.ctx.abort("injected fault: abortBeforeDelivery");
    }
    for (const [watcher] of batch) this.toDeliver.delete(watcher);
    this.deliveriesInFlight += batch.length;
    await Promise.all(
      batch.map(async ([watcher, entries]) => {
        try {
          const stale = await userSession(this.env, watcher).deliverPresence([...entries.values()]);
          if (stale.length) this.watchers.remove(watcher, stale);
          this.deliveryFailures.delete(watcher);
        } catch (error) {
          const failures = (this.deliveryFailures.get(watcher) ?? 0) + 1;
          console.error(
            JSON.stringify({ level: "error", event: "presence_delivery_failed", failures, error: String(error) }),
          );
          if (failures > DELIVERY_RETRIES) return void this.deliveryFailures.delete(watcher);
          this.deliveryFailures.set(watcher, failures);
          this.queue(watcher, [...entries.values()]);
        } finally {
          this.deliveriesInFlight--;
        }
      }),
    );
    this.endFanoutIfDone();
  }

  /** Every watcher has been told (or given up on): fanout_state is cleared, one row per busy spell. */
  private endFanoutIfDone(): void {
    if (!this.fanoutMarked || this.toDeliver.size > 0 || this.deliveriesInFlight > 0) return;
    this.table.setFanoutBusySince(undefined);
    this.fanoutMarked = false;
  }

  /** Adds entries for a watcher, keeping the newest per watched user. */
  private queue(watcher: string, entries: readonly ShardEntry[]): void {
    const pending = getOrInsertComputed(this.toDeliver, watcher, () => new Map<string, ShardEntry>());
    for (const entry of entries) if (isNewer(entry, pending.get(entry.userID))) pending.set(entry.userID, entry);
  }

  private apply(uid: string, report: PresenceReport, origin: "publish" | "verify"): void {
    const stored = this.roster.has(uid) ? undefined : this.table.offlineState(uid);
    const { write, current, changed } = this.roster.apply(uid, report, stored, origin);
    if (current) this.scheduleStatusExpiry(uid, current.details);
    else if (report.movedAway) this.statusExpiries.delete(uid);
    const watchers = changed ? this.visibleWatchersOf(uid) : [];
    // Written in the same step as the change it marks, so a restart finds both or neither.
    const fanoutAtMs = watchers.length > 0 ? this.markFanout() : undefined;
    this.write(uid, write, fanoutAtMs);
    if (!changed) return;
    const entry = toEntry(changed, this.stamps.next());
    for (const watcher of watchers) this.queue(watcher, [entry]);
  }

  /** The watchers of `uid` that may see it: all of them, unless grants apply. Hidden ones hear nothing. */
  private visibleWatchersOf(uid: string): string[] {
    const watchers = this.watchers.ownersOf(uid);
    if (!this.grantsApply || watchers.length === 0) return watchers;
    const grantees = this.granteesOf(uid);
    return watchers.filter((watcher) => watcher === uid || grantees.has(watcher));
  }

  /** Notes that watchers are being told of a change: one row when a fan-out starts after none. Returns the mark. */
  private markFanout(): number {
    const now = Date.now();
    if (!this.fanoutMarked) {
      this.table.setFanoutBusySince(now);
      this.fanoutMarked = true;
    }
    return now;
  }

  private write(uid: string, change: RosterWrite | undefined, fanoutAtMs: number | undefined): void {
    if (change?.kind === "online") this.table.markOnline(change.user, fanoutAtMs);
    else if (change?.kind === "offline") this.table.markOffline(change.user, fanoutAtMs);
    else if (change?.kind === "forget") this.table.forget(uid);
  }

  /**
   * After an alarm, saves the schedule when the shard is about to hibernate
   * (see OnlineRoster.snapshotIfGoingIdle). Not after a publish: a burst of
   * connects would rewrite it for each; a user published since the snapshot
   * is verified at once after a wake instead.
   */
  private saveIfGoingIdle(): void {
    const snapshot = this.roster.snapshotIfGoingIdle(Date.now());
    if (snapshot) this.table.saveSnapshot(snapshot);
  }

  /** Moves the alarm earlier when a verify or an expiry is due sooner, or at once when changes wait to be delivered. */
  private async armAlarm(): Promise<void> {
    const deadlines = [this.roster.nextDue(), this.statusExpiries.next()].filter((at) => at !== undefined);
    const next = this.toDeliver.size > 0 ? Date.now() : deadlines.length ? Math.min(...deadlines) : undefined;
    if (next === undefined || (this.alarmAtMs !== undefined && this.alarmAtMs <= next)) return;
    this.alarmAtMs = next;
    await this.ctx.storage.setAlarm(next);
  }
}
