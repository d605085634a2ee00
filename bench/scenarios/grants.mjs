// Who may see whom (docs/security.md#who-may-see-whom), measured: with PRESENCE_VISIBILITY=granted,
// what one set_presence_grants change costs and how soon subscribed watchers get the real entry
// (counted, metered worker); the steady state of a large population in granted mode against the
// same in everyone mode (counted, side by side); the subscribe snapshot's latency in both modes;
// and whether anything in a snapshot's timing tells a hidden user from one that never existed.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Api } from "../lib/api.mjs";
import { countOne } from "../lib/counted.mjs";
import { HttpClient } from "../lib/http.mjs";
import { mapLimit, percentile } from "../lib/measure.mjs";
import { DevServer, migrate } from "../lib/server.mjs";
import { isOpen, keepAlive, openSession } from "../lib/sockets.mjs";
import { errorFrames, MAX_IDS_PER_FRAME, nextEntry, subscribe, watchFrames } from "../lib/watchers.mjs";
import { PING_EVERY_MS, pinger, startMetered } from "./cost.mjs";
import { ring, withSteadyUsers } from "./subs-cost.mjs";

/** The change-cost worker's HEARTBEAT_TIMEOUT: no verify inside any counted window (as in the subs phase). */
const COUNTING_TIMEOUT = "15m";
const CONNECTS_AT_ONCE = 32;
const EFFECTS_WITHIN_MS = 30_000;
/** Between timed subscribes: the last one's unsubscribe is done at its shard before the next goes. */
const SAMPLE_GAP_MS = 100;
/** set_presence_grants takes at most 1,000 uids per list (docs/api.md#post-managerset_presence_grants). */
const GRANTS_PER_CALL = 1_000;

/** The entry of a user the watcher may not see, or that never existed: exactly these three fields. */
const isUnknownEntry = (e) => e.status === "offline" && e.seq === 0 && Object.keys(e).length === 3;
const isRealOnline = (e) => e.status === "online" && e.seq > 0;

/** Who watches user j in the ring of subs-cost.mjs: the `each` users before it. */
const ringWatchers = (uids, j, each) =>
  Array.from({ length: each }, (_, k) => uids[(((j - 1 - k) % uids.length) + uids.length) % uids.length]);

/** A plain worker of its own (fresh state), with these vars. */
async function startPlain(ctx, name, vars) {
  const persistDir = join(ctx.workDir, `grants-${name}`);
  migrate(persistDir, join(ctx.workDir, `grants-${name}-migrate.log`));
  const server = await new DevServer({
    persistDir,
    vars: { ...ctx.secrets, ...vars },
    logFile: join(ctx.workDir, `grants-${name}.log`),
  }).start();
  return { server, api: new Api(new HttpClient(server.url), ctx.secrets.IM_SECRET) };
}

/** The shard a uid lives in: FNV-1a of its UTF-8 bytes modulo the count, as src/presence/shards.ts. */
export function shardOf(uid, shardCount) {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(uid, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shardCount;
}

/** `count` ids `${prefix}${n}` (n zero-padded, so all have one length) whose shards are spread as `spread` says. */
function idsWithSpread(prefix, spread, shardCount) {
  const wanted = [...spread];
  const ids = [];
  for (let n = 0; wanted.some((w) => w > 0); n++) {
    const id = `${prefix}${String(n).padStart(6, "0")}`;
    const shard = shardOf(id, shardCount);
    if (wanted[shard] > 0) {
      wanted[shard]--;
      ids.push(id);
    }
  }
  return ids;
}

const spreadOf = (ids, shardCount) => {
  const spread = new Array(shardCount).fill(0);
  for (const id of ids) spread[shardOf(id, shardCount)]++;
  return spread;
};

/**
 * Subscribes to `ids` (one frame, ≤ 200) and resolves with the time from just before the send
 * to the snapshot's arrival, with the snapshot's entries and its text's length.
 */
function timedSubscribe(session, ids, withinMs = 30_000) {
  return new Promise((resolve, reject) => {
    const done = (fn) => {
      clearTimeout(timer);
      session.ws.off("message", onMessage);
      fn();
    };
    const onMessage = (data, isBinary) => {
      const at = performance.now();
      if (isBinary) return;
      const text = data.toString();
      if (!text.startsWith("{")) return; // pong
      const frame = JSON.parse(text);
      if (frame.type === "error") return done(() => reject(new Error(`${session.uid}: error frame ${frame.errMsg}`)));
      if (frame.type !== "presence" || frame.users.length !== ids.length || frame.users[0]?.userID !== ids[0]) return;
      done(() => resolve({ ms: at - t0, users: frame.users, bytes: Buffer.byteLength(text) }));
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`${session.uid}: no snapshot within ${withinMs} ms`))),
      withinMs,
    );
    session.ws.on("message", onMessage);
    const t0 = performance.now();
    session.ws.send(JSON.stringify({ type: "subscribe", userIDs: ids }));
  });
}

