// The shard's verify loop (src/presence/roster.ts, the code the object runs) with
// 10,000 and 100,000 simulated users in this Node process: its CPU per alarm, and
// what it decides, over simulated time. bench/simulation/shard.ts is bundled with
// esbuild (wrangler's own), since Node cannot import the worker's TypeScript as is.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";

const ROOT = new URL("../..", import.meta.url).pathname;

async function loadSimulation(workDir) {
  const outfile = join(workDir, "shard-simulation.mjs");
  mkdirSync(workDir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, "bench/simulation/shard.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    logLevel: "error",
  });
  return import(pathToFileURL(outfile).href);
}

/** Heap bytes per online user held by the shard's roster (with a forced GC before each reading). */
function heapPerUser(rosterOf, users) {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc");
  gc();
  const before = process.memoryUsage().heapUsed;
  const roster = rosterOf(users, 30_000);
  gc();
  const bytes = (process.memoryUsage().heapUsed - before) / users;
  return roster.size === users ? bytes : NaN;
}

export async function measureShardSimulation(ctx) {
  const { simulateShard, rosterOf } = await loadSimulation(ctx.workDir);
  const rows = [];
  for (const users of ctx.opts.simUsers) {
    const perAlarmCpuMs = [];
    let started;
    const result = simulateShard({
      users,
      heartbeatTimeoutMs: 30_000,
      pingEveryMs: 10_000,
      durationMs: ctx.opts.simDurationMs,
      silentUsers: Math.round(users / 100),
      onAlarm: (phase) => {
        if (phase === "start") started = process.cpuUsage();
        else {
          const used = process.cpuUsage(started);
          perAlarmCpuMs.push((used.user + used.system) / 1000);
        }
      },
    });
    perAlarmCpuMs.sort((a, b) => a - b);
    const at = (p) => perAlarmCpuMs[Math.min(perAlarmCpuMs.length - 1, Math.floor((p / 100) * perAlarmCpuMs.length))];
    rows.push({
      users,
      simulatedMs: ctx.opts.simDurationMs,
      heapBytesPerUser: heapPerUser(rosterOf, users),
      ...result,
      cpuMsPerAlarmP50: at(50),
      cpuMsPerAlarmP99: at(99),
      cpuMsPerAlarmMax: perAlarmCpuMs.at(-1),
    });
    ctx.log(`shard simulation: ${users} users, ${result.alarms} alarms, p50 ${at(50).toFixed(2)} ms CPU per alarm`);
  }
  return rows;
}
