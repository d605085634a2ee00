// Cold status reads: the first read that reaches a presence shard whose
// memory is gone, in two ways.
// - Evicted: the shard sat idle until the runtime evicted it, as Cloudflare
//   does with an idle object; the runtime and the isolate stay up and warm.
//   This is the cold a deployed shard meets, and the one the target is about.
// - Restarted: the whole runtime was killed (kill -9) and started again, so
//   the isolate is fresh too (as after a deploy). For reference.
import { setTimeout as sleep } from "node:timers/promises";
import { closedLoop, percentile, Samples } from "../lib/measure.mjs";
import { readMeter, resetMeter, startMetered } from "./cost.mjs";
import { buildPopulation, connectOnline, disconnectOnline, dropOnline, mixedIds } from "./population.mjs";

const SIZES = [1, 50, 200];
const ISOLATE_WARMUP_REQUESTS = 20;
const FLOOR_REQUESTS = 20;
/** Local workerd evicts an object 10 s after its last request ends (workerd's server.c++); 2 s more for margin. */
const EVICTED_AFTER_IDLE_MS = 12_000;
/**
 * An evicted sample whose read did not start the shard is taken again, up to
 * this many times per sample wanted: the shard's own alarm (a verify round it
 * set before the latest connects moved everyone's deadline) can wake it during
 * the idle wait, and then the read finds it awake.
 */
const RETRIES_PER_SAMPLE = 2;

/**
 * The evicted rows run on the metered worker (bench/metering), which counts
 * each start of an object: a sample counts only if its read started the shard
 * again. The restarted rows run on the bench's own worker.
 */
export async function measureColdStatus(ctx, population) {
  const rows = [];
  const { server, api } = await startMetered(ctx, "cold-evicted", {});
  try {
    const metered = { ...ctx, runId: `${ctx.runId}-ev`, server, api };
    const evictedPopulation = await buildPopulation(metered, population.online.length);
    for (const size of SIZES) {
      // The target's row gets more samples: one read per sample, and the machine drifts.
      const samplesWanted = size === 200 ? ctx.opts.evictedRepeats : ctx.opts.coldRepeats;
      for (const concurrency of [1, 32]) {
        rows.push(
          await measureVariant(metered, evictedPopulation, {
            kind: "evicted",
            size,
            concurrency,
            samplesWanted: concurrency === 1 ? samplesWanted : 1,
          }),
        );
      }
    }
    await disconnectOnline(evictedPopulation);
  } finally {
    api.client.close();
    await server.stop();
  }
  for (const size of SIZES) {
    for (const concurrency of [1, 32]) {
      const samplesWanted = concurrency === 1 ? ctx.opts.coldRepeats : 1;
      rows.push(await measureVariant(ctx, population, { kind: "restarted", size, concurrency, samplesWanted }));
    }
  }
  rows.push(
    await measureVariant(ctx, population, {
      kind: "restarted",
      size: 200,
      concurrency: 1,
      samplesWanted: ctx.opts.coldRepeats,
      warmRoute: false,
    }),
  );
  return { eviction: { idleMs: EVICTED_AFTER_IDLE_MS, retriesPerSample: RETRIES_PER_SAMPLE }, rows };
}

/**
 * Each sample: the online users connect (so the shard holds live entries and
 * has work to rebuild), then the shard is made cold, then the timed first
 * read(s): one request at concurrency 1, or a burst of 32 at once. Done well
 * inside HEARTBEAT_TIMEOUT of the connects, so the online users still read
 * online and no verify is due in between.
 *
 * Evicted (on the metered worker): nothing touches the shard for
 * EVICTED_AFTER_IDLE_MS; then the floor is measured on the same warm runtime,
 * right before the read. The sample counts only if the read started the shard.
 *
 * Restarted: the server is killed and started again on the same persist dir,
 * the isolate is warmed with requests that touch no object (refused at the
 * secret, then refused by the status route's validation), and the floor is
 * measured right after. A last variant leaves the route unwarmed (only secret
 * refusals): it adds the isolate's first run of the route's own code.
 */
async function measureVariant(ctx, population, { kind, size, concurrency, samplesWanted, warmRoute = true }) {
  const ids = `${size} id${size > 1 ? "s" : ""}`;
  const samples = new Samples();
  let onlineSeen = 0;
  let entries = 0;
  const floors = [];
  const measureFloor = async () =>
    new Samples()
      .add(await closedLoop({ concurrency: 1, maxCount: FLOOR_REQUESTS, task: () => ctx.api.refused() }))
      .stats().p50;
  let discarded = 0;
  for (let rep = 0; rep < samplesWanted; rep++) {
    await connectOnline(ctx, population);
    if (kind === "evicted") {
      await sleep(EVICTED_AFTER_IDLE_MS);
      // Floor requests touch no object, so the shard stays evicted.
      floors.push(await measureFloor());
      await resetMeter(ctx.server);
    } else {
      // Crash first: a client hanging up first would let the server publish them offline.
      await ctx.server.crash();
      dropOnline(population);
      await ctx.startServer();
      await closedLoop({ concurrency: 1, maxCount: ISOLATE_WARMUP_REQUESTS, task: () => ctx.api.refused() });
      if (warmRoute) {
        await closedLoop({
          concurrency: 1,
          maxCount: ISOLATE_WARMUP_REQUESTS,
          task: () => ctx.api.refusedByValidation(),
        });
      }
      floors.push(await measureFloor());
    }
    const answers = [];
    const timed = await closedLoop({
      concurrency,
      maxCount: concurrency,
      task: async (i) => answers.push(await ctx.api.status(mixedIds(population, size, rep * 32 + i))),
    });
    if (kind === "evicted" && ((await readMeter(ctx.server))["PresenceShard.started"] ?? 0) !== 1) {
      // The shard was awake when the read came: not a cold read. Take the sample again.
      floors.pop();
      if (++discarded > RETRIES_PER_SAMPLE * samplesWanted) {
        throw new Error(`cold (evicted): ${discarded} reads found the shard awake; is it being evicted?`);
      }
      ctx.log(`cold (evicted) status ${ids} c=${concurrency}: the read found the shard awake; taken again`);
      rep--;
      continue;
    }
    samples.add(timed);
    for (const answer of answers) {
      entries += answer.length;
      onlineSeen += answer.filter((e) => e.status === "online").length;
    }
    ctx.log(
      `cold (${kind}) status ${ids} c=${concurrency}${warmRoute ? "" : " (route not warmed)"} sample ${rep + 1}: floor p50 here ${floors.at(-1).toFixed(2)} ms`,
    );
  }
  return {
    name: `status ${ids} (cold: ${kind === "evicted" ? "shard evicted" : "runtime restarted"}${warmRoute ? "" : ", route not warmed"})`,
    kind,
    concurrency,
    ...samples.stats(),
    onlineSeen,
    entries,
    discarded,
    floorHereP50: percentile(
      [...floors].sort((a, b) => a - b),
      50,
    ),
  };
}
