// N concurrent sockets held past HEARTBEAT_TIMEOUT, with the worker process's
// memory per socket; and the same shape on a trivial reference worker (the
// memory floor of local workerd).
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { closedLoop } from "../lib/measure.mjs";
import { openFdCount } from "../lib/server.mjs";
import { closeAll, isOpen, keepAlive, openSession } from "../lib/sockets.mjs";

const SETTLE_MS = 5_000;

/** users × platforms × perPlatform sessions, grouped by user (one user's sessions connect together). */
export function socketShape({ users, platforms, perPlatform }) {
  return { users, platforms: Array.from({ length: platforms }, (_, i) => i + 1), perPlatform };
}

async function tokensFor(ctx, uids, platforms) {
  const firstTokens = await ctx.api.registerAll(uids, { concurrency: 32 });
  const tokens = new Map(uids.map((uid, i) => [`${uid}|1`, firstTokens[i]]));
  const rest = uids.flatMap((uid) => platforms.filter((p) => p !== 1).map((platform) => ({ uid, platform })));
  const run = await closedLoop({
    concurrency: 32,
    maxCount: rest.length,
    task: async (i) =>
      tokens.set(`${rest[i].uid}|${rest[i].platform}`, await ctx.api.token(rest[i].uid, rest[i].platform)),
  });
  if (run.errors) throw run.firstError;
  return tokens;
}

/** The real worker: registered users, real tokens, and a check that the status route agrees. */
export async function measureManySockets(ctx, shape) {
  const uids = Array.from({ length: shape.users }, (_, i) => `${ctx.runId}-many-${i}`);
  const tokens = await tokensFor(ctx, uids, shape.platforms);
  // A fresh process (same state, tokens still valid): the heap the registrations
  // grew would otherwise be reused by the sockets and hide their cost.
  await ctx.restartServer();
  const held = await holdSockets(ctx, ctx.server, uids, shape, (uid, platform) => tokens.get(`${uid}|${platform}`));
  const onlineEntries = await ctx.api.onlineAmong(uids);
  held.usersOnline = onlineEntries.length;
  held.usersWithAllPlatforms = onlineEntries.filter(
    (e) => e.detailPlatformStatus?.length === shape.platforms.length,
  ).length;
  await held.closeAll();
  return held;
}

/** The reference worker (bench/reference): same shape, no tokens, nothing to verify. */
export async function measureReferenceSockets(ctx, server, shape) {
  const uids = Array.from({ length: shape.users }, (_, i) => `ref-${i}`);
  const held = await holdSockets(ctx, server, uids, shape, () => "unused");
  await held.closeAll();
  return held;
}

async function holdSockets(ctx, server, uids, shape, tokenOf) {
  const targets = uids.flatMap((uid) =>
    shape.platforms.flatMap((platform) =>
      Array.from({ length: shape.perPlatform }, () => ({ uid, platform, token: tokenOf(uid, platform) })),
    ),
  );
  await sleep(SETTLE_MS);
  const before = server.rss();
  const sessions = [];
  // Started before the first connect: connecting thousands takes longer than HEARTBEAT_TIMEOUT.
  const stopKeepAlive = keepAlive(sessions, 10_000);
  const connect = await closedLoop({
    concurrency: 32,
    maxCount: targets.length,
    task: async (i) => {
      sessions.push(await openSession(server.url, targets[i]));
    },
  });
  const connectSeconds = connect.elapsedMs / 1000;
  ctx.log(
    `sockets: ${sessions.length}/${targets.length} open in ${connectSeconds.toFixed(1)} s, ${connect.errors} failed`,
  );

  await sleep(SETTLE_MS);
  const afterConnect = server.rss();
  let peakFds = openFdCount(server.workerPid);
  let peakWorkerRss = afterConnect.worker;
  const heldFrom = performance.now();
  while (performance.now() - heldFrom < ctx.opts.holdMs) {
    await sleep(2_000);
    peakWorkerRss = Math.max(peakWorkerRss, server.rss().worker);
    peakFds = Math.max(peakFds, openFdCount(server.workerPid));
  }
  const afterHold = server.rss();
  const stillOpen = sessions.filter(isOpen).length;
  const closeCodes = countBy(sessions.filter((s) => !isOpen(s)).map((s) => s.closeCode));
  const perSocket = (rss) => (rss - before.worker) / Math.max(1, sessions.length);
  return {
    target: targets.length,
    users: shape.users,
    sessionsPerUser: `${shape.platforms.length} platforms × ${shape.perPlatform}`,
    opened: sessions.length,
    connectErrors: connect.errors,
    firstConnectError: connect.firstError ? String(connect.firstError.message) : undefined,
    connectPerSecond: sessions.length / connectSeconds,
    holdSeconds: ctx.opts.holdMs / 1000,
    stillOpen,
    closeCodes,
    peakFds,
    rssBefore: before,
    rssAfterConnect: afterConnect,
    rssAfterHold: afterHold,
    peakWorkerRss,
    bytesPerSocketAfterConnect: perSocket(afterConnect.worker),
    bytesPerSocketAfterHold: perSocket(afterHold.worker),
    bytesPerSocketPeak: perSocket(peakWorkerRss),
    async closeAll() {
      stopKeepAlive();
      await closeAll(sessions);
    },
  };
}

function countBy(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
