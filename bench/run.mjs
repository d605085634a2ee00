#!/usr/bin/env node
// `npm run bench`: starts the worker locally (wrangler dev on a port in
// 8790-8799 or BENCH_PORTS, a temp persist dir, migrations applied, random secrets), runs
// every scenario, prints the table and writes bench/RESULTS.md. With any of these options it
// writes bench/.tmp/RESULTS.partial.md instead, so only a full default run is ever recorded:
//   --quick          small counts and short blocks, to check the harness
//   --only=a,b       run some phases: sim, storage, cost, subs, state, stall, manage, grants, warm, connect, offline, cold, many, crash
//   --var NAME:value extra worker var for every phase, to try a variant (e.g. --var PRESENCE_SHARDS:4)
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Api } from "./lib/api.mjs";
import { HttpClient } from "./lib/http.mjs";
import { DevServer, migrate, stopAllServers } from "./lib/server.mjs";
import { writeResults } from "./results.mjs";
import { measureCost } from "./scenarios/cost.mjs";
import { crashCheck } from "./scenarios/crash-check.mjs";
import { measureGrants } from "./scenarios/grants.mjs";
import { measureWarmHttp } from "./scenarios/http-warm.mjs";
import { measureManageCost } from "./scenarios/manage-cost.mjs";
import { measureManySockets, measureReferenceSockets, socketShape } from "./scenarios/many-sockets.mjs";
import { buildPopulation, disconnectOnline } from "./scenarios/population.mjs";
import { measureShardSimulation } from "./scenarios/shard-sim.mjs";
import { measureConnectRate, measureOfflineAfterClose } from "./scenarios/sockets.mjs";
import { measureStall, measureStallCost } from "./scenarios/stall.mjs";
import { measureStateCost, measureSteadyWithState } from "./scenarios/state-cost.mjs";
import { measureColdStatus } from "./scenarios/status-cold.mjs";
import { measureStorage } from "./scenarios/storage-size.mjs";
import { measureChangeCost, measureSteadyWithSubs } from "./scenarios/subs-cost.mjs";
import { measureDeltaLatency } from "./scenarios/subs-latency.mjs";

const BENCH_DIR = new URL(".", import.meta.url).pathname;
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
const runs = (phase) => !only || only.includes(phase);
const extraVars = Object.fromEntries(
  args.flatMap((a, i) => (a === "--var" && args[i + 1] ? [args[i + 1].split(/:(.*)/s).slice(0, 2)] : [])),
);

// Cost windows per HEARTBEAT_TIMEOUT (ms → window ms): several verify cycles each.
const opts = quick
  ? {
      storageRows: 1_000,
      simUsers: [10_000],
      simDurationMs: 120_000,
      costUsers: 5,
      costWindows: { 30000: 40_000 },
      idleWindowMs: 20_000,
      costPairs: 5,
      subs: {
        latency: { watchers: 5, subjects: 2, rounds: 3 },
        counts: [1, 10, 50],
        mesh: { users: 30, each: 10 },
        steady: [{ users: 10, each: 9 }],
        steadyWindowMs: 30_000,
      },
      state: { watchers: [0, 10], steady: { users: 5, windowMs: 60_000 } },
      stall: {
        kinds: ["emoji", "ascii"],
        platforms: [1, 2, 3, 4, 5, 6, 7],
        idsPerSocket: 600,
        samples: 10,
        slotMs: 1_000,
        readTimeoutMs: 10_000,
        attackCapMs: 60_000,
        setupTimeoutMs: 60_000,
        counts: [10, 600],
        cpuPairs: 4,
        costChurnMs: 10_000,
        unknownShards: 64,
      },
      manage: { watchers: 10, shards: 4 },
      grants: {
        change: { watchers: 10 },
        latency: { subjects: 200, watchers: 20, samples: 20, warmup: 4 },
        hidden: { ids: 200, watchers: 20, samples: 20, warmup: 2, shardCounts: [1] },
        steady: { users: 30, each: 10, windowMs: 30_000 },
      },
      rounds: 1,
      blockMs: 800,
      population: 30,
      coldRepeats: 1,
      evictedRepeats: 2,
      connectsAtOne: 30,
      connectsAt32: 100,
      offlineRepeats: 3,
      manyUsers: 50,
      holdMs: 5_000,
      crashUsers: 10,
      crashTimeoutMs: 15_000,
    }
  : {
      storageRows: 10_000,
      simUsers: [10_000, 100_000],
      simDurationMs: 600_000,
      costUsers: 20,
      costWindows: { 30000: 240_000, 60000: 300_000, 120000: 360_000 },
      idleWindowMs: 120_000,
      costPairs: 20,
      subs: {
        latency: { watchers: 20, subjects: 5, rounds: 10 },
        counts: [1, 100, 3_000],
        mesh: { users: 1_000, each: 300 },
        steady: [
          { users: 20, each: 19 },
          { users: 1_000, each: 300 },
        ],
        steadyWindowMs: 120_000,
      },
      state: { watchers: [0, 100], steady: { users: 20, windowMs: 240_000 } },
      stall: {
        kinds: ["emoji", "ascii"],
        platforms: [1, 2, 3, 4, 5, 6, 7],
        idsPerSocket: 2_999,
        samples: 40,
        slotMs: 3_000,
        readTimeoutMs: 30_000,
        attackCapMs: 300_000,
        setupTimeoutMs: 120_000,
        counts: [10, 1_000, 3_000],
        cpuPairs: 9,
        costChurnMs: 30_000,
        unknownShards: 64,
      },
      manage: { watchers: 100, shards: 40 },
      grants: {
        change: { watchers: 100 },
        latency: { subjects: 200, watchers: 20, samples: 200, warmup: 20 },
        hidden: { ids: 200, watchers: 20, samples: 300, warmup: 10, shardCounts: [1, 4] },
        steady: { users: 1_000, each: 300, windowMs: 120_000 },
      },
      rounds: 3,
      blockMs: 3_000,
      population: 200,
      coldRepeats: 3,
      evictedRepeats: 9,
      connectsAtOne: 200,
      connectsAt32: 1_000,
      offlineRepeats: 10,
      manyUsers: 1_000,
      holdMs: 40_000,
      crashUsers: 50,
      crashTimeoutMs: 30_000,
    };

