// What presence subscriptions cost, counted on the metered worker (bench/metering):
// one change of a user watched by N others, and the steady state of users who
// watch each other while nothing changes.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit } from "../lib/measure.mjs";
import { cpuMs, openFdCount } from "../lib/server.mjs";
import { closed, isOpen, openSession } from "../lib/sockets.mjs";
import { errorFrames, nextEntry, subscribe, watchFrames } from "../lib/watchers.mjs";
import { PING_EVERY_MS, perUserHour, pinger, readMeter, resetMeter, SETTLE_MS, startMetered } from "./cost.mjs";

/**
 * The change-cost worker's HEARTBEAT_TIMEOUT: longer than the whole measurement,
 * so no watcher is verified inside it and every operation counted is the change's.
 * (The verifies of an online watcher are the steady state's, measured below.)
 */
export const CHANGE_TIMEOUT_MS = 15 * 60_000;
/** Before a change: what the last step set off is over, then a window as long that must count nothing. */
export const QUIET_MS = 2_000;
/** After the last watcher got its entry: the shard's bookkeeping after its last batch (setAlarm, snapshot). */
export const TRAILING_MS = 2_000;
const CONNECTS_AT_ONCE = 32;

/** `each` users after user i, wrapping: in a ring every user is watched by exactly `each`. */
export function ring(uids, i, each) {
  return Array.from({ length: each }, (_, k) => uids[(i + 1 + k) % uids.length]);
}

/**
 * One change, counted alone: a quiet window first (it must count nothing), then
 * reset, act, wait until every watcher got the entry that matches, a moment
 * more for trailing work, and read the meter. Times are from just before `act`,
 * or from `originMs` (a wall-clock moment, e.g. a custom status's expiry) when
 * given. `settle`, if given, is awaited before the trailing moment (e.g. until a
 * webhook receiver got the change's events).
 */
export async function oneChange(server, watchers, uid, match, act, { originMs, settle } = {}) {
  await sleep(QUIET_MS);
  await resetMeter(server);
  await sleep(QUIET_MS);
  const quiet = await readMeter(server);
  await resetMeter(server);
  const arrivals = Promise.all(watchers.map((session) => nextEntry(session, uid, match)));
  // CPU of the worker's workerd and of this client until the last entry: which side a slow fan-out waits on.
  const [workerCpu0, clientCpu0] = [cpuMs(server.workerPid), process.cpuUsage()];
  const t0 = performance.now();
  const wallT0 = Date.now();
  const acted = await act();
  const actMs = performance.now() - t0;
  const at = await arrivals;
  const from = originMs === undefined ? t0 : t0 + (originMs - wallT0);
  const untilLastMs = Math.max(...at) - from;
  const workerCpuMs = cpuMs(server.workerPid) - workerCpu0;
  const clientCpu = process.cpuUsage(clientCpu0);
  await settle?.();
  await sleep(TRAILING_MS);
  return {
    counts: await readMeter(server),
    quiet,
    actMs,
    untilFirstMs: Math.min(...at) - from,
    untilLastMs,
    workerCpuMs,
    clientCpuMs: (clientCpu.user + clientCpu.system) / 1000,
    acted,
  };
}

/**
 * For each N in `counts`: N watchers (one socket each, pinging) subscribe to a
 * user of their own, who connects (an online change) and closes (an offline one).
 * Watchers are opened once and reused: the 3,000 include the 100. Then `mesh`:
 * the first `users` watchers each watch the next `each` (a ring), and one of them
 * opens a second platform and closes it (two changes, each watched by `each`).
 */