const unsubscribe = (session, ids) => session.ws.send(JSON.stringify({ type: "unsubscribe", userIDs: ids }));

function latencyStats(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((sum, v) => sum + v, 0) / (sorted.length || 1),
  };
}

/**
 * The median of paired differences (a − b, samples taken side by side) with a distribution-free
 * 95 % confidence interval from the order statistics (the sign test's): if it holds 0, the pairs
 * show no difference at that level.
 */
function pairedDifference(a, b) {
  const d = a.map((v, i) => v - b[i]).sort((x, y) => x - y);
  const n = d.length;
  const half = (1.96 * Math.sqrt(n)) / 2;
  const lower = Math.max(0, Math.floor(n / 2 - half) - 1);
  const upper = Math.min(n - 1, Math.ceil(n / 2 + half) - 1);
  const aBelow = d.filter((v) => v < 0).length;
  return { n, median: percentile(d, 50), ci95: [d[lower], d[upper]], firstFaster: aBelow / n };
}

// ---- a. one grant change, counted -------------------------------------------------------

/**
 * On a metered worker in granted mode: subjects online (one socket each), `watchers` users
 * online (one socket each). For each case, the first `subscribed` watchers subscribe to the
 * case's subject (and must read it as unknown), then one set_presence_grants adds `add` of the
 * watchers (the subscribed ones first), counted until every subscribed watcher got the real
 * entry. Last, the largest case's grants are removed in one call: each watcher must get the
 * unknown user's entry.
 */
