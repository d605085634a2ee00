// The shared shard under subscription churn: one user watches as many ids as the protocol
// lets it, on a socket per platform, then churns one id per socket inside the frame budget.
// How much slower an unrelated user's status read gets meanwhile (on a plain worker, one
// shard), how the workerd processes' memory grows, and, counted on the metered worker, what
// one subscribe or unsubscribe frame costs as the socket's watch list grows.
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Api } from "../lib/api.mjs";
import {
  CHURN_EVERY_MS,
  FramePacer,
  holdSubscriptions,
  idBytes,
  manyIds,
  openAttacker,
  registerWithTokens,
  startChurn,
} from "../lib/attacker.mjs";
import { HttpClient } from "../lib/http.mjs";
import { percentile } from "../lib/measure.mjs";
import { cpuMs, DevServer, migrate } from "../lib/server.mjs";
import { closed, isOpen, keepAlive, openSession } from "../lib/sockets.mjs";
import { MAX_IDS_PER_FRAME, snapshotOf, watchFrames } from "../lib/watchers.mjs";
import { readMeter, resetMeter, startMetered } from "./cost.mjs";

/** Between the victim's reads before the attack: the block only needs to be quiet. */
const BASELINE_GAP_MS = 250;
/** After connects and subscriptions, before memory is read: the runtime settles. */
const SETTLE_MS = 2_000;
const RSS_EVERY_MS = 2_000;
/** A reopened attacker socket's upgrade, and then its subscribes, each get this long. */
const REOPEN_WITHIN_MS = 60_000;
/** The counting worker's HEARTBEAT_TIMEOUT: no verify inside any counted window (as in the subs phase). */
const COUNTING_TIMEOUT = "15m";
/** Before each counted frame: a quiet window that must count nothing. After it: trailing work. */
const QUIET_MS = 2_000;
const TRAILING_MS = 2_000;
const CPU_TRAILING_MS = 200;

/** A plain worker of its own (fresh state, one presence shard unless vars say otherwise). */
async function startPlain(ctx, name, vars) {
  const persistDir = join(ctx.workDir, `stall-${name}`);
  migrate(persistDir, join(ctx.workDir, `stall-${name}-migrate.log`));
  const server = await new DevServer({
    persistDir,
    vars: { ...ctx.secrets, ...vars },
    logFile: join(ctx.workDir, `stall-${name}.log`),
  }).start();
  return { server, api: new Api(new HttpClient(server.url), ctx.secrets.IM_SECRET) };
}

const totalRss = (rss) => Object.values(rss).reduce((sum, bytes) => sum + bytes, 0);

/**
 * Requests one at a time: request i starts at `from` + i × slotMs, or when request i−1
 * ended if that is later, while `more()` says so and until `untilMs` (performance.now())
 * passed. Each has its own timeout: one that gets no answer by then counts as failed.
 * Each records when it started, from `origin`.
 */
async function requestLoop(request, { slotMs, timeoutMs, from, origin = from, untilMs, more }) {
  const done = [];
  for (let i = 0; more(done.length); i++) {
    const wait = from + i * slotMs - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() >= untilMs || !more(done.length)) break;
    const t0 = performance.now();
    try {
      const extra = await request(timeoutMs);
      done.push({ atMs: t0 - origin, ms: performance.now() - t0, ...extra });
    } catch (error) {
      done.push({ atMs: t0 - origin, error: error?.timedOut ? "timeout" : String(error?.message ?? error) });
    }
  }
  return done;
}

/**
 * `samples` status reads of one uid, one at a time on their slots (requestLoop), and beside
 * them, on the same slots and also one at a time, floor requests (refused at the secret:
 * the whole HTTP path, no object), until the last read ended: they tell a stalled runtime
 * from a stalled shard. With `attacker`, each read notes how many of its sockets were open.
 */
