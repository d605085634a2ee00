import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { requireImSecret } from "../config";
import { ApiError } from "../errors";
import { assertNotBlocked, clientIp, countFailedSecret } from "./abuse-limits";

const encoder = new TextEncoder();

/**
 * Compares in constant time: both sides are hashed to 32 bytes first, so
 * neither the content nor the length of the secret leaks through timing.
 */
export async function secretsMatch(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all(
    [given, expected].map((s) => crypto.subtle.digest("SHA-256", encoder.encode(s))),
  );
  return crypto.subtle.timingSafeEqual(a!, b!);
}

/**
 * The AppServer secret is checked before any other field (SPEC §1). Failed
 * attempts are counted per client address; past the limit that address gets 429.
 */
export const requireAppSecret = createMiddleware<AppEnv>(async (c, next) => {
  const expected = requireImSecret(c.env);
  const ip = clientIp(c.req.raw);
  assertNotBlocked(ip);
  const given = c.get("body").secret;
  if (typeof given !== "string" || given === "" || !(await secretsMatch(given, expected))) {
    await countFailedSecret(c.env, ip);
    throw ApiError.notAuthorized();
  }
  await next();
});
