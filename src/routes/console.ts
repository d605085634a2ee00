import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { CONSOLE_SCRIPT } from "../console/app-script";
import { renderConsolePage } from "../console/page";

// Same-origin only: the page talks to this worker (fetch and ws) and loads nothing else.
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Off unless CONSOLE_ENABLED is "true" (npm run dev sets it); off, it is a path like any unknown one. */
function consoleEnabled(env: AppEnv["Bindings"]): boolean {
  return env.CONSOLE_ENABLED === "true";
}

/** GET /console and /console/app.js: the dev console. */
export const consoleRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    if (!consoleEnabled(c.env)) return c.notFound();
    await next();
    c.header("Content-Security-Policy", CONSOLE_CSP);
    c.header("Cache-Control", "no-store");
  })
  .get("/", (c) => {
    c.set("errCode", 0);
    return c.html(renderConsolePage());
  })
  .get("/app.js", (c) => {
    c.set("errCode", 0);
    return c.body(CONSOLE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  });
