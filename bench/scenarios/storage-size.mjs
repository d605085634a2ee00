// Bytes per stored user, for docs/scale.md: the worker's own storage code
// (bench/simulation/storage-probe.ts) writes rows in Miniflare, which reports
// the database sizes. D1 gets the users table from migrations/.

import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const ROOT = new URL("../..", import.meta.url).pathname;

export async function measureStorage(ctx) {
  const dir = join(ctx.workDir, "storage-probe");
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "probe.mjs");
  await build({
    entryPoints: [join(ROOT, "bench/simulation/storage-probe.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    outfile: script,
    external: ["cloudflare:*"],
    logLevel: "error",
  });
  // In memory: the sizes come from the databases themselves, not from files.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      scriptPath: script,
      compatibilityDate: "2026-11-01",
      d1Databases: { DB: "probe" },
      durableObjects: { SHARD: { className: "ShardProbe", useSQLite: true } },
    }),
  );
  try {
    const db = await mf.getD1Database("DB");
    for (const file of readdirSync(join(ROOT, "migrations"))
      .filter((f) => f.endsWith(".sql"))
      .sort()) {
      await db.exec(
        readFileSync(join(ROOT, "migrations", file), "utf8")
          .replace(/--[^\n]*\n/g, " ")
          .replace(/\s+/g, " "),
      );
    }
    const n = ctx.opts.storageRows;
    const get = async (path) => (await mf.dispatchFetch(`http://probe${path}`)).json();
    const typical = await get(`/users?n=${n}`);
    const largest = await get(`/users/largest?n=${n}`);
    const shard = await get(`/shard?n=${n}`);
    const result = {
      rows: n,
      d1BytesPerTypicalUser: (typical.after - typical.before) / n,
      d1BytesPerLargestUser: (largest.after - largest.before) / n,
      shardBytesPerOnlineUser: (shard.online - shard.empty) / n,
      shardBytesPerOfflineUser: (shard.offline - shard.online) / n,
    };
    ctx.log(`storage: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await mf.dispose();
  }
}
