import { DurableObject } from "cloudflare:workers";
import { readSettings, type LoginPolicy, type Settings } from "../config";
import { envelope, envelopeResponse, ErrCode } from "../errors";
import { platformMask, type PlatformId } from "../platforms";
import { RevocationStore } from "../storage/revocations";
import { ensureSchema, USER_SESSION_MIGRATIONS } from "../storage/schema";
import { UserPresenceStore } from "../storage/user-presence";
import type { ClientTokenClaims } from "../tokens";
import { closeFloodingSocket, countFrame } from "./frame-budget";
import { presenceShardFor, presenceShardName } from "./shards";
import {
  closeCodeToEcho,
  closeQuietly,
  CloseCode,
  lastSeenMs,
  openSockets,
  PING,
  platformTag,
  PONG,
  readAttachment,
  sendQuietly,
  type SessionAttachment,
} from "./sockets";
import type { PresenceReport } from "./verification";

/** Header the gateway uses to hand verified claims to the object. Never reachable from outside. */
export const SESSION_CLAIMS_HEADER = "x-im-session-claims";

const KICKED_FRAME = JSON.stringify(
  envelope(ErrCode.tokenInvalidated, "kicked: a newer session opened on this platform"),
);

// A publish to the presence shard that failed is retried by an alarm this soon, then less often.
const PUBLISH_RETRY_MS = 1_000;
const PUBLISH_RETRY_MAX_MS = 30_000;

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
 * always-online user costs no alarm and no row (docs/presence.md).
 */
export class UserSession extends DurableObject<Env> {
  private readonly settings: Settings;
  private readonly revocations: RevocationStore;
  private readonly presence: UserPresenceStore;
  private publishQueue: Promise<void> = Promise.resolve();
  private publishFailures = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = readSettings(env);
    ensureSchema(ctx.storage, USER_SESSION_MIGRATIONS);
    this.revocations = new RevocationStore(ctx.storage.sql);
    this.presence = new UserPresenceStore(ctx.storage.sql);
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
    this.revocations.prune(now);
    if (this.revocations.isRevoked(claims)) {
      return envelopeResponse(401, ErrCode.tokenInvalidated, "token was invalidated (kicked or logged out)");
    }
    if (now >= claims.expiresAt * 1000) {
      return envelopeResponse(401, ErrCode.tokenExpired, "token expired");
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [platformTag(claims.platform)]);
    const attachment: SessionAttachment = {
      platform: claims.platform,
      jti: claims.jti,
      tokenExpiresAtMs: claims.expiresAt * 1000,
      connectedAtMs: now,
      lastMessageAtMs: now,
    };
    server.serializeAttachment(attachment);
    this.applyLoginPolicy(server, attachment, now);

