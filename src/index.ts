import { Hono } from "hono";
import { routePath } from "hono/route";
import type { PresenceEvent } from "../protocol";
import { ErrCode } from "../protocol";
import type { AppEnv } from "./app-env";
import type { WorkerEnv } from "./config";
import { ApiError, envelope } from "./errors";
import { deliverPresenceEvents, isDeadLetterQueue, logDeadLettered } from "./events/deliver";
import { operationIdForLog } from "./log-fields";
import { requestLog } from "./middleware/request-log";
import { factory } from "./routes/factory";
import type { RouteEntry } from "./routes/route-entry";
import { ROUTE_TABLE } from "./routes/table";

export { PresenceShard } from "./presence/shard";
export { UserSession } from "./presence/user-session";

const app = new Hono<AppEnv>();

app.use(requestLog);

/** A route that is switched off answers exactly like a path that does not exist. */
function unlessEnabled(entry: RouteEntry) {
  return factory.createMiddleware(async (c, next) => {
    if (entry.enabled && !entry.enabled(c.env)) return c.notFound();
    await next();
  });
}

for (const entry of ROUTE_TABLE) {
  app.on(entry.route.method, entry.route.path, unlessEnabled(entry), ...entry.handlers);
}

// A known path with the wrong method is a 405 that says what is allowed.
const methodsByPath = new Map<string, { methods: string[]; entry: RouteEntry }>();
for (const entry of ROUTE_TABLE) {
  const known = methodsByPath.get(entry.route.path);
  if (known) known.methods.push(entry.route.method);
  else methodsByPath.set(entry.route.path, { methods: [entry.route.method], entry });
}
for (const [path, { methods, entry }] of methodsByPath) {
  // Hono answers HEAD with the GET handler (and no body), so a path that takes GET takes HEAD too (RFC 9110 §9.3.2).
  const allowed = (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");
  app.all(path, unlessEnabled(entry), (c) => {
    c.set("errCode", ErrCode.methodNotAllowed);
    c.header("Allow", allowed);
    return c.json(
      envelope(ErrCode.methodNotAllowed, `method ${c.req.method} not allowed on ${path}; use ${allowed}`),
      405,
    );
  });
}

app.notFound((c) => {
  c.set("errCode", ErrCode.notFound);
  return c.json(envelope(ErrCode.notFound, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404);
});

app.onError((error, c) => {
  if (error instanceof ApiError) {
    c.set("errCode", error.errCode);
    return c.json(envelope(error.errCode, error.errMsg), error.status, error.headers);
  }
  // Anything else is our fault: log it with the operationID, answer generically.
  console.error(
    JSON.stringify({
      level: "error",
      event: "unhandled_error",
      operationID: operationIdForLog(c.get("operationID")),
      route: routePath(c, -1) || "(none)",
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    }),
  );
  const internal = ApiError.internal();
  c.set("errCode", internal.errCode);
  return c.json(envelope(internal.errCode, internal.errMsg), 500);
});

/** The HTTP app, and the consumer of the presence-events queue and its dead-letter queue. */
export default {
  fetch: app.fetch,
  async queue(batch: MessageBatch<PresenceEvent>, env: WorkerEnv): Promise<void> {
    if (isDeadLetterQueue(batch.queue)) logDeadLettered(batch);
    else await deliverPresenceEvents(batch, env);
  },
} satisfies ExportedHandler<WorkerEnv, PresenceEvent>;

export { app };