export async function measureChangeCost(ctx, { counts, mesh }) {
  const startedAt = performance.now();
  const { server, api } = await startMetered(ctx, "subs-change", {
    HEARTBEAT_TIMEOUT: `${CHANGE_TIMEOUT_MS / 60_000}m`,
  });
  const result = {
    heartbeatTimeoutMs: CHANGE_TIMEOUT_MS,
    quietMs: QUIET_MS,
    trailingMs: TRAILING_MS,
    steps: [],
    mesh: undefined,
  };
  const sessions = [];
  const ping = pinger(sessions, PING_EVERY_MS);
  let peakFds = 0;
  const notePeakFds = () => (peakFds = Math.max(peakFds, openFdCount(server.workerPid)));
  try {
    const watcherCount = Math.max(...counts, mesh.users);
    const watcherUids = Array.from({ length: watcherCount }, (_, i) => `${ctx.runId}-subs-w${i}`);
    const subjectUids = counts.map((n) => `${ctx.runId}-subs-s${n}`);
    let t = performance.now();
    const watcherTokens = await api.registerAll(watcherUids, { concurrency: 16 });
    const subjectTokens = await api.registerAll(subjectUids);
    result.registerSeconds = (performance.now() - t) / 1000;
    result.registered = watcherUids.length + subjectUids.length;
    ctx.log(`subs cost: ${result.registered} users registered in ${result.registerSeconds.toFixed(1)} s`);

    const connectSubject = (k, platform = 1) =>
      openSession(server.url, { uid: subjectUids[k], token: subjectTokens[k], platform });
    // Each subject once before, so the counted changes are of users whose objects exist.
    for (let k = 0; k < subjectUids.length; k++) {
      const session = await connectSubject(k);
      session.ws.close(1000);
      await closed(session);
    }

    result.connectSeconds = 0;
    const openWatchers = async (n) => {
      const start = sessions.length;
      if (n <= start) return;
      const t1 = performance.now();
      const opened = await mapLimit(watcherUids.slice(start, n), CONNECTS_AT_ONCE, async (uid, i) =>
        watchFrames(await openSession(server.url, { uid, token: watcherTokens[start + i], platform: 1 })),
      );
      sessions.push(...opened);
      result.connectSeconds += (performance.now() - t1) / 1000;
      notePeakFds();
    };

    for (const [k, n] of counts.entries()) {
      await openWatchers(n);
      const watchers = sessions.slice(0, n);
      await mapLimit(watchers, CONNECTS_AT_ONCE, (session) => subscribe(session, [subjectUids[k]]));
      const online = await oneChange(
        server,
        watchers,
        subjectUids[k],
        (e) => e.status === "online",
        () => connectSubject(k),
      );
      notePeakFds();
      const subject = online.acted;
      const offline = await oneChange(
        server,
        watchers,
        subjectUids[k],
        (e) => e.status === "offline",
        () => subject.ws.close(1000),
      );
      await closed(subject);
      delete online.acted;
      delete offline.acted;
      result.steps.push({ watchers: n, online, offline, subjectHandshakeMs: subject.handshakeMs });
      ctx.log(
        `subs cost: ${n} watchers, last entry ${online.untilLastMs.toFixed(0)} ms after the connect, ${offline.untilLastMs.toFixed(0)} ms after the close`,
      );
    }

    // The mesh: everyone watches `each` others; user 0 opens and closes a second platform.
    await openWatchers(mesh.users);
    const members = sessions.slice(0, mesh.users);
    const memberUids = watcherUids.slice(0, mesh.users);
    t = performance.now();
    await mapLimit(members, CONNECTS_AT_ONCE, (session, i) => subscribe(session, ring(memberUids, i, mesh.each)));
    const subscribeSeconds = (performance.now() - t) / 1000;
    const subjectUid = memberUids[0];
    const watchersOfSubject = members.filter((_, i) => ring(memberUids, i, mesh.each).includes(subjectUid));
    const secondToken = await api.token(subjectUid, 2);
    const withPlatforms = (count) => (e) => e.status === "online" && e.platforms.length === count;
    const opens = await oneChange(server, watchersOfSubject, subjectUid, withPlatforms(2), () =>
      openSession(server.url, { uid: subjectUid, token: secondToken, platform: 2 }),
    );
    const second = opens.acted;
    const closes = await oneChange(server, watchersOfSubject, subjectUid, withPlatforms(1), () =>
      second.ws.close(1000),
    );
    await closed(second);
    delete opens.acted;
    delete closes.acted;
    notePeakFds();
    result.mesh = { ...mesh, watchersOfSubject: watchersOfSubject.length, subscribeSeconds, opens, closes };
    ctx.log(
      `subs cost: ${mesh.users} users each watching ${mesh.each}, subscribed in ${subscribeSeconds.toFixed(1)} s`,
    );

    result.sockets = sessions.length;
    result.stillOpen = sessions.filter(isOpen).length;
    result.errorFrames = errorFrames(sessions);
    result.peakFds = peakFds;
    result.peakWorkerRss = server.rss().worker;
  } finally {
    ping.stop();
    api.client.close();
    // Stopped with its sockets open: closing thousands first would only make offline deltas nobody counts.
    await server.stop();
    for (const session of sessions) session.ws.terminate();
  }
  result.elapsedSeconds = (performance.now() - startedAt) / 1000;
  return result;
}

