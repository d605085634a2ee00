import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { requireImSecrets } from "../config";
import { ApiError } from "../errors";
import { countFailedSecret, failedSecretKey } from "./abuse-limits";

const encoder = new TextEncoder();

const sha256 = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));

/**
 * Compares in constant time: every side is hashed to 32 bytes first, so
 * neither the content nor the length of a secret leaks through timing, and
 * the given secret is compared with every accepted one, so the time taken
 * does not tell which (if any) matched.
 */
export async function matchesAnySecret(given: string, accepted: readonly string[]): Promise<boolean> {
  const [givenDigest, ...acceptedDigests] = await Promise.all([given, ...accepted].map(sha256));
  if (!givenDigest) return false;
  let matched = false;
  for (const digest of acceptedDigests) matched = crypto.subtle.timingSafeEqual(givenDigest, digest) || matched;
  return matched;
}

/**
 * The AppServer secret is checked before any other field (docs/api.md#errors), and
 * before any limit: a correct secret is always served. Only failures are
 * counted (per calling Worker zone or address); past the limit a failure
 * gets 429 with Retry-After instead of 401.
 */
export const requireAppSecret = createMiddleware<AppEnv>(async (c, next) => {
  const accepted = requireImSecrets(c.env);
  const given = c.get("body").secret;
  if (typeof given !== "string" || given === "" || !(await matchesAnySecret(given, accepted))) {
    await countFailedSecret(c.env, failedSecretKey(c.req.raw));
    throw ApiError.notAuthorized();
  }
  await next();
});