async function readBlock(api, uid, { samples, untilMs = Number.POSITIVE_INFINITY, attacker = undefined, ...timing }) {
  let readsDone = false;
  const reads = requestLoop(
    async (ms) => {
      const attackerSockets = attacker?.openSockets();
      const [entry] = await api.status([uid], { timeoutMs: ms });
      return { online: entry.status === "online", attackerSockets };
    },
    { ...timing, untilMs, more: (n) => n < samples },
  ).finally(() => {
    readsDone = true;
  });
  const floors = requestLoop(async (ms) => void (await api.refused({ timeoutMs: ms })), {
    ...timing,
    untilMs,
    more: () => !readsDone,
  });
  return { reads: await reads, floors: await floors };
}

/**
 * Percentiles over every read taken, a failed one counting as slower than any answer: when
 * it decides a percentile, that percentile is the timeout, marked as a lower bound.
 */
export function readStats({ reads, floors }, timeoutMs) {
  const sorted = (list) =>
    list.map((r) => (r.error === undefined ? r.ms : Number.POSITIVE_INFINITY)).sort((a, b) => a - b);
  const bound = (list, p) => {
    const v = percentile(list, p);
    return v === Number.POSITIVE_INFINITY ? { ms: timeoutMs, atLeast: true } : { ms: v, atLeast: false };
  };
  const latencies = sorted(reads);
  const floorLatencies = sorted(floors);
  return {
    taken: reads.length,
    answered: reads.filter((r) => r.error === undefined).length,
    timeouts: reads.filter((r) => r.error === "timeout").length,
    otherErrors: reads.filter((r) => r.error !== undefined && r.error !== "timeout").map((r) => r.error),
    readOnline: reads.filter((r) => r.online).length,
    fewestAttackerSockets: Math.min(...reads.map((r) => r.attackerSockets ?? Number.POSITIVE_INFINITY)),
    p50: bound(latencies, 50),
    p99: bound(latencies, 99),
    floor: {
      taken: floors.length,
      answered: floors.filter((r) => r.error === undefined).length,
      p50: bound(floorLatencies, 50),
    },
  };
}

/**
 * One attack on a fresh plain worker with one presence shard: a victim online, its status
 * read before the attacker connects, then the attacker holds its ids on every platform
 * and churns while the victim's status is read again. Sockets and the server always end.
 */
