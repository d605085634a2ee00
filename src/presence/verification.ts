import type { CustomStatus, PlatformId } from "../../protocol";
import type { VerifyPlan } from "../storage/shard-tables";

/**
 * How a presence shard decides when to ask a user's object about its sockets.
 *
 * Pings are answered by the runtime without waking the user's object, so
 * nobody learns that a socket went silent unless somebody asks. The shard asks
 * (`verify`), once per heartbeat deadline: a silent socket is then closed with
 * 4003 and a pinging one reports its next deadline. Nothing is written while
 * nothing changes; see docs/presence.md for the figures.
 */

/** A silent socket reads offline no later than HEARTBEAT_TIMEOUT + 5 s after its last frame (docs/protocol.md#heartbeat). */
export const OFFLINE_GRACE_MS = 5_000;

/**
 * Calls one shard alarm makes, at most: Workers allow 1,000 subrequests to
 * Cloudflare services per invocation on the Free plan. Verifies take up to
 * `verifies` of them, so deliveries always keep the rest; what is left waits
 * for the next alarm, set at once.
 */
export const ALARM_CALLS = { total: 900, verifies: 500 } as const;

/**
 * Cloudflare hibernates an idle Durable Object (one with no timer and no
 * non-hibernatable socket) after 10 s, and its memory is gone. A shard whose
 * next alarm is further off than this saves its schedule first.
 */
const HIBERNATES_AFTER_IDLE_MS = 8_000;

/** What a user's object reports about itself: its live platforms, and when that can next change by itself. */
export interface PresenceReport {
  /** The user's incarnation (its object's account epoch, src/storage/account.ts): a newer one wins whatever the seq. */
  epoch: number;
  /** Per user, +1 on every change of the live platforms; persisted, so it only grows within an incarnation. */
  seq: number;
  /** When the object computed this report: of two reports with one seq, the later wins. */
  reportedAtMs: number;
  platforms: PlatformId[];
  /** The earliest last-sign-of-life + HEARTBEAT_TIMEOUT among live sockets. */
  heartbeatDeadlineMs?: number;
  /** The earliest token expiry among live sockets. */
  tokenExpiresAtMs?: number;
  /** With no live platform: when the last session ended, if the user has ever been online. */
  lastSeenMs?: number;
  /** The user belongs to another shard now (PRESENCE_SHARDS changed): the asking shard forgets it. */
  movedAway?: boolean;
  /** While the user is invisible: what its watchers see instead, offline since `lastSeenMs` at `seq`. */
  invisible?: { seq: number; lastSeenMs?: number };
  /** The live platforms whose app is in the background. */
  background?: PlatformId[];
  /** The user's custom status, while set and unexpired. */
  customStatus?: CustomStatus;
}

/**
 * When, relative to a socket's heartbeat deadline (its last frame + the
 * timeout), its user may be verified. A client pinging every P seconds pings
 * about when the deadline falls (the timeout is a multiple of P), so the
 * window opens a moment after it, to see that ping: a verify any earlier
 * would find only the ping before and come back a whole period sooner. It
 * closes early enough that the answer lands within those 5 s.
 */
export interface VerifyTiming {
  /** The window opens this long after the deadline. */
  opensAfterMs: number;
  /** ...and closes this long after it. One alarm serves every user whose window is open, so alarms are at least `closesAfterMs - opensAfterMs` apart. */
  closesAfterMs: number;
  /** A shard whose next alarm is further off than this saves its schedule before it hibernates. */
  idleAfterMs: number;
}

/** Scaled down for short (test) timeouts, so they keep the same shape. */
export function verifyTiming(heartbeatTimeoutMs: number): VerifyTiming {
  return {
    opensAfterMs: Math.min(1_000, heartbeatTimeoutMs / 8),
    closesAfterMs: Math.min(3_500, heartbeatTimeoutMs / 4),
    idleAfterMs: Math.min(HIBERNATES_AFTER_IDLE_MS, heartbeatTimeoutMs / 4),
  };
}

export function planVerification(report: PresenceReport, timing: VerifyTiming): VerifyPlan | undefined {
  if (report.platforms.length === 0 || report.movedAway) return undefined;
  const deadline = report.heartbeatDeadlineMs ?? Number.POSITIVE_INFINITY;
  const expiry = report.tokenExpiresAtMs ?? Number.POSITIVE_INFINITY;
  // A token that runs out first is checked at its expiry, so 4004 comes on time.
  const [fromMs, byMs] =
    expiry < deadline + timing.closesAfterMs
      ? [expiry, expiry]
      : [deadline + timing.opensAfterMs, deadline + timing.closesAfterMs];
  return { fromMs, byMs, trustUntilMs: byMs + OFFLINE_GRACE_MS - timing.closesAfterMs };
}
