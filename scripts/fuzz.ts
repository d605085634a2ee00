// `npm run fuzz -- [--url http://localhost:8787] [--runs 3000] [--secret tuoyun]`
// Sends generated hostile requests to a running worker (e.g. `npm run dev`) and
// fails if any answer is a 5xx or not the JSON envelope (docs/api.md#errors). Loopback targets only.

import { parseArgs } from "node:util";
import fc from "fast-check";
import { brokenBodies, hostileBodies } from "../test/arbitraries.ts";

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://localhost:8787" },
    runs: { type: "string", default: "3000" },
    secret: { type: "string", default: "tuoyun" },
    concurrency: { type: "string", default: "8" },
  },
});
const base = new URL(values.url);
if (!["localhost", "127.0.0.1", "[::1]"].includes(base.hostname)) {
  throw new Error(`refusing to fuzz ${base.hostname}: loopback only`);
}
const runs = Number(values.runs);

const routes = hostileBodies(values.secret);
const paths = Object.keys(routes) as (keyof typeof routes)[];
const request = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(...paths)
      .chain((path) => routes[path].map((body) => ({ path, body: JSON.stringify(body) }))),
  },
  { weight: 1, arbitrary: fc.record({ path: fc.constantFrom(...paths), body: brokenBodies }) },
);
const samples = fc.sample(request, runs);

const byStatus = new Map<number, number>();
const failures: string[] = [];
let next = 0;
async function worker(): Promise<void> {
  while (next < samples.length) {
    const { path, body } = samples[next++]!;
    // A spread of client addresses, so the failed-secret limit (per address) does not
    // turn the whole run into 429s. `wrangler dev` passes this header through; the edge sets it.
    const response = await fetch(new URL(path, base), {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": `127.0.${(next >> 8) & 255}.${next & 255}` },
      body,
    });
    const text = await response.text();
    byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    let envelope = false;
    try {
      const parsed = JSON.parse(text) as { errCode?: unknown; errMsg?: unknown };
      envelope = typeof parsed.errCode === "number" && typeof parsed.errMsg === "string";
    } catch {
      envelope = false;
    }
    if (response.status >= 500 || !envelope)
      failures.push(`${response.status} ${path} ${body.slice(0, 200)} -> ${text.slice(0, 200)}`);
  }
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));

console.log(`sent ${samples.length} generated requests to ${base.origin}`);
console.log("by status:", Object.fromEntries([...byStatus].sort(([a], [b]) => a - b)));
if (failures.length) {
  console.error(`${failures.length} answers were 5xx or not an envelope:\n${failures.slice(0, 20).join("\n")}`);
  process.exit(1);
}
console.log("no 5xx, every answer an envelope");
