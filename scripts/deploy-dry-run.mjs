#!/usr/bin/env node
// `npm run check`: bundles the worker as `wrangler deploy` would, without deploying or logging
// in, and prints the bundle size (total and gzip) so a change that bloats it shows in CI.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const outdir = mkdtempSync(join(tmpdir(), "imserver-dry-run-"));
try {
  const run = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
    encoding: "utf8",
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) {
    console.error(output);
    process.exit(run.status ?? 1);
  }
  const size = /Total Upload:[^\n]*/.exec(output)?.[0];
  console.log(size ? `bundle: ${size}` : output);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
