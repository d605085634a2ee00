import { ApiError } from "../errors";

/**
 * Abuse limits on top of Cloudflare's Rate Limiting binding. The binding
 * only counts; what a count means is decided here.
 */

/** The `period` of both [[ratelimits]] in wrangler.toml (the binding cannot report it): a 429's Retry-After. */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

// Longest DNS name: a zone in CF-Worker is never longer, so nothing longer is worth a counter key.
const MAX_KEY_PART = 253;

/**
 * Whom a failed secret is counted against. Cross-zone Worker subrequests all
 * arrive from one shared address and name their zone in CF-Worker, so that
 * header, when present, keeps neighbouring Workers apart; otherwise the
 * address Cloudflare reports. A forged header only changes which counter a
 * guesser fills, never whether a correct secret is served.
 */
export function failedSecretKey(request: Request): string {
  const zone = request.headers.get("CF-Worker");
  if (zone) return `secret:worker:${zone.slice(0, MAX_KEY_PART)}`;
  return `secret:ip:${(request.headers.get("CF-Connecting-IP") ?? "unknown").slice(0, MAX_KEY_PART)}`;
}

/**
 * Counts a failed secret. Past the limit this failed attempt is answered 429
 * instead of 401. Only failures are counted and only failures are refused:
 * nobody can lock a caller with the right secret out.
 */
export async function countFailedSecret(env: Env, key: string): Promise<void> {
  if (!env.FAILED_SECRET_LIMITER) return;
  const { success } = await env.FAILED_SECRET_LIMITER.limit({ key });
  if (!success) throw ApiError.rateLimited("too many failed secrets from this caller", RATE_LIMIT_PERIOD_SECONDS);
}

/**
 * Counts a socket handshake against its token's own budget (by jti, once the
 * signature checked out). A per-uid count would let a retired token, which
 * only its user's object can tell apart, use up the user's fresh tokens'
 * allowance; per token, a client looping on one token is still stopped here,
 * before it reaches the object, whether that token is live or retired.
 */
export async function countHandshake(env: Env, jti: string): Promise<void> {
  if (!env.CONNECT_LIMITER) return;
  const { success } = await env.CONNECT_LIMITER.limit({ key: `connect:${jti}` });
  if (!success) throw ApiError.rateLimited("too many handshakes with this token", RATE_LIMIT_PERIOD_SECONDS);
}
