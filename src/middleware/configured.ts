import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { requireWebhook } from "../config";

/**
 * Settings that fail closed for every AppServer call and socket handshake,
 * not only where they are used: with PRESENCE_WEBHOOK_URL set, a missing or
 * weak PRESENCE_WEBHOOK_SECRET is a 500 naming it (docs/webhooks.md).
 */
export const requireConfigured = createMiddleware<AppEnv>(async (c, next) => {
  requireWebhook(c.env);
  await next();
});
