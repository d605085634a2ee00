import type { PlatformId } from "../../protocol";

/**
 * Socket lifecycle helpers for hibernatable WebSockets. Each edge case the
 * runtime has is named and handled here, once.
 */

/** Frames counted in the current window of a socket's budget (frame-budget.ts). */
export interface FrameWindow {
  startMs: number;
  count: number;
}

/** What a socket remembers across hibernation (kept well under the 2 KiB attachment limit). */
export interface SessionAttachment {
  /** This socket's own id: what its presence subscriptions are stored under. */
  key: string;
  platform: PlatformId;
  /** The token that opened this session: a kick invalidates it. */
  jti: string;
  tokenExpiresAtMs: number;
  connectedAtMs: number;
  /** Last frame the object itself saw; auto-answered pings are tracked by the runtime. */
  lastMessageAtMs: number;
  /** Frames spent from the socket's budget (presence/frame-budget.ts); absent until the first frame. */
  frames?: FrameWindow;
  /** The connect's operationID, if it had one (cut to 64 characters): logged with the session's failures. */
  operationID?: string;
  /** When the session ended, once its `close` metric was written (src/metrics.ts). */
  endedAtMs?: number;
  /** The app is in the background (a `set` frame said so); absent: in the foreground. */
  background?: boolean;
}

export function platformTag(platform: PlatformId): string {
  return `platform:${platform}`;
}

export function readAttachment(ws: WebSocket): SessionAttachment {
  return ws.deserializeAttachment() as SessionAttachment;
}

/**
 * getWebSockets() also returns sockets that are closing or closed but not yet
 * released; only OPEN ones are sessions.
 */
export function openSockets(ctx: DurableObjectState, tag?: string): WebSocket[] {
  return ctx.getWebSockets(tag).filter((ws) => ws.readyState === WebSocket.OPEN);
}

/** Last sign of life: the later of our own record and the runtime's auto-response timestamp. */
export function lastSeenMs(ctx: DurableObjectState, ws: WebSocket, attachment: SessionAttachment): number {
  const autoResponse = ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? 0;
  return Math.max(attachment.connectedAtMs, attachment.lastMessageAtMs, autoResponse);
}

/** Sends if the socket can still take it; a socket racing to close is not an error. */
export function sendQuietly(ws: WebSocket, message: string): void {
  try {
    ws.send(message);
  } catch {
    // Already closing: the peer will not read it either way.
  }
}

/**
 * Codes a peer's close can report but no endpoint may send (RFC 6455 §7.4.1):
 * no status (1005), abnormal closure (1006), TLS failure (1015).
 */
const RESERVED_CLOSE_CODES: ReadonlySet<number> = new Set([1005, 1006, 1015]);

/** The code to answer a peer's close with: its own, unless that one may not be sent. */
export function closeCodeToEcho(code: number): number {
  return RESERVED_CLOSE_CODES.has(code) ? 1000 : code;
}

/**
 * close() throws for reserved codes (1005, 1006, 1015) and, on recent
 * compatibility dates, when the runtime has already answered the peer's close.
 * Either way the socket is done, which is what the caller wanted.
 */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed or not closable with this code.
  }
}
