// How long a presence delta takes from the change to each subscriber (docs/protocol.md#presence-subscriptions),
// on the bench's own (unmetered) worker: watchers on sockets of their own watch a
// few users, who connect and close in turn.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit, Samples } from "../lib/measure.mjs";
import { closeAll, closed, keepAlive, openSession } from "../lib/sockets.mjs";
import { nextEntry, subscribe, watchFrames } from "../lib/watchers.mjs";

/** Between changes, so each is a delta of its own and not merged with the next. */
const GAP_MS = 100;

/**
 * Each change is timed from the client side: an online delta from just before
 * the subject's connect request (so the handshake is included), an offline one
 * from just after its close() call (so the close frame's trip is included), to
 * the arrival of the entry at each watcher: one sample per watcher and change.
 */
export async function measureDeltaLatency(ctx, { watchers, subjects, rounds }) {
  const server = ctx.server;
  const watcherUids = Array.from({ length: watchers }, (_, i) => `${ctx.runId}-subs-lat-w${i}`);
  const subjectUids = Array.from({ length: subjects }, (_, i) => `${ctx.runId}-subs-lat-s${i}`);
  const watcherTokens = await ctx.api.registerAll(watcherUids);
  const subjectTokens = await ctx.api.registerAll(subjectUids);
  const connectSubject = (i) => openSession(server.url, { uid: subjectUids[i], token: subjectTokens[i], platform: 1 });

  // Each subject once before, so the timed changes are of users whose objects exist.
  for (let i = 0; i < subjects; i++) {
    const session = await connectSubject(i);
    session.ws.close(1000);
    await closed(session);
  }
  const sessions = await mapLimit(watcherUids, 16, async (uid, i) =>
    watchFrames(await openSession(server.url, { uid, token: watcherTokens[i], platform: 1 })),
  );
  const stopKeepAlive = keepAlive(sessions, 10_000);
  try {
    await mapLimit(sessions, 16, (session) => subscribe(session, subjectUids));

    const online = [];
    const offline = [];
    const untilLast = { online: [], offline: [] };
    // Waits for the subject's next entry with `status` at every watcher; returns the arrival times.
    const arrivals = (uid, status) =>
      Promise.all(sessions.map((s) => nextEntry(s, uid, (entry) => entry.status === status, 30_000)));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < subjects; i++) {
        const cameOnline = arrivals(subjectUids[i], "online");
        const t0 = performance.now();
        const subject = await connectSubject(i);
        const onlineAt = await cameOnline;
        online.push(...onlineAt.map((at) => at - t0));
        untilLast.online.push(Math.max(...onlineAt) - t0);
        await sleep(GAP_MS);

        const wentOffline = arrivals(subjectUids[i], "offline");
        subject.ws.close(1000);
        const t1 = performance.now();
        const offlineAt = await wentOffline;
        offline.push(...offlineAt.map((at) => at - t1));
        untilLast.offline.push(Math.max(...offlineAt) - t1);
        await closed(subject);
        await sleep(GAP_MS);
      }
    }
    ctx.log(`subs latency: ${rounds * subjects} online and offline deltas to ${watchers} watchers each`);
    const stats = (latencies) => new Samples().add({ latencies, elapsedMs: 0, errors: 0 }).stats();
    return {
      watchers,
      subjects,
      rounds,
      online: stats(online),
      offline: stats(offline),
      untilLastOnline: stats(untilLast.online),
      untilLastOffline: stats(untilLast.offline),
    };
  } finally {
    stopKeepAlive();
    await closeAll(sessions);
  }
}
