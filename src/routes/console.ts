import { type PresenceEventBody, SIGNATURE_HEADER, verifyWebhook } from "../../protocol";
import type { AppEnv } from "../app-env";
import { isOn } from "../config";
import { CONSOLE_SCRIPT } from "../console/app-script";
import { recentDeliveries, recordDelivery } from "../console/event-log";
import { renderConsolePage } from "../console/page";
import { factory } from "./factory";

// Same-origin only: the page talks to this worker (fetch and ws) and loads nothing else.
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Off unless CONSOLE_ENABLED is "true" (npm run dev sets it); off, it is a path like any unknown one. */
export function consoleEnabled(env: AppEnv["Bindings"]): boolean {
  return isOn(env, "CONSOLE_ENABLED");
}

const consoleHeaders = factory.createMiddleware(async (c, next) => {
  await next();
  c.header("Content-Security-Policy", CONSOLE_CSP);
  c.header("Cache-Control", "no-store");
});

/** GET /console: the dev console page. */
export const consolePage = factory.createHandlers(consoleHeaders, (c) => {
  c.set("errCode", 0);
  return c.html(renderConsolePage());
});

/** GET /console/app.js: its script, a file of its own so the page's CSP can forbid inline scripts. */
export const consoleScript = factory.createHandlers(consoleHeaders, (c) => {
  c.set("errCode", 0);
  return c.body(CONSOLE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" });
});

/**
 * POST /console/webhook: a receiver for the worker's own presence webhooks,
 * so a developer sees the payloads while trying the service. It checks the
 * signature as an AppServer would (the SDK's verifyWebhook) and keeps the
 * last deliveries; a body it cannot read is refused, which the queue retries.
 */
export const consoleWebhook = factory.createHandlers(async (c) => {
  const raw = await c.req.text();
  const verified = (await verifyWebhook(raw, c.req.header(SIGNATURE_HEADER), c.env.PRESENCE_WEBHOOK_SECRET ?? "")).ok;
  let body: PresenceEventBody;
  try {
    body = JSON.parse(raw) as PresenceEventBody;
  } catch {
    return c.text("not JSON", 400);
  }
  recordDelivery({ receivedAt: Date.now(), verified, events: body.events ?? [] });
  c.set("errCode", 0);
  return c.text("ok");
});

/** GET /console/events: what /console/webhook received, newest first. */
export const consoleEvents = factory.createHandlers(consoleHeaders, (c) => {
  c.set("errCode", 0);
  return c.json(recentDeliveries());
});