async function stallRun(ctx, kind, o) {
  const startedAt = performance.now();
  const { server, api } = await startPlain(ctx, kind, { PRESENCE_SHARDS: "1" });
  const victim = { uid: `${ctx.runId}-stall-victim-${kind}` };
  const victimSessions = [];
  const stopVictimPing = keepAlive(victimSessions, 10_000);
  let attacker;
  let churn;
  let rssTimer;
  const result = {
    kind,
    idBytes: idBytes(kind),
    platforms: o.platforms.length,
    idsPerSocket: o.idsPerSocket,
    baselineGapMs: BASELINE_GAP_MS,
    churnEveryMs: CHURN_EVERY_MS,
  };
  try {
    const token = await api.register(victim.uid, 1);
    victimSessions.push(await openSession(server.url, { uid: victim.uid, token, platform: 1 }));
    const attackerUid = `${ctx.runId}-stall-attacker-${kind}`;
    // Registered first, so memory before is the attacker's connects and subscriptions away.
    const holdIds = o.platforms.map((_, i) => manyIds(kind, o.idsPerSocket, { from: i * o.idsPerSocket }));
    const churnIds = manyIds(kind, o.platforms.length, { from: o.platforms.length * o.idsPerSocket });
    const tokens = await registerWithTokens(api, attackerUid, o.platforms);
    await sleep(SETTLE_MS);

    // The machine's load (1 min average) around each block: other jobs share the two cores.
    result.load = { beforeBaseline: os.loadavg()[0] };
    const timeoutMs = o.readTimeoutMs;
    const before = await readBlock(api, victim.uid, {
      samples: o.samples,
      slotMs: BASELINE_GAP_MS,
      timeoutMs,
      from: performance.now(),
    });
    result.baseline = { ...readStats(before, timeoutMs), ...before };
    await sleep(SETTLE_MS);
    result.rssBefore = server.rss();

    attacker = await openAttacker(server, { uid: attackerUid, platforms: o.platforms, tokens, holdIds, churnIds });
    result.setup = await holdSubscriptions(attacker, performance.now() + o.setupTimeoutMs);
    ctx.log(
      `stall ${kind}: ${result.setup.answered} of ${result.setup.frames} subscribe frames answered in ${result.setup.seconds.toFixed(1)} s`,
    );
    await sleep(SETTLE_MS);
    result.rssHeld = server.rss();

    let peak = totalRss(result.rssHeld);
    rssTimer = setInterval(() => {
      peak = Math.max(peak, totalRss(server.rss()));
    }, RSS_EVERY_MS);
    // A socket the server closes comes back and subscribes again: the attack lasts the whole block.
    const churnCpu0 = cpuMs(server.workerPid);
    churn = startChurn(attacker, { reopen: true, resubscribeMs: REOPEN_WITHIN_MS });
    const during = await readBlock(api, victim.uid, {
      samples: o.samples,
      slotMs: o.slotMs,
      timeoutMs,
      from: churn.started + o.slotMs,
      origin: churn.started,
      untilMs: churn.started + o.attackCapMs,
      attacker,
    });
    result.load.afterAttack = os.loadavg()[0];
    result.churn = await churn.stop();
    // How busy the churn kept the worker's workerd (every object and the routes share its one thread locally).
    result.churn.workerCpuShare = (cpuMs(server.workerPid) - churnCpu0) / (result.churn.seconds * 1000);
    clearInterval(rssTimer);
    result.rssPeakDuringChurn = Math.max(peak, totalRss(server.rss()));
    result.attack = { ...readStats(during, timeoutMs), ...during };
    result.attacker = attacker.state(churn.started);
    result.victimStillOpen = isOpen(victimSessions[0]);
    const ratio = result.attack.p50.ms / result.baseline.p50.ms;
    result.ratio = { value: ratio, atLeast: result.attack.p50.atLeast };
    ctx.log(
      `stall ${kind}: status p50 ${result.baseline.p50.ms.toFixed(1)} ms before, ${result.attack.p50.atLeast ? "≥ " : ""}${result.attack.p50.ms.toFixed(0)} ms during the churn (${result.attack.answered} of ${result.attack.taken} answered): ${ratio.toFixed(1)}×`,
    );
  } finally {
    clearInterval(rssTimer);
    // After a failure too: a churn left running would reopen its sockets against a stopped server.
    await churn?.stop();
    stopVictimPing();
    api.client.close();
    // Stopped with the sockets open: closing them first would only queue more work on a stalled shard.
    await server.stop();
    attacker?.terminate();
    for (const session of victimSessions) session.ws.terminate();
  }
  result.elapsedSeconds = (performance.now() - startedAt) / 1000;
  return result;
}

/** The stall, for each kind of id (four-byte emoji first, the target; ASCII, milder). */
export async function measureStall(ctx, o) {
  const rows = [];
  for (const kind of o.kinds) rows.push(await stallRun(ctx, kind, o));
  return rows;
}

// ---- counted on the metered worker --------------------------------------------------

/** The meter's counts, or undefined if a stalled worker does not answer within `withinMs`. */
const meterWithin = (server, withinMs) =>
  Promise.race([readMeter(server).then(JSON.stringify), sleep(withinMs, undefined, { ref: false })]);

/** Polls the meter until it stops changing for `stableMs` (or `capMs` passed); returns the counts. */
async function meterSettled(server, { stableMs = 1_500, everyMs = 250, capMs = 180_000 } = {}) {
  const deadline = performance.now() + capMs;
  let last = await readMeter(server).then(JSON.stringify);
  let since = performance.now();
  while (performance.now() < deadline) {
    await sleep(everyMs);
    const now = await meterWithin(server, Math.max(1, deadline - performance.now()));
    if (now === undefined) break;
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= stableMs) break;
  }
  return { counts: JSON.parse(last), settled: performance.now() < deadline };
}

