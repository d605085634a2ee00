import type { AppEnv } from "../app-env";
import { readSettings } from "../config";
import { renderDocsPage } from "../docs/render";
import { getOrInsertComputed } from "../lib/maps";
import { buildOpenApiDocument, type OpenApiDocument } from "../openapi/document";
import { factory } from "./factory";
import type { RouteEntry } from "./route-entry";

// The docs page runs no scripts and loads nothing: this policy says so to the browser.
const DOCS_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Built once per settings and origin: the document only changes with them.
const documents = new WeakMap<object, Map<string, OpenApiDocument>>();

function documentFor(url: string, env: AppEnv["Bindings"], routes: readonly RouteEntry[]): OpenApiDocument {
  const settings = readSettings(env);
  const origin = new URL(url).origin;
  const byOrigin = getOrInsertComputed(documents, settings, () => new Map<string, OpenApiDocument>());
  // Hostnames are few; never let a Host header grow this.
  if (!byOrigin.has(origin) && byOrigin.size >= 16) byOrigin.clear();
  return getOrInsertComputed(byOrigin, origin, () => buildOpenApiDocument({ serverUrl: origin, settings, routes }));
}

/** GET /openapi.json, from the route table (passed in: the table lists this route too). */
export function openApiJson(routes: () => readonly RouteEntry[]) {
  return factory.createHandlers((c) => {
    c.set("errCode", 0);
    return c.json(documentFor(c.req.url, c.env, routes()));
  });
}

/** GET /docs: the same document, as a page. */
export function docsPage(routes: () => readonly RouteEntry[]) {
  return factory.createHandlers((c) => {
    c.set("errCode", 0);
    c.header("Content-Security-Policy", DOCS_CSP);
    return c.html(renderDocsPage(documentFor(c.req.url, c.env, routes())));
  });
}
