import { bodyLimit } from "hono/body-limit";
// The console's browser code (src/console/client), bundled as text by scripts/build-console.mjs, which
// wrangler runs before it bundles the worker ([build] in wrangler.toml) and vitest.config.ts before the tests.
import CONSOLE_SCRIPT from "../../dist/console/app.js.txt";
import { ErrCode, SIGNATURE_HEADER, verifyWebhook } from "../../protocol";
import type { AppEnv } from "../app-env";
import { isOn } from "../config";
import { recentDeliveries, recordDelivery } from "../console/event-log";
import { renderConsolePage } from "../console/page";
import { ApiError, envelope } from "../errors";
import { presenceEventBodySchema } from "../openapi/responses";
import { describeIssues } from "../schemas";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

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

/** The largest delivery the console's receiver reads; the worker's bodies (100 events at most) are far smaller. */
const MAX_CONSOLE_WEBHOOK_BYTES = 1_048_576;

// Counted as it streams when there is no Content-Length: a larger body is refused, never buffered whole.
const limitWebhookBody = bodyLimit({
  maxSize: MAX_CONSOLE_WEBHOOK_BYTES,
  onError: () => {
    throw new ApiError(413, ErrCode.tooLarge, `request body too large: at most ${MAX_CONSOLE_WEBHOOK_BYTES} bytes`);
  },
});

/**
 * POST /console/webhook: a receiver for the worker's own presence webhooks,
 * so a developer sees the payloads while trying the service. It checks the
 * signature as any AppServer must (the SDK's verifyWebhook) and keeps only
 * deliveries that pass; anything refused is answered non-2xx, which the
 * queue retries.
 */
export const consoleWebhook = factory.createHandlers(limitWebhookBody, async (c) => {
  const secret = c.env.PRESENCE_WEBHOOK_SECRET;
  // Without it no forgery could be told apart (npm run dev writes one to .dev.vars).
  if (!secret) throw ApiError.misconfigured("PRESENCE_WEBHOOK_SECRET");
  const raw = await c.req.text();
  const check = await verifyWebhook(raw, c.req.header(SIGNATURE_HEADER), secret);
  if (!check.ok) throw new ApiError(401, ErrCode.notAuthorized, `${SIGNATURE_HEADER}: ${check.reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw ApiError.badRequest("body is not valid JSON");
  }
  const body = presenceEventBodySchema.safeParse(parsed);
  if (!body.success) throw ApiError.badRequest(describeIssues(body.error));
  recordDelivery({ receivedAt: Date.now(), events: body.data.events });
  c.set("errCode", 0);
  return c.json(envelope(0, ""));
});

/**
 * POST /console/events: what /console/webhook received, newest first. The
 * events name users and their devices, so they go only to a caller with the
 * AppServer secret, checked like on every AppServer route.
 */
export const consoleEvents = factory.createHandlers(consoleHeaders, appServerRequest, (c) => {
  c.set("errCode", 0);
  return c.json(envelope(0, "", { data: recentDeliveries() }));
});
