import { DurableObject } from "cloudflare:workers";
import {
  bannedCloseReason,
  CloseCode,
  type CustomStatus,
  ErrCode,
  type ErrorFrame,
  PING,
  PLATFORM_NAMES,
  type PlatformId,
  type PlatformName,
  PONG,
  SET_FAILED,
  type SetFrame,
} from "../../protocol";
import { type LoginPolicy, readSettings, type Settings } from "../config";
import { envelope, envelopeResponse } from "../errors";
import { FaultSwitch } from "../lib/faults";
import { clipForLog } from "../log-fields";
import { recordMetric } from "../metrics";
import { platformsOfMask } from "../platforms";
import { LIMITS } from "../schemas";
import { AccountStore } from "../storage/account";
import { RevocationStore } from "../storage/revocations";
import { ensureSchema, USER_SESSION_MIGRATIONS } from "../storage/schema";
import { type PresenceSettings, type StoredPresence, UserPresenceStore } from "../storage/user-presence";
import { WatchLists } from "../storage/watch-lists";
import type { ClientTokenClaims } from "../tokens";
import { applyChange, type Ending, expiry, flushHeld, nextHeldDue } from "./changes";
import type { ShardEntry } from "./entries";
import { closeFloodingSocket, countFrame } from "./frame-budget";
import { parseClientFrame } from "./frames";
import { Outbox } from "./outbox";
import { presenceShardName } from "./shards";
import {
  closeCodeToEcho,
  closeQuietly,
  lastSeenMs,
  openSockets,
  platformTag,
  readAttachment,
  type SessionAttachment,
  sendQuietly,
} from "./sockets";
import { FrameFailure, Watching } from "./subscriptions";
import type { PresenceReport } from "./verification";

/** Header the gateway uses to hand verified claims to the object. Never reachable from outside. */
export const SESSION_CLAIMS_HEADER = "x-im-session-claims";

const KICKED_FRAME = JSON.stringify(
  envelope(ErrCode.tokenInvalidated, "kicked: a newer session opened on this platform"),
);

/** One open session, as get_user_sessions answers it (docs/api.md#post-managerget_user_sessions). */
export interface SessionInfo {
  connID: string;
  platformID: PlatformId;
  platform: PlatformName;
  connectedAt: number;
  lastActiveAt: number;
}

/** The user's presence after an event: what the shard is told, and whether it changed. */
interface Recorded {
  report: PresenceReport;
  changed: boolean;
}

/**
 * One object per user (idFromName(uid), so `ctx.id.name` is the uid). It holds
 * the user's sockets, tagged by platform, through the Hibernation API, and is
 * the single writer of the user's presence. Everything it needs after a
 * wake-up lives in socket attachments, the runtime's auto-response timestamps
 * and its SQLite storage: the constructor runs again after every hibernation.
 *
 * It keeps no clock of its own. Its presence shard asks it to `verify` once
 * per heartbeat deadline; it publishes to the shard only when its live
 * platforms change (or a connect may bring a deadline forward). So an
 * always-online user costs no alarm and no row (docs/presence.md). With
 * webhooks on, each change also makes events (changes.ts), written with the
 * change. What it owes others goes through its Outbox; its alarm runs only to
 * retry a send that failed or to send an offline held for the grace.
 */
