import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { readSettings } from "../config";
import { renderDocsPage } from "../docs/render";
import { buildOpenApiDocument } from "../openapi/document";

// The docs page runs no scripts and loads nothing: this policy says so to the browser.
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function documentFor(url: string, env: AppEnv["Bindings"]) {
  return buildOpenApiDocument({ serverUrl: new URL(url).origin, settings: readSettings(env) });
}

/** GET /openapi.json and GET /docs: the contract, machine- and human-readable. */
export const docsRoutes = new Hono<AppEnv>()
  .get("/openapi.json", (c) => {
    c.set("errCode", 0);
    return c.json(documentFor(c.req.url, c.env));
  })
  .get("/docs", (c) => {
    c.set("errCode", 0);
    c.header("Content-Security-Policy", DOCS_CSP);
    return c.html(renderDocsPage(documentFor(c.req.url, c.env)));
  });
