import type { Env } from "../env";
import { ApiError } from "../errors";

/**
 * Abuse limits on top of Cloudflare's Rate Limiting binding. The binding
 * only counts; what a count means is decided here.
 */

// Once an IP burns through its failed-secret allowance, it is refused outright
// for this long, correct secret or not, so a guesser learns nothing from a hit.
const BLOCK_MS = 60_000;
const MAX_TRACKED_IPS = 10_000;

// Per isolate; the binding's counter is what is shared across isolates.
const blockedUntil = new Map<string, number>();

/** The caller's address as Cloudflare reports it (the header is set by the edge, not the client). */
export function clientIp(request: Request): string {
  return request.headers.get("CF-Connecting-IP") ?? "unknown";
}

export function assertNotBlocked(ip: string, now = Date.now()): void {
  const until = blockedUntil.get(ip);
  if (until === undefined) return;
  if (now < until) throw ApiError.rateLimited("too many failed secrets from this address");
  blockedUntil.delete(ip);
}

/** Counts a failed secret; past the limit the address is blocked and this attempt answered 429. */
export async function countFailedSecret(env: Env, ip: string, now = Date.now()): Promise<void> {
  if (!env.FAILED_SECRET_LIMITER) return;
  const { success } = await env.FAILED_SECRET_LIMITER.limit({ key: `secret:${ip}` });
  if (success) return;
  if (blockedUntil.size >= MAX_TRACKED_IPS) blockedUntil.clear();
  blockedUntil.set(ip, now + BLOCK_MS);
  throw ApiError.rateLimited("too many failed secrets from this address");
}

/** Counts an authenticated socket handshake for the uid. */
export async function countConnect(env: Env, uid: string): Promise<void> {
  if (!env.CONNECT_LIMITER) return;
  const { success } = await env.CONNECT_LIMITER.limit({ key: `connect:${uid}` });
  if (!success) throw ApiError.rateLimited("too many connects for this user");
}
