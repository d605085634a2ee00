import type { PlatformId } from "../platforms";

/**
 * How a presence shard decides when to ask a user's object about its sockets.
 *
 * Pings are answered by the runtime without waking the user's object, so
 * nobody learns that a socket went silent unless somebody asks. The shard asks
 * (`verify`), once per heartbeat deadline: a silent socket is then closed with
 * 4003 and a pinging one reports its next deadline. Nothing is written while
 * nothing changes; see docs/presence.md for the figures.
 */

/** SPEC §5: a silent socket reads offline no later than HEARTBEAT_TIMEOUT + 5 s after its last frame. */
export const OFFLINE_GRACE_MS = 5_000;

/**
 * Verifies per shard alarm, at most. Each is a subrequest; Workers allow 1,000
 * to Cloudflare services per invocation on the Free plan (10,000 on Paid).
 * More due users are taken by the next alarm, set at once.
 */
export const MAX_VERIFIES_PER_ALARM = 500;

/** What a user's object reports about itself: its live platforms, and when that can next change by itself. */
export interface PresenceReport {
  /** Per user, +1 on every change of the live platforms; persisted, so it only grows. */
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
}

export interface VerifyTiming {
  /** A verify runs this long after a heartbeat deadline: the later it runs, the more pings it covers. */
  lagMs: number;
  /** An alarm also verifies users due this soon, so alarms are at least this far apart in steady state. */
  coalesceMs: number;
}

/** Both are a quarter of the timeout at most, so short test timeouts keep the same shape. */
export function verifyTiming(heartbeatTimeoutMs: number): VerifyTiming {
  return {
    lagMs: Math.min(3_000, heartbeatTimeoutMs / 4),
    coalesceMs: Math.min(4_000, heartbeatTimeoutMs / 4),
  };
}

export interface VerifyPlan {
  /** When to ask the object next. */
  verifyAtMs: number;
  /**
   * Until when a read may report the reported platforms without a newer
   * answer: the SPEC's bound for a silent socket. A verify that is a moment
   * late leaves a pinging user online; one that never comes lets the entry lapse.
   */
  trustUntilMs: number;
}

export function planVerification(report: PresenceReport, timing: VerifyTiming): VerifyPlan | undefined {
  if (report.platforms.length === 0 || report.movedAway) return undefined;
  const byHeartbeat = (report.heartbeatDeadlineMs ?? Number.POSITIVE_INFINITY) + timing.lagMs;
  const verifyAtMs = Math.min(byHeartbeat, report.tokenExpiresAtMs ?? Number.POSITIVE_INFINITY);
  return { verifyAtMs, trustUntilMs: verifyAtMs + OFFLINE_GRACE_MS - timing.lagMs };
}