export class UserSession extends DurableObject<Env> {
  private readonly settings: Settings;
  private readonly revocations: RevocationStore;
  /** The incarnation's start and a ban (src/storage/account.ts). */
  private readonly account: AccountStore;
  private readonly presence: UserPresenceStore;
  /** The users this user's sockets watch (docs/protocol.md#presence-subscriptions). */
  private readonly watching: Watching;
  private readonly outbox: Outbox;
  /** What ended sessions during the current event, by platform: the reason an offline event gives. */
  private readonly endings = new Map<PlatformId, Ending>();
  /** Test-only failure injection (test/presence/failures.test.ts); nothing in the worker arms it. */
  readonly faults = new FaultSwitch<"recordChange">();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = readSettings(env);
    ensureSchema(ctx.storage, USER_SESSION_MIGRATIONS);
    this.revocations = new RevocationStore(ctx.storage.sql);
    this.account = new AccountStore(ctx.storage.sql);
    this.presence = new UserPresenceStore(ctx.storage.sql);
    const uid = () => this.uid;
    const shards = this.settings.presenceShards;
    this.watching = new Watching(ctx, env, uid, shards, new WatchLists(ctx.storage));
    this.outbox = new Outbox(env, uid, shards, this.presence, (atMs) => this.setAlarmBy(atMs));
    // Heartbeats are answered by the runtime itself: a ping never wakes the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  private get uid(): string {
    const uid = this.ctx.id.name;
    if (uid === undefined) throw new Error("UserSession must be addressed by idFromName(uid)");
    return uid;
  }

  // ---- handshake -------------------------------------------------------------

  /** The gateway forwards an upgrade here only after the token's signature, expiry and binding checked out. */
  override async fetch(request: Request): Promise<Response> {
    const claims = parseClaims(request.headers.get(SESSION_CLAIMS_HEADER));
    if (!claims || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return envelopeResponse(400, ErrCode.badRequest, "expected a verified WebSocket upgrade");
    }
    const now = Date.now();
    const ban = this.account.banAt(now);
    if (ban)
      return envelopeResponse(401, ErrCode.tokenUserBanned, `the user is banned until ${describeTime(ban.untilMs)}`);
    // Tokens issued before the user was deleted are refused for good, also after the uid is registered again.
    if (claims.issuedAtMs <= this.account.read().epochMs) {
      return envelopeResponse(401, ErrCode.tokenInvalidated, "token was invalidated (its user was deleted)");
    }
    this.revocations.prune(now);
    if (this.revocations.isRevoked(claims)) {
      return envelopeResponse(401, ErrCode.tokenInvalidated, "token was invalidated (kicked or logged out)");
    }
    if (now >= claims.expiresAt * 1000) {
      return envelopeResponse(401, ErrCode.tokenExpired, "token expired");
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [platformTag(claims.platform)]);
    const operationID = new URL(request.url).searchParams.get("operationID") ?? undefined;
    const attachment: SessionAttachment = {
      key: crypto.randomUUID(),
      platform: claims.platform,
      jti: claims.jti,
      tokenExpiresAtMs: claims.expiresAt * 1000,
      connectedAtMs: now,
      lastMessageAtMs: now,
      ...(operationID ? { operationID: clipForLog(operationID, LIMITS.operationIdChars) } : {}),
    };
    server.serializeAttachment(attachment);
    try {
      this.applyLoginPolicy(server, attachment, now);
      this.closeDeadSockets(now);
      const recorded = this.record(now);
      // Published even when the platforms are unchanged: the new token may expire before the shard's next verify.
      await this.outbox.publish(recorded.report);
      await this.afterChange();
    } catch (error) {
      // The session never started: its socket goes, and the client hears a plain 500.
      closeQuietly(server, 1011, "internal error");
      logSocketFailure("socket_connect_failed", this.uid, attachment, error);
      return envelopeResponse(500, ErrCode.internal, "internal error");
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Makes room for the new session on its platform, displacing the oldest ones. */
  private applyLoginPolicy(newcomer: WebSocket, session: SessionAttachment, now: number): void {
    const others = this.liveSockets(now, platformTag(session.platform))
      .filter((ws) => ws !== newcomer)
      .sort((a, b) => readAttachment(a).connectedAtMs - readAttachment(b).connectedAtMs);
    const excess = others.length + 1 - maxSessionsPerPlatform(this.settings.loginPolicy);
    for (const ws of others.slice(0, Math.max(0, excess))) {
      const displaced = readAttachment(ws);
      // Reconnecting with the same token must keep working; a different token is retired.
      if (displaced.jti !== session.jti) this.revocations.revokeToken(displaced.jti, displaced.tokenExpiresAtMs);
      sendQuietly(ws, KICKED_FRAME);
      this.endSession(ws, CloseCode.kicked, "kicked by a newer session", { reason: "kicked", atMs: now });
    }
  }

  // ---- RPC from the worker and the presence shard ------------------------------

  /**
   * force_logout: closes the platform's sessions and retires every token
   * issued so far; with a connID, only that session and its own token.
   */
  async forceLogout(platform: PlatformId, connID?: string): Promise<"ok" | "no_such_session"> {
    const now = Date.now();
    const sockets = openSockets(this.ctx, platformTag(platform));
    if (connID === undefined) {
      this.revocations.revokePlatformUpTo(platform, now);
      for (const ws of sockets)
        this.endSession(ws, CloseCode.loggedOut, "logged out", { reason: "logged_out", atMs: now });
    } else {
      const ws = sockets.find((socket) => readAttachment(socket).key === connID);
      if (!ws) return "no_such_session";
      const { jti, tokenExpiresAtMs } = readAttachment(ws);
      this.revocations.revokeToken(jti, tokenExpiresAtMs);
      this.endSession(ws, CloseCode.loggedOut, "logged out", { reason: "logged_out", atMs: now });
    }
    await this.settle(now);
    return "ok";
  }

  /** The open, live sessions (get_user_sessions); reads only. */
  sessions(): SessionInfo[] {
    const now = Date.now();
    return this.liveSockets(now)
      .map((ws) => {
        const attachment = readAttachment(ws);
        return {
          connID: attachment.key,
          platformID: attachment.platform,
          platform: PLATFORM_NAMES[attachment.platform],
          connectedAt: attachment.connectedAtMs,
          lastActiveAt: lastSeenMs(this.ctx, ws, attachment),
        };
      })
      .sort((a, b) => a.connectedAt - b.connectedAt);
  }

  /**
   * ban_user: until `untilMs` handshakes are refused (706) and the sessions
   * open now are closed with 4006; a time already past lifts the ban. Nothing
   * runs when it ends: every check compares it with the clock.
   */
  async ban(untilMs: number, reason: string): Promise<void> {
    const now = Date.now();
    const account = this.account.read();
    if (untilMs <= now) {
      if (account.ban) this.account.write({ epochMs: account.epochMs });
      return;
    }
    this.account.write({ ...account, ban: { untilMs, reason } });
    for (const ws of openSockets(this.ctx)) {
      this.endSession(ws, CloseCode.banned, bannedCloseReason(Math.ceil(untilMs / 1000)), {
        reason: "banned",
        atMs: now,
      });
    }
    await this.settle(now);
  }

  /**
   * delete_user's part here (docs/security.md#your-users-data): the sessions
   * close with 4005, the offline events (reason `deleted`) go to the queue,
   * the shards forget this user as a watcher, then every row goes but the
   * account's, which keeps the moment of the deletion to refuse the old
   * tokens. Each step that can fail comes before anything is erased, so a
   * retry picks up where this stopped; once done, a repeat changes nothing.
   */
  async erase(deletedAtMs: number): Promise<void> {
    if (this.account.read().epochMs >= deletedAtMs) return;
    const now = Date.now();
    for (const ws of openSockets(this.ctx)) {
      this.endSession(ws, CloseCode.accountDeleted, "account deleted", { reason: "deleted", atMs: now });
    }
    this.record(now);
    // Offlines held for the webhook grace are sent now: nothing may wait on rows that are about to go.
    const held = this.presence.read();
    const flushed = flushHeld({ uid: this.uid, stored: held, nowMs: Number.POSITIVE_INFINITY, newId });
    if (flushed.stored !== held) this.presence.write(flushed.stored);
    if (!(await this.outbox.handOver())) throw new Error("the deletion's webhook events could not be queued");
    await this.watching.forgetAll();
    this.ctx.storage.transactionSync(() => {
      this.presence.erase();
      this.revocations.erase();
      this.account.write({ epochMs: deletedAtMs });
    });
    // A retry the alarm was to run has nothing left to send.
    if ((await this.ctx.storage.getAlarm()) !== null) await this.ctx.storage.deleteAlarm();
  }

  /**
   * The shard's heartbeat check: closes sockets that went silent (4003) or whose
   * token ran out (4004), and answers with the live platforms and the next
   * deadlines. The answer is the shard's news, so nothing is published to it.
   * A shard that is no longer this user's (PRESENCE_SHARDS changed) is told the
   * user left it, and the right shard hears from us instead.
   *
   * The shard also asks when the custom status it holds expires (`statusDueMs`,
   * its deadline): a status due by then is cleared (a change, with its `state`
   * event) whatever this object's clock says, so a clock a moment behind the
   * shard's cannot leave it standing. A status set again since, with a later
   * expiry, stays. No alarm of this object waits for an expiry.
   */
  async verify(askedBy: string, statusDueMs?: number): Promise<PresenceReport> {
    const now = Date.now();
    this.closeDeadSockets(now);
    this.revocations.prune(now);
    const settings =
      statusDueMs === undefined
        ? undefined
        : withoutExpiredStatus(this.presence.read().settings, Math.max(now, statusDueMs));
    const { report } = this.record(now, settings);
    const moved = askedBy !== presenceShardName(this.uid, this.settings.presenceShards);
    if (moved) await this.outbox.publish(report);
    await this.afterChange();
    return moved ? { ...report, movedAway: true } : report;
  }

  /**
   * A shard delivers changes of users this user's sockets watch. Returns the
   * users none of its open sockets watches any more, for the shard to forget.
   */
  deliverPresence(changes: ShardEntry[]): string[] {
    return this.watching.deliver(changes);
  }

  // ---- socket events -----------------------------------------------------------

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Any frame is a sign of life. An exact "ping" never gets here (auto-response);
    // something close to it gets a pong too, so a sloppy client still learns it is alive.
    if (ws.readyState !== WebSocket.OPEN) return; // closing (e.g. over its budget): the rest of its frames are moot
    const attachment = readAttachment(ws);
    const now = Date.now();
    const { frames, withinBudget } = countFrame(attachment.frames, now);
    ws.serializeAttachment({ ...attachment, lastMessageAtMs: now, frames });
    if (!withinBudget) {
      this.recordSessionEnd(ws, "frame_budget", now);
      return closeFloodingSocket(ws, { ...attachment, uid: this.uid });
    }
    if (typeof message !== "string") return;
    if (message.trim().toLowerCase() === PING) return sendQuietly(ws, PONG);
    const parsed = parseClientFrame(message);
    if ("refusal" in parsed)
      return sendFrame(ws, { type: "error", errCode: ErrCode.badRequest, errMsg: parsed.refusal });
    try {
      if (parsed.frame.type === "set") await this.set(ws, parsed.frame, now);
      else await this.watching.handle(ws, parsed.frame);
    } catch (error) {
      // Whatever the frame changed was undone; the client hears why, and the socket goes on.
      logSocketFailure("socket_frame_failed", this.uid, attachment, error);
      const errMsg = error instanceof FrameFailure ? error.clientMessage : "internal error";
      sendFrame(ws, { type: "error", errCode: ErrCode.internal, errMsg });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // The runtime may already have answered the close; echoing it is best effort.
    this.endSession(ws, closeCodeToEcho(code), reason, { reason: "close", atMs: Date.now() });
    await this.settleAfterSocketEvent(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.endSession(ws, 1011, "socket error", { reason: "close", atMs: Date.now() });
    await this.settleAfterSocketEvent(ws);
  }

  /**
   * A `set` frame (docs/protocol.md#your-own-presence): `background` is this
   * socket's; `invisible` and `customStatus` are the user's. A change is a
   * change like a connect: it takes the next seq, is stored (one row) with its
   * `state` event, and published.
   */
  private async set(ws: WebSocket, frame: SetFrame, now: number): Promise<void> {
    const attachment = readAttachment(ws);
    if (frame.background !== undefined && (attachment.background ?? false) !== frame.background)
      ws.serializeAttachment({ ...attachment, background: frame.background });
    const stored = this.presence.read();
    const settings = { ...stored.settings };
    if (frame.invisible !== undefined && frame.invisible !== (settings.invisible !== undefined)) {
      if (frame.invisible) {
        // Watchers see what they would if the user went offline now (or stayed offline, if it was).
        const lastSeenMs = this.observe(now).platforms.length > 0 ? now : stored.lastSeenMs;
        // Its seq is the change's own, given when the change is recorded.
        settings.invisible = { sinceMs: now, seq: 0, ...(lastSeenMs === undefined ? {} : { lastSeenMs }) };
      } else delete settings.invisible;
    }
    if (frame.customStatus !== undefined) setCustomStatus(settings, frame.customStatus);
    try {
      await this.settle(now, settings);
    } catch (error) {
      // Once the change is stored it stands (telling the shard and the queue is retried by itself);
      // before that, the socket's flag goes back too, so the error frame means nothing changed.
      if (this.presence.read().seq !== stored.seq) throw error;
      ws.serializeAttachment(attachment);
      throw new FrameFailure(SET_FAILED, { cause: error });
    }
  }

  /** set_custom_status (docs/api.md#post-userset_custom_status): as a `set` frame would, for the AppServer. */
  async setCustomStatus(status: CustomStatus | null): Promise<void> {
    const settings = { ...this.presence.read().settings };
    setCustomStatus(settings, status);
    await this.settle(Date.now(), settings);
  }

  /** A close or an error: nobody is left to answer, so a failure is logged (the next settle catches up). */
  private async settleAfterSocketEvent(ws: WebSocket): Promise<void> {
    try {
      await this.settle(Date.now());
    } catch (error) {
      logSocketFailure("socket_close_failed", this.uid, readAttachment(ws), error);
    }
  }

  /**
   * Set only when there is something to do later: an offline or a change of
   * background held for the webhook grace has run out, or a send to the
   * shard or the queue failed.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const held = this.presence.read();
    const flushed = flushHeld({ uid: this.uid, stored: held, nowMs: now, newId });
    if (flushed.stored !== held) this.presence.write(flushed.stored);
    await this.outbox.retry(() => this.report(now, this.presence.read()));
    const heldDue = nextHeldDue(this.presence.read());
    if (heldDue !== undefined) await this.setAlarmBy(heldDue);
  }

  // ---- presence ----------------------------------------------------------------

  private isLive(ws: WebSocket, attachment: SessionAttachment, now: number): boolean {
    return (
      now < lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs && now < attachment.tokenExpiresAtMs
    );
  }

  private liveSockets(now: number, tag?: string): WebSocket[] {
    return openSockets(this.ctx, tag).filter((ws) => this.isLive(ws, readAttachment(ws), now));
  }

  /** Closes sockets that are no longer live: silent too long (4003) or past their token's expiry (4004). */
  private closeDeadSockets(now: number): void {
    for (const ws of openSockets(this.ctx)) {
      const attachment = readAttachment(ws);
      const deadline = lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs;
      // The session ended when it stopped being live, not when this noticed.
      if (now >= deadline) {
        this.endSession(ws, CloseCode.heartbeatTimeout, "heartbeat timeout", {
          reason: "heartbeat_timeout",
          atMs: deadline,
        });
      } else if (now >= attachment.tokenExpiresAtMs) {
        this.endSession(ws, CloseCode.tokenExpired, "token expired", {
          reason: "token_expired",
          atMs: attachment.tokenExpiresAtMs,
        });
      }
    }
  }

  /** Closes a socket and remembers why its platform may have gone offline. */
  private endSession(ws: WebSocket, code: number, text: string, ending: Ending): void {
    this.recordSessionEnd(ws, ending.reason, ending.atMs);
    closeQuietly(ws, code, text);
    this.endings.set(readAttachment(ws).platform, ending);
  }

  /** One `close` metric per session, whoever ended it first (a close we send is answered by the client's). */
  private recordSessionEnd(ws: WebSocket, reason: string, atMs: number): void {
    const attachment = readAttachment(ws);
    if (attachment.endedAtMs !== undefined) return;
    try {
      ws.serializeAttachment({ ...attachment, endedAtMs: atMs });
    } catch {
      // Already released by the runtime: this event is its last.
    }
    recordMetric(this.env, {
      kind: "close",
      outcome: reason,
      details: [PLATFORM_NAMES[attachment.platform]],
      latencyMs: Math.max(0, atMs - attachment.connectedAtMs),
    });
  }

  /** The live platforms, which of them are in the background, and when they can next change by themselves; reads only. */
  private observe(now: number): LiveState {
    let heartbeatDeadlineMs = Number.POSITIVE_INFINITY;
    let tokenExpiresAtMs = Number.POSITIVE_INFINITY;
    const live = new Set<PlatformId>();
    // A platform is in the background when every live session on it is.
    const foreground = new Set<PlatformId>();
    for (const ws of this.liveSockets(now)) {
      const attachment = readAttachment(ws);
      live.add(attachment.platform);
      if (!attachment.background) foreground.add(attachment.platform);
      heartbeatDeadlineMs = Math.min(
        heartbeatDeadlineMs,
        lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs,
      );
      tokenExpiresAtMs = Math.min(tokenExpiresAtMs, attachment.tokenExpiresAtMs);
    }
    const platforms = [...live].sort((a, b) => a - b);
    const background = platforms.filter((platform) => !foreground.has(platform));
    return { platforms, background, heartbeatDeadlineMs, tokenExpiresAtMs };
  }

  /** After an event of the user or the AppServer: the change is stored, and the shard hears of it. */
  private async settle(now: number, settings?: PresenceSettings): Promise<void> {
    this.closeDeadSockets(now);
    const recorded = this.record(now, settings);
    if (recorded.changed) await this.outbox.publish(recorded.report);
    await this.afterChange();
  }

  /**
   * Brings the stored state up to date with the sockets: a change takes the
   * next seq and is stored (one row) with the webhook events it makes. Who is
   * told, and when, is the caller's to decide.
   */
  private record(now: number, settings?: PresenceSettings): Recorded {
    const { url, graceMs } = this.settings.webhooks;
    const stored = this.presence.read();
    const observed = this.observe(now);
    const change = applyChange({
      uid: this.uid,
      stored,
      live: observed.platforms,
      background: observed.background,
      // A custom status that has expired goes with whatever event comes first: its expiry is a change too.
      settings: withoutExpiredStatus(settings ?? stored.settings, now),
      endings: this.endings,
      nowMs: now,
      webhooks: url === undefined ? undefined : { graceMs },
      newId,
    });
    this.endings.clear();
    if (change.changed) {
      this.faults.trip("recordChange");
      this.presence.write(change.stored);
    }
    return { report: this.report(now, change.stored), changed: change.changed };
  }

  /** What follows any event, once the shard has had what it needs: events out, held ones timed, subscriptions of gone sockets ended. */
  private async afterChange(): Promise<void> {
    await this.outbox.handOver();
    const heldDue = nextHeldDue(this.presence.read());
    if (heldDue !== undefined) await this.setAlarmBy(heldDue);
    // A shard that could not be told keeps a watcher nobody wants until a delivery finds it stale;
    // the rows left here go at the next settle.
    await this.watching
      .endClosed()
      .catch((error) => logSocketFailure("subscriptions_end_failed", this.uid, undefined, error));
  }

  private report(now: number, stored: StoredPresence): PresenceReport {
    const { platforms, heartbeatDeadlineMs, tokenExpiresAtMs } = this.observe(now);
    const { invisible, customStatus } = withoutExpiredStatus(stored.settings, now);
    const version = {
      epoch: this.account.read().epochMs,
      seq: stored.seq,
      reportedAtMs: now,
      ...(invisible ? { invisible: { seq: invisible.seq, lastSeenMs: invisible.lastSeenMs } } : {}),
      ...(customStatus ? { customStatus: { text: customStatus.text, ...expiry(customStatus.expiresAtMs) } } : {}),
      ...(stored.background ? { background: platformsOfMask(stored.background) } : {}),
    };
    return platforms.length === 0
      ? { ...version, platforms, lastSeenMs: stored.lastSeenMs }
      : { ...version, platforms, heartbeatDeadlineMs, tokenExpiresAtMs };
  }

  /** Sets the alarm to `atMs` unless one is already set for that moment or sooner (each setAlarm is a billed row). */
  private async setAlarmBy(atMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > atMs) await this.ctx.storage.setAlarm(atMs);
  }
}

interface LiveState {
  platforms: PlatformId[];
  background: PlatformId[];
  heartbeatDeadlineMs: number;
  tokenExpiresAtMs: number;
}

const newId = () => crypto.randomUUID();

/** Sets (or, with null, clears) the custom status in `settings`; its expiry is kept in ms. */
function setCustomStatus(settings: PresenceSettings, status: CustomStatus | null): void {
  if (status === null) delete settings.customStatus;
  else
    settings.customStatus = {
      text: status.text,
      ...(status.expiresAt === undefined ? {} : { expiresAtMs: status.expiresAt * 1000 }),
    };
}

/** The settings as of `nowMs`: a custom status past its expiry is gone. */
function withoutExpiredStatus(settings: PresenceSettings, nowMs: number): PresenceSettings {
  const expiresAtMs = settings.customStatus?.expiresAtMs;
  if (expiresAtMs === undefined || nowMs < expiresAtMs) return settings;
  const { customStatus: _expired, ...rest } = settings;
  return rest;
}

/** A moment as people and machines both read it: ISO 8601 and Unix seconds. */
function describeTime(ms: number): string {
  return `${new Date(ms).toISOString()} (${Math.ceil(ms / 1000)})`;
}

function maxSessionsPerPlatform(policy: LoginPolicy): number {
  return policy.kind === "kick_same_platform" ? 1 : policy.max;
}

function sendFrame(ws: WebSocket, frame: ErrorFrame): void {
  sendQuietly(ws, JSON.stringify(frame));
}

/** One log line for a socket handler that failed: who and where, never the token. */
function logSocketFailure(
  event: string,
  uid: string | undefined,
  session: Pick<SessionAttachment, "platform" | "operationID"> | undefined,
  error: unknown,
): void {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  console.error(
    JSON.stringify({
      level: "error",
      event,
      uid: uid === undefined ? undefined : clipForLog(uid, LIMITS.uidChars),
      platform: session?.platform,
      operationID: session?.operationID,
      error: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause),
    }),
  );
}

function parseClaims(header: string | null): ClientTokenClaims | undefined {
  if (!header) return undefined;
  try {
    return JSON.parse(header) as ClientTokenClaims;
  } catch {
    return undefined;
  }
}