/**
 * One frame counted alone: a quiet window (it must count nothing), reset, send, wait for
 * its snapshot (a subscribe), then until the meter stops changing (trailing work), read.
 * The worker's workerd CPU (10 ms ticks) in the TRAILING_MS after the send, and in as long
 * a span before it, with nothing sent.
 */
async function countOneFrame(server, session, pacer, frame) {
  await sleep(QUIET_MS);
  await resetMeter(server);
  await sleep(QUIET_MS);
  const quiet = await readMeter(server);
  await resetMeter(server);
  const answer = frame.type === "subscribe" ? snapshotOf(session, frame.userIDs) : undefined;
  // The worker's CPU over TRAILING_MS from the send, against as long a span of the quiet window.
  const idleCpu0 = cpuMs(server.workerPid);
  await sleep(TRAILING_MS);
  const idleCpuMs = cpuMs(server.workerPid) - idleCpu0;
  const cpu0 = cpuMs(server.workerPid);
  const t0 = performance.now();
  await pacer.send(frame);
  const answeredMs = answer ? (await answer) - t0 : undefined;
  await sleep(Math.max(0, t0 + TRAILING_MS - performance.now()));
  const workerCpuMs = cpuMs(server.workerPid) - cpu0;
  const { counts } = await meterSettled(server);
  return { counts, quiet, answeredMs, workerCpuMs, idleCpuMs };
}

/**
 * The worker's CPU per frame, which one frame's 10 ms ticks cannot show: `pairs` times an
 * unsubscribe of `id` and a subscribe of it again, each subscribe's snapshot awaited, and
 * the worker's workerd CPU from the first send until CPU_TRAILING_MS after the last
 * snapshot, per frame (no meter reads inside: they cost CPU too).
 */
async function cpuPerFrame(server, session, pacer, id, pairs) {
  await meterSettled(server);
  const cpu0 = cpuMs(server.workerPid);
  const t0 = performance.now();
  for (let k = 0; k < pairs; k++) {
    await pacer.send({ type: "unsubscribe", userIDs: [id] });
    const snapshot = snapshotOf(session, [id]);
    await pacer.send({ type: "subscribe", userIDs: [id] });
    await snapshot;
  }
  const seconds = (performance.now() - t0) / 1000;
  // Each unsubscribe reached the shard before the subscribe after it, whose snapshot came: a moment for the last rows.
  await sleep(CPU_TRAILING_MS);
  const workerCpuMsPerFrame = (cpuMs(server.workerPid) - cpu0) / (2 * pairs);
  await meterSettled(server);
  return { frames: 2 * pairs, seconds, workerCpuMsPerFrame };
}

/**
 * Per frame, as the socket's list grows: one socket subscribes four-byte ids up to each N
 * of `counts`, then one unsubscribe of a watched id (N → N−1) and one subscribe of it
 * again (N−1 → N) are counted alone, and the CPU per frame is taken over `cpuPairs` more. Then the attack of the latency rows, counted: its
 * churn over `churnMs`, until the worker has done every frame, per frame sent.
 */
