// WebSocket scenarios: connect rate, time to show offline after a clean close.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { closedLoop, Samples } from "../lib/measure.mjs";
import { closeAll, closed, openSession } from "../lib/sockets.mjs";

/**
 * Upgrades per second with valid tokens, each for a user seen for the first
 * time (so each connect also creates that user's object and publishes to a
 * presence shard). Tokens are fetched beforehand and not timed.
 */
export async function measureConnectRate(ctx) {
  const results = [];
  for (const [concurrency, count] of [
    [1, ctx.opts.connectsAtOne],
    [32, ctx.opts.connectsAt32],
  ]) {
    const uids = Array.from({ length: count }, (_, i) => `${ctx.runId}-conn${concurrency}-${i}`);
    const tokens = await ctx.api.registerAll(uids);
    const sessions = [];
    const run = await closedLoop({
      concurrency,
      maxCount: count,
      task: async (i) => {
        sessions.push(await openSession(ctx.server.url, { uid: uids[i], token: tokens[i], platform: 1 }));
      },
    });
    results.push({ name: "socket connect", concurrency, ...new Samples().add(run).stats() });
    await closeAll(sessions);
    ctx.log(`connect rate c=${concurrency}: ${count} sockets`);
  }
  return results;
}

const POLL_GAP_MS = 2;
const GIVE_UP_MS = 15_000;

/**
 * From the client's close() to the first status answer that says offline,
 * polling the status route back to back. A live session first: connected,
 * pinged, answered, and shown online.
 */
export async function measureOfflineAfterClose(ctx) {
  const toOffline = [];
  const toCloseEvent = [];
  for (let rep = 0; rep < ctx.opts.offlineRepeats; rep++) {
    const uid = `${ctx.runId}-leaver-${rep}`;
    const session = await openSession(ctx.server.url, { uid, token: await ctx.api.register(uid, 2), platform: 2 });
    while (session.pongs === 0) await sleep(5);
    if ((await ctx.api.status([uid]))[0].status !== "online") throw new Error(`${uid} not online after connecting`);

    const t0 = performance.now();
    const closeEvent = closed(session).then(() => performance.now() - t0);
    session.ws.close(1000, "bye");
    for (;;) {
      const [entry] = await ctx.api.status([uid]);
      if (entry.status === "offline") break;
      if (performance.now() - t0 > GIVE_UP_MS) throw new Error(`${uid} still online ${GIVE_UP_MS} ms after close`);
      await sleep(POLL_GAP_MS);
    }
    toOffline.push(performance.now() - t0);
    toCloseEvent.push(await closeEvent);
  }
  return {
    toOffline: new Samples().add({ latencies: toOffline, elapsedMs: 0, errors: 0 }).stats(),
    toCloseEvent: new Samples().add({ latencies: toCloseEvent, elapsedMs: 0, errors: 0 }).stats(),
  };
}