const runId = `b${Date.now().toString(36)}`;
const workDir = join(BENCH_DIR, ".tmp", runId);
const persistDir = join(workDir, "state");
mkdirSync(persistDir, { recursive: true });
const started = Date.now();
const log = (message) => console.log(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${message}`);

// Production-like: random secrets, default vars unless a phase says otherwise.
const secrets = { IM_SECRET: randomBytes(12).toString("hex"), TOKEN_SIGNING_KEY: randomBytes(32).toString("hex") };

const ctx = {
  runId,
  opts,
  log,
  workDir,
  secrets,
  server: undefined,
  api: undefined,
  vars: {},
  async startServer() {
    ctx.server = await new DevServer({
      persistDir,
      vars: { ...secrets, ...extraVars, ...ctx.vars },
      logFile: join(workDir, "wrangler.log"),
    }).start();
    ctx.api?.client.close();
    ctx.api = new Api(new HttpClient(ctx.server.url), secrets.IM_SECRET);
    return ctx.server;
  },
  async restartServer({ crash = false } = {}) {
    if (crash) await ctx.server.crash();
    else await ctx.server.stop();
    return ctx.startServer();
  },
  async withVars(vars) {
    await ctx.server?.stop();
    ctx.vars = vars;
    await ctx.startServer();
  },
};

const results = { started: new Date(started).toISOString(), opts, quick, only, extraVars };

async function main() {
  migrate(persistDir, join(workDir, "migrate.log"));
  await ctx.withVars({});
  log(`worker on ${ctx.server.url} (wrangler dev public port ${ctx.server.publicUrl}), logs in ${workDir}`);

  if (runs("sim")) results.shardSimulation = await measureShardSimulation(ctx);
  if (runs("storage")) results.storage = await measureStorage(ctx);
  if (runs("cost")) {
    // Each timeout on a metered worker of its own, side by side: counts do not depend on the CPU they share.
    log("cost: counting billable operations (metered worker)");
    // The default timeout also runs with webhooks on: still nothing while nothing changes, and a pair's queue operations.
    const variants = Object.entries(opts.costWindows).map(([timeout, windowMs]) => ({
      heartbeatTimeoutMs: Number(timeout),
      windowMs,
    }));
    const defaults = variants.find((v) => v.heartbeatTimeoutMs === 30_000);
    results.cost = await Promise.all(
      [...variants, { ...defaults, webhooks: true }].map((variant) =>
        measureCost(ctx, { ...variant, users: opts.costUsers, pairsAndIdle: variant.heartbeatTimeoutMs === 30_000 }),
      ),
    );
  }
  if (runs("subs")) {
    // Latency on the bench's own worker, then counts on metered workers: the change
    // cost alone (its timing is a figure too), then both steady states side by side.
    const started = Date.now();
    const { subs } = opts;
    results.subs = { latency: await measureDeltaLatency(ctx, subs.latency) };
    log("subs: one change watched by N, and steady states, counted (metered workers)");
    const change = () => measureChangeCost(ctx, subs);
    const steady = () =>
      Promise.all(subs.steady.map((shape) => measureSteadyWithSubs(ctx, { ...shape, windowMs: subs.steadyWindowMs })));
    // A full run keeps the change's timing clear of the steady states' setup; --quick runs them side by side to stay short.
    if (quick) [results.subs.change, results.subs.steady] = await Promise.all([change(), steady()]);
    else [results.subs.change, results.subs.steady] = [await change(), await steady()];
    results.subs.seconds = (Date.now() - started) / 1000;
  }
  if (runs("state")) {
    // Background, custom status and invisibility: one change of each kind counted alone, webhooks off then on
    // (on metered workers of their own), beside the steady state with them set (its own worker: counts only).
    const started = Date.now();
    log("state: one change of each kind with 0 and N watchers, and a steady state with them set (metered workers)");
    const { state } = opts;
    const changes = async () => [
      await measureStateCost(ctx, { watchers: state.watchers }),
      await measureStateCost(ctx, { watchers: state.watchers, webhooks: true }),
    ];
    const [counted, steady] = await Promise.all([changes(), measureSteadyWithState(ctx, state.steady)]);
    results.state = { changes: counted, steady, seconds: (Date.now() - started) / 1000 };
  }
  if (runs("stall")) {
    // Plain workers of its own with one shard for the latency, then metered ones for the counts.
    const started = Date.now();
    log("stall: an attacker churns subscriptions on the shared shard while a victim's status is read");
    results.stall = { rows: await measureStall(ctx, opts.stall) };
    results.stall.cost = await measureStallCost(ctx, opts.stall);
    results.stall.seconds = (Date.now() - started) / 1000;
  }
  if (runs("manage")) {
    // Metered workers of its own (webhooks on): each operation counted alone.
    log("manage: one delete_user and one ban_user, counted (metered workers, webhooks on)");
    results.manage = await measureManageCost(ctx, opts.manage);
  }
  if (runs("grants")) {
    // Workers of its own with PRESENCE_VISIBILITY=granted (and everyone beside them, to compare).
    results.grants = await measureGrants(ctx, opts.grants);
  }
  if (runs("warm") || runs("connect") || runs("offline") || runs("cold")) {
    const population = await buildPopulation(ctx, opts.population);
    log(`population: ${opts.population} online, offline and unknown users each`);
    if (runs("warm")) results.warm = await measureWarmHttp(ctx, population);
    if (runs("connect")) results.connect = await measureConnectRate(ctx);
    if (runs("offline")) results.offline = await measureOfflineAfterClose(ctx);
    if (runs("cold"))
      ({ rows: results.cold, eviction: results.coldEviction } = await measureColdStatus(ctx, population));
    await disconnectOnline(population);
  }
  if (runs("many")) {
    const shape = socketShape({ users: opts.manyUsers, platforms: 4, perPlatform: 2 });
    await ctx.withVars({ MULTI_LOGIN_POLICY: `max_per_platform:${shape.perPlatform}` });
    results.manySockets = await measureManySockets(ctx, shape);
    await ctx.server.stop();
    // The same shape on a worker that does nothing else: local workerd's own cost per socket.
    const reference = new DevServer({
      persistDir: join(workDir, "reference-state"),
      vars: {},
      logFile: join(workDir, "reference.log"),
      cwd: join(BENCH_DIR, "reference"),
    });
    try {
      await reference.start();
      results.referenceSockets = await measureReferenceSockets(ctx, reference, shape);
    } finally {
      await reference.stop();
    }
  }
  if (runs("crash")) {
    const heartbeatTimeoutMs = opts.crashTimeoutMs;
    await ctx.withVars({ HEARTBEAT_TIMEOUT: `${heartbeatTimeoutMs / 1000}s` });
    results.crash = [];
    for (const crash of [true, false]) {
      results.crash.push(await crashCheck(ctx, { users: opts.crashUsers, heartbeatTimeoutMs, crash }));
    }
  }
}

try {
  await main();
} catch (error) {
  // Keep what was measured; the report says the run did not finish.
  results.error = String(error?.stack ?? error);
  console.error(error);
} finally {
  ctx.api?.client.close();
  await stopAllServers();
}
results.finished = new Date().toISOString();
const resultsFile =
  quick || only || Object.keys(extraVars).length
    ? join(BENCH_DIR, ".tmp", "RESULTS.partial.md")
    : join(BENCH_DIR, "RESULTS.md");
writeResults(results, resultsFile, `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`);
writeFileSync(join(workDir, "results.json"), JSON.stringify(results, null, 2));
log(`wrote ${resultsFile} and ${join(workDir, "results.json")}`);
if (!args.includes("--keep-state")) rmSync(persistDir, { recursive: true, force: true });
process.exit(results.error ? 1 : 0);
