import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../app-env";
import { operationIdForLog } from "../log-fields";

/**
 * One JSON line per request. It names the route, never the URL: the socket
 * URL carries a token, and bodies (with secrets) are never logged. The
 * operationID comes from the client unchecked, so it is cut to its limit.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = Date.now();
  await next();
  console.log(
    JSON.stringify({
      level: "info",
      method: c.req.method,
      route: routePath(c, -1) || "(none)",
      status: c.res.status,
      errCode: c.get("errCode") ?? (c.res.status === 101 ? 0 : undefined),
      durationMs: Date.now() - started,
      operationID: operationIdForLog(c.get("operationID")),
    }),
  );
});
