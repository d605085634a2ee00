// N concurrent sockets held past HEARTBEAT_TIMEOUT, with the worker process's
// memory per socket.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { closedLoop } from "../lib/measure.mjs";
import { openFdCount } from "../lib/server.mjs";
import { closed, isOpen, keepAlive, openSession } from "../lib/sockets.mjs";

const PLATFORMS = [1, 2, 3, 4, 5];
const SETTLE_MS = 5_000;

/**
 * sessionsPerUser = 5 platforms × 2 sessions each, which the default
 * kick_same_platform policy cannot hold (7 sessions per user at most), so this
 * phase runs the worker with MULTI_LOGIN_POLICY=max_per_platform:2.
 */
export async function measureManySockets(ctx, { users, perPlatform = 2, holdMs }) {
  const uids = Array.from({ length: users }, (_, i) => `${ctx.runId}-many-${i}`);
  const firstTokens = await ctx.api.registerAll(uids, { concurrency: 32 });
  const slots = [];
  const extraTokens = await closedLoop({
    concurrency: 32,
    maxCount: users * (PLATFORMS.length - 1),
    task: async (i) => {
      const uid = uids[i % users];
      const platform = PLATFORMS[1 + Math.floor(i / users)];
      slots.push({ uid, platform, token: await ctx.api.token(uid, platform) });
    },
  });
  if (extraTokens.errors) throw extraTokens.firstError;
  uids.forEach((uid, i) => slots.push({ uid, platform: 1, token: firstTokens[i] }));
  const targets = slots.flatMap((slot) => Array.from({ length: perPlatform }, () => slot));

  await sleep(SETTLE_MS);
  const before = ctx.server.rss();
  const sessions = [];
  const connect = await closedLoop({
    concurrency: 64,
    maxCount: targets.length,
    task: async (i) => {
      sessions.push(await openSession(ctx.server.url, targets[i]));
    },
  });
  const connectSeconds = connect.elapsedMs / 1000;
  ctx.log(`many sockets: ${sessions.length}/${targets.length} open in ${connectSeconds.toFixed(1)} s, ${connect.errors} failed`);
  const stopKeepAlive = keepAlive(sessions, 10_000);

  await sleep(SETTLE_MS);
  const afterConnect = ctx.server.rss();
  const fds = openFdCount(ctx.server.workerPid);
  const heldFrom = performance.now();
  let peakWorkerRss = afterConnect.worker;
  while (performance.now() - heldFrom < holdMs) {
    await sleep(2_000);
    peakWorkerRss = Math.max(peakWorkerRss, ctx.server.rss().worker);
  }
  const afterHold = ctx.server.rss();
  const stillOpen = sessions.filter(isOpen).length;
  const closeCodes = countBy(sessions.filter((s) => !isOpen(s)).map((s) => s.closeCode));
  const onlineEntries = await ctx.api.onlineAmong(uids);
  const fullyOnline = onlineEntries.filter((e) => e.detailPlatformStatus?.length === PLATFORMS.length).length;

  stopKeepAlive();
  await Promise.all(sessions.map((s) => (s.ws.close(1000), closed(s))));
  const perSocket = (rss) => (rss - before.worker) / Math.max(1, sessions.length);
  return {
    target: targets.length,
    users,
    opened: sessions.length,
    connectErrors: connect.errors,
    firstConnectError: connect.firstError ? String(connect.firstError.message) : undefined,
    connectPerSecond: sessions.length / connectSeconds,
    holdSeconds: holdMs / 1000,
    stillOpen,
    closeCodes,
    usersOnline: onlineEntries.length,
    usersWithAllPlatforms: fullyOnline,
    workerFds: fds,
    rssBefore: before,
    rssAfterConnect: afterConnect,
    rssAfterHold: afterHold,
    peakWorkerRss,
    bytesPerSocketAfterConnect: perSocket(afterConnect.worker),
    bytesPerSocketAfterHold: perSocket(afterHold.worker),
    bytesPerSocketPeak: perSocket(peakWorkerRss),
  };
}

function countBy(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
