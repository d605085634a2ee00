#!/usr/bin/env node
// Bundles the dev console's browser code (src/console/client/main.ts and what it imports: the SDK,
// protocol/) into dist/console/app.js.txt, which the worker imports as text and serves at
// /console/app.js while CONSOLE_ENABLED is true (docs/api.md#console). wrangler runs it before
// `wrangler dev` and `wrangler deploy` ([build] in wrangler.toml), vitest.config.ts before the tests.
// Plain .mjs, so it runs on whichever Node wrangler finds on PATH.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const ENTRY = root("src/console/client/main.ts");
const OUT = root("dist/console/app.js.txt");

const result = await build({
  entryPoints: [ENTRY],
  tsconfig: root("src/console/client/tsconfig.json"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  charset: "utf8",
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
const [output] = result.outputFiles;
if (!output) throw new Error("esbuild wrote nothing");

let previous;
try {
  previous = readFileSync(OUT, "utf8");
} catch {
  previous = undefined;
}
// Left alone when unchanged, so `wrangler dev` does not reload for nothing. Otherwise written
// whole, then renamed: a worker being bundled or a test starting meanwhile never reads half a file.
if (previous !== output.text) {
  mkdirSync(dirname(OUT), { recursive: true });
  const partial = `${OUT}.${process.pid}.tmp`;
  writeFileSync(partial, output.text);
  renameSync(partial, OUT);
}
