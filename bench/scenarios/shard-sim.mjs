// The shard's verify loop (src/presence/roster.ts, the code the object runs) with
// 10,000 and 100,000 simulated users in this Node process: its CPU per alarm, and
// what it decides, over simulated time. bench/simulation/shard.ts is bundled with
// esbuild (wrangler's own), since Node cannot import the worker's TypeScript as is.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

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

export async function measureShardSimulation(ctx) {
  const { simulateShard } = await loadSimulation(ctx.workDir);
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
    rows.push({ users, simulatedMs: ctx.opts.simDurationMs, ...result, cpuMsPerAlarmP50: at(50), cpuMsPerAlarmP99: at(99), cpuMsPerAlarmMax: perAlarmCpuMs.at(-1) });
    ctx.log(`shard simulation: ${users} users, ${result.alarms} alarms, p50 ${at(50).toFixed(2)} ms CPU per alarm`);
  }
  return rows;
}
