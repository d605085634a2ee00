/// <reference types="node" />
// `npm run lint:openapi`: lints the OpenAPI document the worker serves at /openapi.json with
// Redocly, under the rules of redocly.yaml (docs/api.md#openapijson). Exit status: Redocly's.
//
// It starts no server. The worker is bundled as wrangler would bundle it and its own fetch
// handler is asked for GET /openapi.json, with no vars set (every default). The one import Node
// lacks, the Durable Object base class of `cloudflare:workers`, is replaced by an empty class:
// the object classes are only declared on this path, never constructed.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The origin `npm run dev` serves on; the document names it in `servers`. */
const ORIGIN = "http://localhost:8787";
const REDOCLY = join(dirname(createRequire(import.meta.url).resolve("@redocly/cli/package.json")), "bin", "cli.js");

interface WorkerModule {
  default: { fetch(request: Request, env: Record<string, string>): Promise<Response> };
}

const stubDurableObject: Plugin = {
  name: "stub-cloudflare-workers",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^cloudflare:workers$/ }, () => ({ path: "cloudflare:workers", namespace: "stub" }));
    esbuild.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }",
      loader: "js",
    }));
  },
};

async function servedDocument(dir: string): Promise<string> {
  const bundle = join(dir, "worker.mjs");
  await build({
    entryPoints: [join(ROOT, "src", "index.ts")],
    outfile: bundle,
    bundle: true,
    format: "esm",
    platform: "neutral",
    // The package exports wrangler picks for the Workers runtime.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "warning",
    plugins: [stubDurableObject],
  });
  const worker = ((await import(pathToFileURL(bundle).href)) as WorkerModule).default;
  // The request log line is the worker's, not this script's output.
  const log = console.log;
  console.log = () => {};
  try {
    const response = await worker.fetch(new Request(`${ORIGIN}/openapi.json`), {});
    const body = await response.text();
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}: ${body}`);
    return body;
  } finally {
    console.log = log;
  }
}

const dir = mkdtempSync(join(tmpdir(), "imserver-openapi-"));
try {
  const document = join(dir, "openapi.json");
  writeFileSync(document, await servedDocument(dir));
  const lint = spawnSync(process.execPath, [REDOCLY, "lint", document, "--config", join(ROOT, "redocly.yaml")], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
  process.exitCode = lint.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