export async function measureGrantChangeCost(ctx, { watchers: watcherCount }) {
  const startedAt = performance.now();
  const { server, api } = await startMetered(ctx, "grants-change", {
    HEARTBEAT_TIMEOUT: COUNTING_TIMEOUT,
    PRESENCE_VISIBILITY: "granted",
  });
  const n = watcherCount;
  const cases = [
    { add: 1, subscribed: 0 },
    { add: 1, subscribed: 1 },
    { add: n, subscribed: 0 },
    { add: n, subscribed: 1 },
    { add: n, subscribed: n },
  ];
  const sessions = [];
  const ping = pinger(sessions, PING_EVERY_MS);
  const result = { heartbeatTimeout: COUNTING_TIMEOUT, watchers: n, steps: [] };
  try {
    const uid = (what) => `${ctx.runId}-grants-change-${what}`;
    const watcherUids = Array.from({ length: n }, (_, i) => uid(`w${i}`));
    const subjectUids = cases.map((_, k) => uid(`s${k}`));
    const watcherTokens = await api.registerAll(watcherUids);
    const subjectTokens = await api.registerAll(subjectUids);
    for (const [k, subject] of subjectUids.entries()) {
      sessions.push(await openSession(server.url, { uid: subject, token: subjectTokens[k], platform: 1 }));
    }
    const watcherSessions = await mapLimit(watcherUids, CONNECTS_AT_ONCE, async (u, i) =>
      watchFrames(await openSession(server.url, { uid: u, token: watcherTokens[i], platform: 1 })),
    );
    sessions.push(...watcherSessions);

    const count = async (label, c, subject, subscribedSessions, act, match) => {
      // Waiting from before the act: an inline delivery can reach the client before the call's answer.
      const arrivals = Promise.all(
        subscribedSessions.map((s) => nextEntry(s, subject, match, EFFECTS_WITHIN_MS + 10_000)),
      );
      const measured = await countOne(server, {
        act,
        effects: async (_acted, t0) => {
          const at = await arrivals;
          return at.length
            ? { watchersGotIt: at.length, firstWatcherMs: Math.min(...at) - t0, lastWatcherMs: Math.max(...at) - t0 }
            : { watchersGotIt: 0 };
        },
      });
      delete measured.acted;
      delete measured.t0;
      result.steps.push({ label, ...c, ...measured });
      ctx.log(
        `grants change: ${label}: answered in ${measured.actMs.toFixed(0)} ms${measured.watchersGotIt ? `, last watcher ${measured.lastWatcherMs.toFixed(0)} ms` : ""}`,
      );
    };

    for (const [k, c] of cases.entries()) {
      const subject = subjectUids[k];
      const subscribed = watcherSessions.slice(0, c.subscribed);
      // Subscribed before the grant: each must read the subject as unknown.
      const hidden = subscribed.map((s) => nextEntry(s, subject, isUnknownEntry, EFFECTS_WITHIN_MS));
      await mapLimit(subscribed, CONNECTS_AT_ONCE, (s) => subscribe(s, [subject]));
      await Promise.all(hidden);
      const granted = watcherUids.slice(0, c.add);
      const label = `add ${c.add} grant${c.add === 1 ? "" : "s"}, ${c.subscribed} of them subscribed`;
      await count(
        label,
        { op: "add", ...c },
        subject,
        subscribed,
        () => setGrants(api, subject, { add: granted }),
        isRealOnline,
      );
    }
    // The last case's grants removed: every subscribed watcher gets the unknown user's entry.
    const last = cases.at(-1);
    const subject = subjectUids.at(-1);
    await count(
      `remove ${last.add} grants, ${last.subscribed} of them subscribed`,
      { op: "remove", add: 0, remove: last.add, subscribed: last.subscribed },
      subject,
      watcherSessions.slice(0, last.subscribed),
      () => setGrants(api, subject, { remove: watcherUids.slice(0, last.add) }),
      isUnknownEntry,
    );
    result.errorFrames = errorFrames(watcherSessions);
  } finally {
    ping.stop();
    api.client.close();
    await server.stop();
    for (const session of sessions) session.ws.terminate();
  }
  result.elapsedSeconds = (performance.now() - startedAt) / 1000;
  return result;
}

/** set_presence_grants in calls of at most 1,000 uids per list. */
async function setGrants(api, uid, { add = [], remove = [] }) {
  for (let i = 0; i < Math.max(add.length, remove.length); i += GRANTS_PER_CALL) {
    await api.setPresenceGrants(uid, {
      add: add.slice(i, i + GRANTS_PER_CALL),
      remove: remove.slice(i, i + GRANTS_PER_CALL),
    });
  }
}

// ---- b. steady state, granted against everyone --------------------------------------------

/** Counts the online entries a session's presence frames carried (its snapshots', here). */
function countOnlineEntries(session) {
  session.onlineEntries = 0;
  session.ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (!text.startsWith("{")) return; // pong
    const frame = JSON.parse(text);
    if (frame.type === "presence") session.onlineEntries += frame.users.filter((u) => u.status === "online").length;
  });
  return session;
}

/**
 * On a metered worker at HEARTBEAT_TIMEOUT 30 s with PRESENCE_VISIBILITY=`mode`: `users` online
 * (one socket each, pinging), past their first verify a window without subscriptions; then every
 * user grants its presence to the `each` users that will watch it (in both modes, so only the
 * mode differs), each user subscribes to the `each` after it (a ring), and a window as long.
 */
