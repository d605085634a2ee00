// Cold status reads: the first read that reaches a presence shard whose
// memory is gone, in two ways.
// - Evicted: the shard sat idle until the runtime evicted it, as Cloudflare
//   does with an idle object; the runtime and the isolate stay up and warm.
//   This is the cold a deployed shard meets, and the one the target is about.
// - Restarted: the whole runtime was killed (kill -9) and started again, so
//   the isolate is fresh too (as after a deploy). For reference.
import { setTimeout as sleep } from "node:timers/promises";
import { closedLoop, percentile, Samples } from "../lib/measure.mjs";
import { closeAll, openSession } from "../lib/sockets.mjs";
import { readMeter, resetMeter, startMetered } from "./cost.mjs";
import { connectOnline, dropOnline, mixedIds } from "./population.mjs";

const SIZES = [1, 50, 200];
const ISOLATE_WARMUP_REQUESTS = 20;
const FLOOR_REQUESTS = 20;
/** Local workerd evicts an object 10 s after its last request ends (workerd's server.c++); 2 s more for margin. */
const EVICTED_AFTER_IDLE_MS = 12_000;
const EVICTION_CHECK_USERS = 5;
/**
 * A woken shard that could not resume a user from its saved plans would
 * verify it 1 s after the wake, spread over 3.5 s (verifyTiming at 30 s): the
 * eviction check looks for such verifies once this has passed.
 */
const CATCH_UP_AFTER_WAKE_MS = 5_500;

export async function measureColdStatus(ctx, population) {
  const eviction = await checkEviction(ctx);
  if (!eviction.evicted) {
    throw new Error(
      `the shard was not evicted after ${EVICTED_AFTER_IDLE_MS / 1000} s idle (it started ${eviction.started} times for the read, 1 expected)`,
    );
  }
  const rows = [];
  for (const size of SIZES) {
    // The target's row gets more samples: one read per sample, and the machine drifts.
    const samplesWanted = size === 200 ? ctx.opts.evictedRepeats : ctx.opts.coldRepeats;
    rows.push(await measureVariant(ctx, population, { kind: "evicted", size, concurrency: 1, samplesWanted }));
    rows.push(await measureVariant(ctx, population, { kind: "evicted", size, concurrency: 32, samplesWanted: 1 }));
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
  return { eviction, rows };
}

/**
 * Each sample: the online users connect (so the shard holds live entries and
 * has work to rebuild), then the shard is made cold, then the timed first
 * read(s): one request at concurrency 1, or a burst of 32 at once. Done well
 * inside HEARTBEAT_TIMEOUT of the connects, so the online users still read
 * online and no verify is due in between.
 *
 * Evicted: nothing touches the shard for EVICTED_AFTER_IDLE_MS; then the
 * floor is measured on the same warm runtime, right before the read.
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
  for (let rep = 0; rep < samplesWanted; rep++) {
    await connectOnline(ctx, population);
    if (kind === "evicted") {
      await sleep(EVICTED_AFTER_IDLE_MS);
      // Floor requests touch no object, so the shard stays evicted.
      floors.push(await measureFloor());
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
    floorHereP50: percentile(
      [...floors].sort((a, b) => a - b),
      50,
    ),
  };
}

/**
 * Proves that EVICTED_AFTER_IDLE_MS idle evicts the shard here, on a metered
 * worker that counts each start of an object: the read after the idle wait
 * must start the shard again. It also records what the wake cost: the shard
 * resumes its users from their rows' plans (PresenceIndex.restore), so it
 * should verify none of them and write nothing.
 */
async function checkEviction(ctx) {
  const { server, api } = await startMetered(ctx, "eviction-check", {});
  const uids = Array.from({ length: EVICTION_CHECK_USERS }, (_, i) => `${ctx.runId}-evict-${i}`);
  let sessions = [];
  try {
    const tokens = await api.registerAll(uids);
    sessions = await Promise.all(uids.map((uid, i) => openSession(server.url, { uid, token: tokens[i], platform: 1 })));
    const online = await api.onlineAmong(uids);
    if (online.length !== uids.length) throw new Error(`eviction check: ${online.length} of ${uids.length} online`);
    await sleep(EVICTED_AFTER_IDLE_MS);
    await resetMeter(server);
    const answer = await api.status(uids);
    await sleep(CATCH_UP_AFTER_WAKE_MS);
    const counts = await readMeter(server);
    const started = counts["PresenceIndex.started"] ?? 0;
    return {
      users: uids.length,
      idleMs: EVICTED_AFTER_IDLE_MS,
      watchedAfterMs: CATCH_UP_AFTER_WAKE_MS,
      started,
      verifies: counts["UserSession.request.verify"] ?? 0,
      shardRowsWritten: counts["PresenceIndex.rowsWritten"] ?? 0,
      stillOnline: answer.filter((e) => e.status === "online").length,
      evicted: started === 1,
    };
  } finally {
    await closeAll(sessions);
    api.client.close();
    await server.stop();
  }
}
