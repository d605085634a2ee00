// Cold status reads: the first touch of the presence shards after a restart
// that keeps the persist dir, so every object has to be loaded again.
import { closedLoop, Samples } from "../lib/measure.mjs";
import { connectOnline, dropOnline, mixedIds } from "./population.mjs";

const SIZES = [1, 50, 200];
const ISOLATE_WARMUP_REQUESTS = 20;

/**
 * Each sample: the online users connect (so the index holds live entries),
 * the server is killed and started again, the isolate is warmed with requests
 * that touch no object (refused at the secret, then refused by the status
 * route's validation), then the timed first read(s): one request at
 * concurrency 1, or a burst of 32 at once. "Cold" is the objects: in
 * production a shard wakes from hibernation or eviction inside an isolate
 * that already serves the route. A last variant leaves the route unwarmed
 * (only secret refusals), for reference: it adds the isolate's first run of
 * the route's own code.
 * Done well inside HEARTBEAT_TIMEOUT of the connects, so the online users
 * still read online and no user alarm fires in between.
 */
export async function measureColdStatus(ctx, population) {
  const results = [];
  const variants = [
    ...SIZES.flatMap((size) => [
      { size, concurrency: 1, samplesWanted: ctx.opts.coldRepeats, warmRoute: true },
      { size, concurrency: 32, samplesWanted: 1, warmRoute: true },
    ]),
    { size: 200, concurrency: 1, samplesWanted: ctx.opts.coldRepeats, warmRoute: false },
  ];
  for (const { size, concurrency, samplesWanted, warmRoute } of variants) {
    const samples = new Samples();
    let onlineSeen = 0;
    let entries = 0;
    const floorsHere = [];
    for (let rep = 0; rep < samplesWanted; rep++) {
      await connectOnline(ctx, population);
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
      const floorNow = new Samples().add(
        await closedLoop({ concurrency: 1, maxCount: 20, task: () => ctx.api.refused() }),
      );
      samples.add(
        await closedLoop({
          concurrency,
          maxCount: concurrency,
          task: async (i) => {
            const answer = await ctx.api.status(mixedIds(population, size, rep * 32 + i));
            entries += answer.length;
            onlineSeen += answer.filter((e) => e.status === "online").length;
          },
        }),
      );
      floorsHere.push(floorNow.stats().p50);
      ctx.log(
        `cold status ${size} ids c=${concurrency}${warmRoute ? "" : " (route not warmed)"} sample ${rep + 1}: floor p50 here ${floorNow.stats().p50.toFixed(2)} ms`,
      );
    }
    results.push({
      name: `status ${size} id${size > 1 ? "s" : ""} (cold${warmRoute ? "" : ", route not warmed"})`,
      concurrency,
      ...samples.stats(),
      onlineSeen,
      entries,
      floorHereP50: median(floorsHere),
    });
  }
  return results;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}