export async function measureGrantsSteady(ctx, { users, each, windowMs, mode, heartbeatTimeoutMs = 30_000 }) {
  const name = `grants-steady-${mode}`;
  const setting = {
    name,
    users,
    heartbeatTimeoutMs,
    windowMs,
    vars: { PRESENCE_VISIBILITY: mode },
    wrap: countOnlineEntries,
  };
  return withSteadyUsers(ctx, setting, async ({ api, uids, sessions, window }) => {
    ctx.log(`grants steady ${mode} ${users}×${each}: window without subscriptions`);
    const without = await window();
    let t = performance.now();
    await mapLimit(uids, 8, (uid, j) => setGrants(api, uid, { add: ringWatchers(uids, j, each) }));
    const grantsSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    await mapLimit(sessions, 16, (session, i) => subscribe(session, ring(uids, i, each)));
    const subscribeSeconds = (performance.now() - t) / 1000;
    ctx.log(
      `grants steady ${mode} ${users}×${each}: ${users * each} grants in ${grantsSeconds.toFixed(0)} s, subscribed in ${subscribeSeconds.toFixed(0)} s; window with subscriptions`,
    );
    const withSubs = await window();
    return {
      mode,
      users,
      each,
      heartbeatTimeoutMs,
      without,
      with: withSubs,
      grants: users * each,
      grantsSeconds,
      subscribeSeconds,
      onlineEntriesInSnapshots: sessions.reduce((sum, s) => sum + s.onlineEntries, 0),
      stillOnline: (await api.onlineAmong(uids)).length,
      errorFrames: errorFrames(sessions),
    };
  });
}

// ---- c. subscribe latency, granted against everyone -----------------------------------------

/**
 * The workers of the latency comparison: everyone mode; granted mode with the grants set on the
 * running shard (which then holds each subject's grantees in memory, for fan-outs); and granted
 * mode restarted after the grants were set, as after any wake. A subscribe checks the frame's
 * grants in one indexed statement and never from that memory, so the two granted rows should
 * not differ: a difference would be the memory showing in the timing.
 */
const LATENCY_VARIANTS = [
  { name: "granted, grants set on the running shard", mode: "granted", restart: false },
  { name: "granted, after a restart", mode: "granted", restart: true },
  { name: "everyone", mode: "everyone", restart: false },
];

/**
 * Plain workers side by side, one per variant, set up alike: `subjects` users online, each
 * granting its presence to the `watchers` users (in every mode). Then, in rounds (the order of
 * the workers rotating from round to round), on each worker a watcher (in turn) subscribes to
 * all the subjects in one frame, the snapshot's arrival is timed, and it unsubscribes.
 */