/** One steady-state window: reset, wait, read; with the presence frames the clients got meanwhile. */
export async function steadyWindow(server, sessions, sessionsPinger, windowMs) {
  const frames = () => sessions.reduce((sum, s) => sum + s.presenceFrames, 0);
  await resetMeter(server);
  const framesBefore = frames();
  const pingsBefore = sessionsPinger.state.sent;
  const started = Date.now();
  await sleep(windowMs);
  const counts = await readMeter(server);
  const ms = Date.now() - started;
  return {
    counts,
    ms,
    pings: sessionsPinger.state.sent - pingsBefore,
    presenceFrames: frames() - framesBefore,
    perUserHour: perUserHour(counts, sessions.length, ms),
  };
}

/**
 * The setting every steady-state comparison starts from: a metered worker at HEARTBEAT_TIMEOUT
 * `heartbeatTimeoutMs` (and `vars`), `users` registered and online with one socket each, pinging,
 * and past their first verify, as the cost phase does. `body` gets them and `window()`, which
 * measures one steady-state window of `windowMs`; everything is torn down after.
 */
export async function withSteadyUsers(
  ctx,
  { name, users, heartbeatTimeoutMs, windowMs, vars = {}, wrap = (s) => s },
  body,
) {
  const { server, api } = await startMetered(ctx, name, {
    HEARTBEAT_TIMEOUT: `${heartbeatTimeoutMs / 1000}s`,
    ...vars,
  });
  const sessions = [];
  const ping = pinger(sessions, PING_EVERY_MS);
  try {
    const uids = Array.from({ length: users }, (_, i) => `${ctx.runId}-${name}-${i}`);
    const tokens = await api.registerAll(uids);
    sessions.push(
      ...(await mapLimit(uids, 16, async (uid, i) =>
        wrap(watchFrames(await openSession(server.url, { uid, token: tokens[i], platform: 1 }))),
      )),
    );
    await sleep(heartbeatTimeoutMs + SETTLE_MS);
    return await body({ server, api, uids, sessions, window: () => steadyWindow(server, sessions, ping, windowMs) });
  } finally {
    ping.stop();
    api.client.close();
    await server.stop();
    for (const session of sessions) session.ws.terminate();
  }
}

/**
 * Steady state with subscriptions active (docs/presence.md#what-it-costs): `users` online and pinging
 * at HEARTBEAT_TIMEOUT 30 s, nothing changing, through a window without
 * subscriptions, then, on the same worker and sockets, each watching the
 * `each` users after it, through a second window as long.
 */
export async function measureSteadyWithSubs(ctx, { users, each, windowMs, heartbeatTimeoutMs = 30_000 }) {
  const name = `subs-steady-${users}x${each}`;
  return withSteadyUsers(
    ctx,
    { name, users, heartbeatTimeoutMs, windowMs },
    async ({ api, uids, sessions, window }) => {
      ctx.log(`subs steady ${users}×${each}: window without subscriptions`);
      const without = await window();
      await mapLimit(sessions, 16, (session, i) => subscribe(session, ring(uids, i, each)));
      ctx.log(`subs steady ${users}×${each}: window with subscriptions`);
      const withSubs = await window();
      return {
        users,
        each,
        heartbeatTimeoutMs,
        without,
        with: withSubs,
        stillOnline: (await api.onlineAmong(uids)).length,
        errorFrames: errorFrames(sessions),
      };
    },
  );
}
