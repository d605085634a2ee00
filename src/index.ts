import { Hono } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "./app-env";
import { ApiError, ErrCode, envelope } from "./errors";
import { gateway } from "./gateway";
import { operationIdForLog } from "./log-fields";
import { requestLog } from "./middleware/request-log";
import { authRoutes } from "./routes/auth";
import { consoleRoutes } from "./routes/console";
import { docsRoutes } from "./routes/docs";
import { userRoutes } from "./routes/user";

export { PresenceIndex } from "./presence/presence-index";
export { UserSession } from "./presence/user-session";

const app = new Hono<AppEnv>();

app.use(requestLog);
app.route("/auth", authRoutes);
app.route("/user", userRoutes);
app.route("/", docsRoutes);
app.route("/console", consoleRoutes);
app.route("/", gateway);
app.route("/ws", gateway);

// A known path with the wrong method is a 405 that says what is allowed.
const METHODS = {
  "/auth/user_register": "POST",
  "/auth/user_token": "POST",
  "/auth/force_logout": "POST",
  "/user/get_users_online_status": "POST",
  "/": "GET",
  "/ws": "GET",
} as const;
for (const [path, allowed] of Object.entries(METHODS)) {
  app.all(path, (c) => {
    c.set("errCode", ErrCode.methodNotAllowed);
    c.header("Allow", allowed);
    return c.json(envelope(ErrCode.methodNotAllowed, `method ${c.req.method} not allowed on ${path}; use ${allowed}`), 405);
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

export default app;