export async function measureSubscribeLatency(ctx, { subjects, watchers, samples, warmup }) {
  if (subjects > MAX_IDS_PER_FRAME) throw new Error(`subjects: at most ${MAX_IDS_PER_FRAME}, one frame`);
  const workers = await Promise.all(
    LATENCY_VARIANTS.map(async (variant, v) => {
      const { server, api } = await startPlain(ctx, `latency-${v}`, { PRESENCE_VISIBILITY: variant.mode });
      const worker = { ...variant, server, api, subjectSessions: [], watcherSessions: [], times: [], turn: 0 };
      Object.assign(worker, { onlineSeen: 0, stops: [keepAlive(worker.subjectSessions, 10_000)] });
      worker.stops.push(keepAlive(worker.watcherSessions, 10_000));
      return worker;
    }),
  );
  const name = (kind, i) => `${ctx.runId}-grants-lat-${kind}${String(i).padStart(4, "0")}`;
  const subjectUids = Array.from({ length: subjects }, (_, i) => name("s", i));
  const watcherUids = Array.from({ length: watchers }, (_, i) => name("w", i));
  try {
    await Promise.all(
      workers.map(async (w) => {
        const subjectTokens = await w.api.registerAll(subjectUids);
        const watcherTokens = await w.api.registerAll(watcherUids);
        await mapLimit(subjectUids, 8, (uid) => setGrants(w.api, uid, { add: watcherUids }));
        if (w.restart) {
          await w.server.restart();
          w.api.client.close();
          w.api = new Api(new HttpClient(w.server.url), ctx.secrets.IM_SECRET);
        }
        w.subjectSessions.push(
          ...(await mapLimit(subjectUids, 16, (uid, i) =>
            openSession(w.server.url, { uid, token: subjectTokens[i], platform: 1 }),
          )),
        );
        w.watcherSessions.push(
          ...(await mapLimit(watcherUids, 16, (uid, i) =>
            openSession(w.server.url, { uid, token: watcherTokens[i], platform: 1 }),
          )),
        );
      }),
    );
    ctx.log(
      `grants latency: ${subjects} subjects online on each of ${workers.length} workers; ${warmup} warm-up and ${samples} timed subscribes on each`,
    );
    const sample = async (w, keep) => {
      const session = w.watcherSessions[w.turn++ % watchers];
      const snapshot = await timedSubscribe(session, subjectUids);
      unsubscribe(session, subjectUids);
      if (keep) {
        w.times.push(snapshot.ms);
        w.onlineSeen += snapshot.users.filter((u) => u.status === "online").length;
      }
      await sleep(SAMPLE_GAP_MS);
    };
    for (let i = 0; i < warmup + samples; i++) {
      const order = workers.map((_, j) => workers[(j + i) % workers.length]);
      for (const w of order) await sample(w, i >= warmup);
    }
    const everyone = workers.find((w) => w.mode === "everyone");
    return {
      subjects,
      watchers,
      samples,
      warmup,
      variants: workers.map((w) => ({
        name: w.name,
        mode: w.mode,
        restart: w.restart,
        ...latencyStats(w.times),
        onlineEntries: w.onlineSeen,
        entries: w.times.length * subjects,
        watchersOpen: w.watcherSessions.filter(isOpen).length,
        againstEveryone: w === everyone ? undefined : pairedDifference(w.times, everyone.times),
      })),
    };
  } finally {
    for (const w of workers) {
      for (const stop of w.stops) stop();
      w.api.client.close();
      await w.server.stop();
      for (const session of [...w.subjectSessions, ...w.watcherSessions]) session.ws.terminate();
    }
  }
}

// ---- d. hidden against unknown ----------------------------------------------------------

/**
 * On a plain worker in granted mode at PRESENCE_SHARDS=`shards`, three kinds of `ids` uids, each
 * kind spread over the shards alike, every uid of one length:
 * - hidden, granted to others: registered and online, each granting its presence to one user
 *   who is not a watcher (so the shard holds its grantees in memory);
 * - hidden, granted to nobody: registered and online, no grant at all;
 * - unknown: never registered.
 * A watcher (one of `watchers`, in turn) subscribes to all of one kind in one frame, the
 * snapshot is timed and checked (every entry exactly an unknown user's), then it unsubscribes.
 * Kinds are interleaved in rounds, the order rotating each round, `samples` rounds.
 */