async function countFrames(ctx, o) {
  const { server, api } = await startMetered(ctx, "stall-frames", {
    HEARTBEAT_TIMEOUT: COUNTING_TIMEOUT,
    PRESENCE_SHARDS: "1",
  });
  const sessions = [];
  const stopPing = keepAlive(sessions, 10_000);
  let attacker;
  try {
    const uid = `${ctx.runId}-stall-frames`;
    const token = await api.register(uid, 1);
    const session = watchFrames(await openSession(server.url, { uid, token, platform: 1 }));
    sessions.push(session);
    const pacer = new FramePacer(session);
    const ids = manyIds("emoji", Math.max(...o.counts), { salt: 1 });
    const steps = [];
    let held = 0;
    for (const n of o.counts) {
      while (held < n) {
        const chunk = ids.slice(held, Math.min(n, held + MAX_IDS_PER_FRAME));
        const snapshot = snapshotOf(session, chunk);
        await pacer.send({ type: "subscribe", userIDs: chunk });
        await snapshot;
        held += chunk.length;
      }
      const id = ids[n - 1];
      const unsubscribe = await countOneFrame(server, session, pacer, { type: "unsubscribe", userIDs: [id] });
      const subscribe = await countOneFrame(server, session, pacer, { type: "subscribe", userIDs: [id] });
      const repeated = await cpuPerFrame(server, session, pacer, id, o.cpuPairs);
      steps.push({ watching: n, unsubscribe, subscribe, repeated });
      ctx.log(`stall frames: a socket watching ${n.toLocaleString("en")} ids, one frame each way counted`);
    }
    const errorFrames = [...session.errors];
    // The socket goes (the shard forgets its list) before the attacker comes.
    session.ws.close(1000);
    await closed(session);
    await meterSettled(server);

    const kind = "emoji";
    const holdIds = o.platforms.map((_, i) => manyIds(kind, o.idsPerSocket, { salt: 2, from: i * o.idsPerSocket }));
    const churnIds = manyIds(kind, o.platforms.length, { salt: 2, from: o.platforms.length * o.idsPerSocket });
    const attackerUid = `${ctx.runId}-stall-attacker-counted`;
    const tokens = await registerWithTokens(api, attackerUid, o.platforms);
    attacker = await openAttacker(server, { uid: attackerUid, platforms: o.platforms, tokens, holdIds, churnIds });
    const setup = await holdSubscriptions(attacker, performance.now() + o.setupTimeoutMs);
    await meterSettled(server);
    await resetMeter(server);
    const cpu0 = cpuMs(server.workerPid);
    const churn = startChurn(attacker);
    await sleep(o.costChurnMs);
    const churned = await churn.stop();
    const drainStarted = performance.now();
    const { counts, settled } = await meterSettled(server);
    const churnCount = {
      sockets: o.platforms.length,
      setup,
      ...churned,
      frames: churned.subscribes + churned.unsubscribes,
      drainSeconds: (performance.now() - drainStarted) / 1000,
      settled,
      counts,
      workerCpuMs: cpuMs(server.workerPid) - cpu0,
      attacker: attacker.state(churn.started),
    };
    ctx.log(`stall frames: the attack's churn counted, ${churnCount.frames} frames in ${churned.seconds.toFixed(0)} s`);
    return { steps, errorFrames, churn: churnCount };
  } finally {
    stopPing();
    api.client.close();
    await server.stop();
    attacker?.terminate();
    for (const session of sessions) session.ws.terminate();
  }
}

/**
 * One unsubscribe of 200 ids nobody ever subscribed, from a socket that watches nothing, on
 * a metered worker with `shards` presence shards: the shards it calls, and starts.
 */
async function countUnknownUnsubscribe(ctx, shards) {
  const { server, api } = await startMetered(ctx, `stall-shards${shards}`, {
    HEARTBEAT_TIMEOUT: COUNTING_TIMEOUT,
    PRESENCE_SHARDS: String(shards),
  });
  let session;
  try {
    const uid = `${ctx.runId}-stall-unknown`;
    session = watchFrames(await openSession(server.url, { uid, token: await api.register(uid, 1), platform: 1 }));
    const ids = manyIds("emoji", MAX_IDS_PER_FRAME, { salt: 3 });
    const counted = await countOneFrame(server, session, new FramePacer(session), {
      type: "unsubscribe",
      userIDs: ids,
    });
    return { shards, ids: ids.length, ...counted, errorFrames: [...session.errors] };
  } finally {
    api.client.close();
    await server.stop();
    session?.ws.terminate();
  }
}

export async function measureStallCost(ctx, o) {
  const frames = await countFrames(ctx, o);
  const unknown = await countUnknownUnsubscribe(ctx, o.unknownShards);
  ctx.log(
    `stall frames: an unsubscribe of 200 unknown ids at ${o.unknownShards} shards called ${unknown.counts["PresenceIndex.request.unwatch"] ?? 0} shards and started ${unknown.counts["PresenceIndex.started"] ?? 0}`,
  );
  return { ...frames, unknown, churnEveryMs: CHURN_EVERY_MS };
}