    this.closeDeadSockets(now);
    // Published even when the platforms are unchanged: the new token may expire before the shard's next verify.
    await this.publish(this.reconcile(now).report);
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
      closeQuietly(ws, CloseCode.kicked, "kicked by a newer session");
    }
  }

  // ---- RPC from the worker and the presence shard ------------------------------

  /** force_logout: closes the platform's sessions and retires every token issued so far. */
  async forceLogout(platform: PlatformId): Promise<void> {
    const now = Date.now();
    this.revocations.revokePlatformUpTo(platform, now);
    for (const ws of openSockets(this.ctx, platformTag(platform))) {
      closeQuietly(ws, CloseCode.loggedOut, "logged out");
    }
    await this.publishIfChanged(now);
  }

  /**
   * The shard's heartbeat check: closes sockets that went silent (4003) or whose
   * token ran out (4004), and answers with the live platforms and the next
   * deadlines. A shard that is no longer this user's (PRESENCE_SHARDS changed)
   * is told the user left it, and the right shard hears from us instead.
   */
  async verify(askedBy: string): Promise<PresenceReport> {
    const now = Date.now();
    this.closeDeadSockets(now);
    this.revocations.prune(now);
    const { report } = this.reconcile(now);
    if (askedBy === presenceShardName(this.uid, this.settings.presenceShards)) return report;
    await this.publish(report);
    return { ...report, movedAway: true };
  }

  /** The platforms with a live session, straight from the sockets (the source of truth). */
  livePlatforms(): PlatformId[] {
    return this.observe(Date.now()).platforms;
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
    if (!withinBudget) return closeFloodingSocket(ws, { ...attachment, uid: this.uid });
    if (typeof message === "string" && message.trim().toLowerCase() === PING) sendQuietly(ws, PONG);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // The runtime may already have answered the close; echoing it is best effort.
    closeQuietly(ws, closeCodeToEcho(code), reason);
    await this.publishIfChanged(Date.now());
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "socket error");
    await this.publishIfChanged(Date.now());
  }

  /** Set only after a failed publish: tries again, so the shard cannot miss a change for long. */
  override async alarm(): Promise<void> {
    await this.publish(this.reconcile(Date.now()).report);
  }

  // ---- presence ----------------------------------------------------------------

  private isLive(ws: WebSocket, attachment: SessionAttachment, now: number): boolean {
    return (
      now < lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs &&
      now < attachment.tokenExpiresAtMs
    );
  }

  private liveSockets(now: number, tag?: string): WebSocket[] {
    return openSockets(this.ctx, tag).filter((ws) => this.isLive(ws, readAttachment(ws), now));
  }

  /** Closes sockets that are no longer live: silent too long (4003) or past their token's expiry (4004). */
  private closeDeadSockets(now: number): void {
    for (const ws of openSockets(this.ctx)) {
      const attachment = readAttachment(ws);
      if (now >= lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs) {
        closeQuietly(ws, CloseCode.heartbeatTimeout, "heartbeat timeout");
      } else if (now >= attachment.tokenExpiresAtMs) {
        closeQuietly(ws, CloseCode.tokenExpired, "token expired");
      }
    }
  }

  /** The live platforms and when they can next change by themselves; reads only. */
  private observe(now: number): LiveState {
    let heartbeatDeadlineMs = Number.POSITIVE_INFINITY;
    let tokenExpiresAtMs = Number.POSITIVE_INFINITY;
    const live = new Set<PlatformId>();
    for (const ws of this.liveSockets(now)) {
      const attachment = readAttachment(ws);
      live.add(attachment.platform);
      heartbeatDeadlineMs = Math.min(
        heartbeatDeadlineMs,
        lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs,
      );
      tokenExpiresAtMs = Math.min(tokenExpiresAtMs, attachment.tokenExpiresAtMs);
    }
    return { platforms: [...live].sort((a, b) => a - b), heartbeatDeadlineMs, tokenExpiresAtMs };
  }

  /**
   * Compares the live platforms with the last stored state; a change gets the
   * next seq and is stored (one row). Returns the report for the shard.
   */
  private reconcile(now: number): { changed: boolean; report: PresenceReport } {
    const { platforms, heartbeatDeadlineMs, tokenExpiresAtMs } = this.observe(now);
    const mask = platformMask(platforms);
    let stored = this.presence.read();
    const changed = mask !== stored.platforms;
    if (changed) {
      stored = { seq: stored.seq + 1, platforms: mask, lastSeenMs: mask === 0 ? now : stored.lastSeenMs };
      this.presence.write(stored);
    }
    const report: PresenceReport =
      mask === 0
        ? { seq: stored.seq, reportedAtMs: now, platforms, lastSeenMs: stored.lastSeenMs }
        : { seq: stored.seq, reportedAtMs: now, platforms, heartbeatDeadlineMs, tokenExpiresAtMs };
    return { changed, report };
  }

  private async publishIfChanged(now: number): Promise<void> {
    this.closeDeadSockets(now);
    const { changed, report } = this.reconcile(now);
    if (changed) await this.publish(report);
  }

  /**
   * Sends a report to the user's presence shard. Publishes are serialised; the
   * shard orders them by seq anyway. A failure is retried by an alarm with
   * backoff, the only alarm this object ever sets.
   */
  private publish(report: PresenceReport): Promise<void> {
    const next = this.publishQueue.then(() => this.publishNow(report));
    this.publishQueue = next.catch(() => undefined);
    return next;
  }

  private async publishNow(report: PresenceReport): Promise<void> {
    try {
      await presenceShardFor(this.env, this.uid, this.settings.presenceShards).publish(this.uid, report);
      this.publishFailures = 0;
    } catch (error) {
      this.publishFailures++;
      console.error(JSON.stringify({ level: "error", event: "presence_publish_failed", error: String(error) }));
      const delay = Math.min(PUBLISH_RETRY_MAX_MS, PUBLISH_RETRY_MS * 2 ** (this.publishFailures - 1));
      await this.ctx.storage.setAlarm(Date.now() + delay);
    }
  }
}

interface LiveState {
  platforms: PlatformId[];
  heartbeatDeadlineMs: number;
  tokenExpiresAtMs: number;
}

function maxSessionsPerPlatform(policy: LoginPolicy): number {
  return policy.kind === "kick_same_platform" ? 1 : policy.max;
}

function parseClaims(header: string | null): ClientTokenClaims | undefined {
  if (!header) return undefined;
  try {
    return JSON.parse(header) as ClientTokenClaims;
  } catch {
    return undefined;
  }
}