export async function measureHiddenTiming(ctx, { ids, watchers, samples, warmup, shards }) {
  const { server, api } = await startPlain(ctx, `hidden-${shards}`, {
    PRESENCE_VISIBILITY: "granted",
    PRESENCE_SHARDS: String(shards),
  });
  const online = [];
  const watcherSessions = [];
  const stops = [keepAlive(online, 10_000), keepAlive(watcherSessions, 10_000)];
  try {
    const prefix = (kind) => `${ctx.runId}-gh-${kind}-`;
    const natural = Array.from({ length: ids }, (_, i) => `${prefix("a")}${String(i).padStart(6, "0")}`);
    const spread = spreadOf(natural, shards);
    const kinds = [
      { kind: "hiddenGranting", label: "hidden: exists, online, granted others but not the watcher", ids: natural },
      {
        kind: "hiddenNoGrants",
        label: "hidden: exists, online, granted nobody",
        ids: idsWithSpread(prefix("b"), spread, shards),
      },
      { kind: "unknown", label: "unknown: never registered", ids: idsWithSpread(prefix("u"), spread, shards) },
    ];
    const decoy = `${ctx.runId}-gh-decoy`;
    const watcherUids = Array.from({ length: watchers }, (_, i) => `${ctx.runId}-gh-w${String(i).padStart(4, "0")}`);
    await api.register(decoy);
    for (const k of kinds.slice(0, 2)) {
      const tokens = await api.registerAll(k.ids);
      online.push(
        ...(await mapLimit(k.ids, 16, (uid, i) => openSession(server.url, { uid, token: tokens[i], platform: 1 }))),
      );
    }
    await mapLimit(kinds[0].ids, 8, (uid) => api.setPresenceGrants(uid, { add: [decoy] }));
    const watcherTokens = await api.registerAll(watcherUids);
    watcherSessions.push(
      ...(await mapLimit(watcherUids, 16, (uid, i) =>
        openSession(server.url, { uid, token: watcherTokens[i], platform: 1 }),
      )),
    );
    ctx.log(
      `grants hidden (${shards} shard${shards === 1 ? "" : "s"}): ${warmup} warm-up and ${samples} timed rounds of 3 kinds`,
    );

    for (const k of kinds) Object.assign(k, { times: [], bytes: new Set(), notUnknown: 0, entries: 0 });
    let turn = 0;
    const idLength = kinds[0].ids[0].length;
    for (let round = 0; round < warmup + samples; round++) {
      const order = kinds.map((_, j) => kinds[(j + round) % kinds.length]);
      for (const k of order) {
        const session = watcherSessions[turn++ % watchers];
        const snapshot = await timedSubscribe(session, k.ids);
        unsubscribe(session, k.ids);
        if (round >= warmup) {
          k.times.push(snapshot.ms);
          k.entries += snapshot.users.length;
          k.notUnknown += snapshot.users.filter((u) => !isUnknownEntry(u)).length;
          k.bytes.add(snapshot.bytes);
        }
        await sleep(SAMPLE_GAP_MS);
      }
    }
    const unknown = kinds[2];
    return {
      shards,
      ids,
      idLength,
      watchers,
      samples,
      warmup,
      spread,
      stillOnline: (await api.onlineAmong([...kinds[0].ids, ...kinds[1].ids])).length,
      kinds: kinds.map((k) => ({
        kind: k.kind,
        label: k.label,
        ...latencyStats(k.times),
        entries: k.entries,
        notUnknown: k.notUnknown,
        snapshotBytes: [...k.bytes],
        spreadChecked: JSON.stringify(spreadOf(k.ids, shards)) === JSON.stringify(spread),
        againstUnknown: k === unknown ? undefined : pairedDifference(k.times, unknown.times),
      })),
    };
  } finally {
    for (const stop of stops) stop();
    api.client.close();
    await server.stop();
    for (const session of [...online, ...watcherSessions]) session.ws.terminate();
  }
}

// ---- the phase ----------------------------------------------------------------------------

export async function measureGrants(ctx, o) {
  const startedAt = performance.now();
  const result = {};
  ctx.log("grants: one set_presence_grants change, counted (metered worker, PRESENCE_VISIBILITY=granted)");
  result.change = await measureGrantChangeCost(ctx, o.change);
  ctx.log("grants: subscribe latency, granted against everyone (plain workers side by side)");
  result.latency = await measureSubscribeLatency(ctx, o.latency);
  result.hidden = [];
  for (const shards of o.hidden.shardCounts) {
    result.hidden.push(await measureHiddenTiming(ctx, { ...o.hidden, shards }));
  }
  ctx.log(
    `grants: steady state of ${o.steady.users}×${o.steady.each}, granted and everyone side by side (metered workers)`,
  );
  result.steady = await Promise.all(
    ["granted", "everyone"].map((mode) => measureGrantsSteady(ctx, { ...o.steady, mode })),
  );
  result.seconds = (performance.now() - startedAt) / 1000;
  return result;
}
