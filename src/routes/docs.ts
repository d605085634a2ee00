import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { readSettings } from "../config";
import { renderDocsPage } from "../docs/render";
import { buildOpenApiDocument, type OpenApiDocument } from "../openapi/document";

// The docs page runs no scripts and loads nothing: this policy says so to the browser.
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Built once per settings and origin: the document only changes with them.
const documents = new WeakMap<object, Map<string, OpenApiDocument>>();

function documentFor(url: string, env: AppEnv["Bindings"]): OpenApiDocument {
  const settings = readSettings(env);
  const origin = new URL(url).origin;
  let byOrigin = documents.get(settings);
  if (!byOrigin) documents.set(settings, (byOrigin = new Map()));
  let document = byOrigin.get(origin);
  if (!document) {
    if (byOrigin.size >= 16) byOrigin.clear(); // hostnames are few; never let a Host header grow this
    byOrigin.set(origin, (document = buildOpenApiDocument({ serverUrl: origin, settings })));
  }
  return document;
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
