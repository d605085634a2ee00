import { type OpenApiDocument, type OpenApiOperation, resolveResponse } from "../openapi/document";
import { escapeHtml as e, renderProse } from "./html";

type Json = Record<string, unknown>;

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1d2330}
code{background:#eef1f5;padding:0 .25em;border-radius:3px}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #d5dae1;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f9}
section.op{border-top:2px solid #d5dae1;margin-top:1.5rem}
.method{font-weight:700;text-transform:uppercase;margin-right:.5rem}
nav a{margin-right:1rem}
`;

/** "string, 1–64 chars" etc.: the limits a schema states, in words. */
function describeType(schema: Json): string {
  const parts: string[] = [];
  if (schema.const !== undefined) return `exactly ${JSON.stringify(schema.const)}`;
  if (typeof schema.type === "string") parts.push(schema.type);
  if (Array.isArray(schema.enum)) parts.push(`one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`);
  if (typeof schema.minLength === "number") parts.push(`min ${schema.minLength} chars`);
  if (typeof schema.maxLength === "number") parts.push(`max ${schema.maxLength} chars`);
  if (typeof schema["x-maxBytes"] === "number") parts.push(`max ${schema["x-maxBytes"]} bytes (UTF-8)`);
  if (typeof schema.minimum === "number") parts.push(`min ${schema.minimum}`);
  if (typeof schema.maximum === "number") parts.push(`max ${schema.maximum}`);
  if (typeof schema.maxItems === "number") parts.push(`max ${schema.maxItems} items`);
  if (typeof schema.pattern === "string") parts.push(`pattern ${schema.pattern}`);
  const items = schema.items as Json | undefined;
  if (items) parts.push(`of ${describeType(items)}`);
  return parts.join(", ");
}

function rulesOf(schema: Json): string[] {
  const own = Array.isArray(schema["x-rules"]) ? (schema["x-rules"] as string[]) : [];
  const items = schema.items as Json | undefined;
  return items ? [...own, ...rulesOf(items).map((rule) => `each: ${rule}`)] : own;
}

interface FieldRow {
  name: string;
  required: boolean;
  schema: Json;
  description?: string | undefined;
}

function fieldTable(rows: FieldRow[]): string {
  const body = rows
    .map(
      (row) =>
        `<tr><td><code>${e(row.name)}</code></td><td>${row.required ? "yes" : "no"}</td><td>${e(describeType(row.schema))}</td>` +
        `<td>${rulesOf(row.schema).map(e).join("<br>")}</td><td>${e(row.description ?? "")}</td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>field</th><th>required</th><th>type and limits</th><th>rules (as a 400 words them)</th><th>meaning</th></tr></thead><tbody>${body}</tbody></table>`;
}

function resolve(doc: OpenApiDocument, schema: Json): Json {
  const target = typeof schema.$ref === "string" ? schema.$ref.split("/").pop() : undefined;
  return target ? (doc.components.schemas[target] ?? schema) : schema;
}

function requestFields(doc: OpenApiDocument, op: OpenApiOperation): string {
  if (op.parameters) {
    return fieldTable(
      op.parameters.map((p) => ({
        name: `${p.name} (${p.in})`,
        required: p.required,
        schema: p.schema,
        description: p.description,
      })),
    );
  }
  const schema = op.requestBody && resolve(doc, op.requestBody.content["application/json"].schema);
  if (!schema) return "";
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return fieldTable(
    Object.entries(properties).map(([name, property]) => ({
      name,
      required: required.has(name),
      schema: property,
      description: typeof property.description === "string" ? property.description : undefined,
    })),
  );
}

function responseTable(doc: OpenApiDocument, op: OpenApiOperation): string {
  const rows = Object.entries(op.responses)
    .map(
      ([status, response]) =>
        `<tr><td>${e(status)}</td><td>${renderProse(resolveResponse(doc, response).description)}</td></tr>`,
    )
    .join("");
  return `<table><thead><tr><th>HTTP</th><th>meaning</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function operationSection(doc: OpenApiDocument, path: string, method: string, op: OpenApiOperation): string {
  return `<section class="op" id="${e(op.operationId)}">
<h3><span class="method">${e(method)}</span><code>${e(path)}</code> — ${e(op.summary)}</h3>
${renderProse(op.description)}
<h4>Request</h4>${requestFields(doc, op)}
<h4>Answers</h4>${responseTable(doc, op)}
</section>`;
}

/** The human docs page: rendered on the server from the same document /openapi.json serves, no scripts. */

/** One of each frame a session sends and gets, as a client would see them (docs/protocol.md). */
const FRAME_EXAMPLES = [
  '{"type":"subscribe","userIDs":["u2","u3"]}',
  '{"type":"unsubscribe","userIDs":["u2"]}',
  '{"type":"set","background":true}',
  '{"type":"set","customStatus":{"text":"In a meeting","expiresAt":1764300000}}',
  '{"type":"presence","users":[{"userID":"u2","status":"online","platforms":["IOS","Web"],"background":["IOS"],"seq":17},{"userID":"u3","status":"offline","lastSeen":1764300000123,"customStatus":{"text":"On holiday"},"seq":4}]}',
  '{"type":"error","errCode":400,"errMsg":"…"}',
];

export function renderDocsPage(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op: op as OpenApiOperation })),
  );
  const nav = operations
    .map(({ path, method, op }) => `<a href="#${e(op.operationId)}">${e(method.toUpperCase())} ${e(path)}</a>`)
    .join("");
  const errorRows = doc["x-error-codes"]
    .map((c) => `<tr><td>${c.code}</td><td>${c.statuses.join(", ")}</td><td>${e(c.meaning)}</td></tr>`)
    .join("");
  const limitRows = Object.entries(doc["x-limits"])
    .map(([name, value]) => `<tr><td><code>${e(name)}</code></td><td>${value}</td></tr>`)
    .join("");
  const closeRows = doc["x-websocket"].closeCodes
    .map((c) => `<tr><td>${c.code}</td><td>${e(c.name)}</td><td>${e(c.meaning)}</td></tr>`)
    .join("");
  const platformRows = Object.entries(doc["x-platforms"])
    .map(([id, name]) => `<tr><td>${e(id)}</td><td><code>${e(name)}</code></td></tr>`)
    .join("");
  const { heartbeat, frames } = doc["x-websocket"];

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(doc.info.title)} — API</title><style>${STYLE}</style></head>
<body>
<h1>${e(doc.info.title)} <small>API ${e(doc.info.version)}</small></h1>
<p>${e(doc.info.summary)} Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${e(doc.openapi)}).</p>
<nav>${nav}</nav>
${renderProse(doc.info.description)}
<h2 id="errors">Error codes</h2>
<table><thead><tr><th>errCode</th><th>HTTP</th><th>meaning</th></tr></thead><tbody>${errorRows}</tbody></table>
<h2 id="limits">Limits</h2>
<table><thead><tr><th>limit</th><th>value</th></tr></thead><tbody>${limitRows}</tbody></table>
<h2 id="platforms">Platforms</h2>
<table><thead><tr><th>id</th><th>name</th></tr></thead><tbody>${platformRows}</tbody></table>
<h2 id="websocket">WebSocket sessions</h2>
<p>Connect at ${doc["x-websocket"].paths.map((p) => `<code>${e(p)}</code>`).join(" or ")}. Send <code>${e(heartbeat.send)}</code> right after opening and then regularly; the server answers <code>${e(heartbeat.answer)}</code>. Silence for ${heartbeat.timeoutSeconds} s closes the session.</p>
<table><thead><tr><th>close code</th><th>name</th><th>meaning</th></tr></thead><tbody>${closeRows}</tbody></table>
<h3 id="presence-subscriptions">Presence subscriptions and your own presence</h3>
<p>${e(frames.description)} At most ${frames.limits.idsPerFrame} ids per frame and ${frames.limits.watchedPerSocket} per socket.</p>
<pre>${e(FRAME_EXAMPLES.join("\n"))}</pre>
<h2 id="routes">Routes</h2>
${operations.map(({ path, method, op }) => operationSection(doc, path, method, op)).join("\n")}
</body></html>`;
}
