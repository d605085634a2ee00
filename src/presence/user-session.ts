import { DurableObject } from "cloudflare:workers";
import { readSettings, type LoginPolicy, type Settings } from "../config";
import type { Env } from "../env";
import { envelope, envelopeResponse, ErrCode } from "../errors";
import type { PlatformId } from "../platforms";
import type { PlatformPresence } from "../storage/presence-table";
import { RevocationStore } from "../storage/revocations";
import type { ClientTokenClaims } from "../tokens";
import { closeFloodingSocket, countFrame } from "./frame-budget";
import { presenceShardFor } from "./shards";
import {
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

/** Header the gateway uses to hand verified claims to the object. Never reachable from outside. */
export const SESSION_CLAIMS_HEADER = "x-im-session-claims";

const KICKED_FRAME = JSON.stringify(
  envelope(ErrCode.tokenInvalidated, "kicked: a newer session opened on this platform"),
);

// A failed publish to the presence index is retried this soon.
const PUBLISH_RETRY_MS = 1_000;

/**
 * One object per user (idFromName(uid)). It holds the user's sockets, tagged
 * by platform, through the Hibernation API, and is the single writer of the
 * user's presence. Everything it needs after a wake-up lives in socket
 * attachments, the runtime's auto-response timestamps and its SQLite storage:
 * the constructor runs again after every hibernation.
 */
export class UserSession extends DurableObject<Env> {
  private readonly settings: Settings;
  private readonly revocations: RevocationStore;
  private publishQueue: Promise<void> = Promise.resolve();
  private lastPublished?: string;
  private lastVersion = 0;
  private publishFailed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.settings = readSettings(env);
    this.revocations = new RevocationStore(ctx.storage.sql);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    // Heartbeats are answered by the runtime itself: a ping never wakes the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  // ---- handshake -------------------------------------------------------------

  /** The gateway forwards an upgrade here only after the token's signature, expiry and binding checked out. */
  override async fetch(request: Request): Promise<Response> {
    const claims = parseClaims(request.headers.get(SESSION_CLAIMS_HEADER));
    if (!claims || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return envelopeResponse(400, ErrCode.badRequest, "expected a verified WebSocket upgrade");
    }
    const now = Date.now();
    this.rememberUid(claims.uid);
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

    await this.publishPresence();
    await this.scheduleAlarm();
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

  // ---- AppServer actions (RPC from the worker) ------------------------------

  /** force_logout: closes the platform's sessions and retires every token issued so far. */
  async forceLogout(uid: string, platform: PlatformId): Promise<void> {
    const now = Date.now();
    this.rememberUid(uid);
    this.revocations.revokePlatformUpTo(platform, now);
    for (const ws of openSockets(this.ctx, platformTag(platform))) {
      closeQuietly(ws, CloseCode.loggedOut, "logged out");
    }
    await this.publishPresence();
    await this.scheduleAlarm();
  }

  /** The platforms with a live session, straight from the sockets (the source of truth). */
  livePlatforms(): PlatformId[] {
    return this.presenceSnapshot(Date.now()).map((p) => p.platform);
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
    if (!withinBudget) return closeFloodingSocket(ws, { ...attachment, uid: this.uid() });
    if (typeof message === "string" && message.trim().toLowerCase() === PING) sendQuietly(ws, PONG);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // The runtime may already have answered the close; echoing it is best effort.
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    await this.onSessionEnded();
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "socket error");
    await this.onSessionEnded();
  }

  private async onSessionEnded(): Promise<void> {
    await this.publishPresence();
    await this.scheduleAlarm();
  }

  // ---- the sweep -------------------------------------------------------------

  /**
   * Runs only while there is something to watch: closes silent sockets (4003)
   * and sockets whose token ran out (4004), refreshes the presence index for
   * sockets that pinged since the last publish, and prunes old revocations.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const ws of openSockets(this.ctx)) {
      const attachment = readAttachment(ws);
      if (now >= lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs) {
        closeQuietly(ws, CloseCode.heartbeatTimeout, "heartbeat timeout");
      } else if (now >= attachment.tokenExpiresAtMs) {
        closeQuietly(ws, CloseCode.tokenExpired, "token expired");
      }
    }
    this.revocations.prune(now);
    await this.publishPresence();
    await this.scheduleAlarm();
  }

  /**
   * The next moment something can change: a heartbeat deadline (or shortly
   * before it, to publish a later deadline for a socket that pinged), a token
   * expiry, or a publish to retry. Without sockets there is no alarm, so an
   * idle object costs nothing; its stale invalidations are pruned at its next
   * handshake or sweep instead.
   */
  private async scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const timeout = this.settings.heartbeatTimeoutMs;
    const refreshLead = Math.min(2_000, timeout / 4);
    const moments: number[] = [];
    for (const ws of openSockets(this.ctx)) {
      const attachment = readAttachment(ws);
      const deadline = lastSeenMs(this.ctx, ws, attachment) + timeout;
      moments.push(deadline - refreshLead > now ? deadline - refreshLead : deadline, attachment.tokenExpiresAtMs);
    }
    if (this.publishFailed) moments.push(now + PUBLISH_RETRY_MS);

    if (moments.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.max(Math.min(...moments), now + 1));
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

  /** Each live platform once, with the moment it stops being live unless it shows life again. */
  private presenceSnapshot(now: number): PlatformPresence[] {
    const liveUntil = new Map<PlatformId, number>();
    for (const ws of this.liveSockets(now)) {
      const attachment = readAttachment(ws);
      const until = Math.min(
        lastSeenMs(this.ctx, ws, attachment) + this.settings.heartbeatTimeoutMs,
        attachment.tokenExpiresAtMs,
      );
      liveUntil.set(attachment.platform, Math.max(until, liveUntil.get(attachment.platform) ?? 0));
    }
    return [...liveUntil]
      .sort(([a], [b]) => a - b)
      .map(([platform, liveUntilMs]) => ({ platform, liveUntilMs }));
  }

  /**
   * Publishes the current snapshot to the user's presence shard. Publishes
   * are serialised and versioned, so the shard never applies an older state
   * over a newer one.
   */
  private publishPresence(): Promise<void> {
    const next = this.publishQueue.then(() => this.publishNow());
    this.publishQueue = next.catch(() => undefined);
    return next;
  }

  private async publishNow(): Promise<void> {
    const uid = this.uid();
    if (uid === undefined) return;
    const snapshot = this.presenceSnapshot(Date.now());
    const serialized = JSON.stringify(snapshot);
    if (serialized === this.lastPublished && !this.publishFailed) return;
    this.lastVersion = Math.max(this.lastVersion + 1, Date.now() * 1000);
    try {
      await presenceShardFor(this.env, uid, this.settings.presenceShards).publish(uid, this.lastVersion, snapshot);
      this.lastPublished = serialized;
      this.publishFailed = false;
    } catch (error) {
      // The index entry still expires by itself; the alarm retries soon.
      this.publishFailed = true;
      console.error(JSON.stringify({ level: "error", event: "presence_publish_failed", error: String(error) }));
    }
  }

  // ---- identity ------------------------------------------------------------------

  private cachedUid?: string;

  /** The object is addressed by uid, but alarms carry no request: remember it. */
  private rememberUid(uid: string): void {
    if (this.cachedUid === uid) return;
    this.ctx.storage.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('uid', ?) ON CONFLICT (key) DO NOTHING",
      uid,
    );
    this.cachedUid = uid;
  }

  private uid(): string | undefined {
    this.cachedUid ??= this.ctx.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'uid'")
      .toArray()[0]?.value;
    return this.cachedUid;
  }
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
