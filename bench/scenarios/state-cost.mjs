// What one change of what a user says about its own presence costs
// (docs/protocol.md#your-own-presence), counted on the metered worker
// (bench/metering): background on and off and a flip, a custom status set by a
// frame or by the AppServer, cleared, and expired with no request at all,
// invisibility on and off, beside a connect and a close of a second platform;
// each with 0 and N watchers, with webhooks off and on. And the steady state of
// users who are in the background with a custom status, against the same users
// without: nothing may cost per hour while nothing changes.
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit } from "../lib/measure.mjs";
import { closed, isOpen, openSession } from "../lib/sockets.mjs";
import { errorFrames, nextEntry, subscribe, watchFrames } from "../lib/watchers.mjs";
import { PING_EVERY_MS, pinger, SETTLE_MS, startMetered, startReceiver, webhookVars } from "./cost.mjs";
import { CHANGE_TIMEOUT_MS, oneChange, QUIET_MS, TRAILING_MS, withSteadyUsers } from "./subs-cost.mjs";

const CONNECTS_AT_ONCE = 32;
/** docs/protocol.md#your-own-presence: watchers get an entry without the status within 2 s of its expiry. */
const EXPIRY_WITHIN_MS = 2_000;
/**
 * How far ahead the expiring status is set. Its own count (up to its trailing
 * moment), the status check and the expiry's quiet window all come before the
 * expiry, with a few seconds to spare; the run fails if they did not.
 */
const EXPIRY_AHEAD_MS = 13_000;
/** A webhook event reaches the receiver within the queue's batch timeout (1 s) and the POST; this is the most we wait. */
const EVENTS_WITHIN_MS = 20_000;

const TEXT = { frame: "In a meeting", route: "On holiday", expiring: "Back in a moment" };

const sendSet = (session, fields) => session.ws.send(JSON.stringify({ type: "set", ...fields }));
const noBackground = (e) => e.status === "online" && !e.background?.length;

/**
 * The changes counted, in order, on one subject whose platform 1 socket (`a`)
 * is online, in the foreground, visible, with no custom status. `seqs`: the
 * seqs the change takes, which is also its webhook events (the grace is 0).
 * `entry`: what a watcher's entry for it looks like; `status`: what the status
 * route answers after it (checked after the count). A change with `seqs` 0 has
 * no entry to wait for: its watchers must get no frame at all.
 */
const KINDS = [
  {
    kind: "noop",
    label: "a set frame that changes nothing (background false, invisible false, customStatus null: all as they are)",
    seqs: 0,
    act: (s) => sendSet(s.a, { background: false, invisible: false, customStatus: null }),
    status: (e) => e.status === "online" && !e.invisible && !e.customStatus && !isBackground(e),
  },
  {
    kind: "background-on",
    label: "background on (a set frame)",
    seqs: 1,
    act: (s) => sendSet(s.a, { background: true }),
    entry: (e) => e.status === "online" && e.background?.length === 1,
    status: (e) => isBackground(e),
  },
  {
    kind: "background-off",
    label: "background off (a set frame)",
    seqs: 1,
    act: (s) => sendSet(s.a, { background: false }),
    entry: noBackground,
    status: (e) => e.status === "online" && !isBackground(e),
  },
  {
    kind: "flip",
    label: "**a background flip**: on, then off at once (two set frames, counted together)",
    seqs: 2,
    act: (s) => {
      sendSet(s.a, { background: true });
      sendSet(s.a, { background: false });
    },
    entry: noBackground,
    status: (e) => e.status === "online" && !isBackground(e),
  },
  {
    kind: "status-frame",
    label: "custom status set (a set frame)",
    seqs: 1,
    act: (s) => sendSet(s.a, { customStatus: { text: TEXT.frame } }),
    entry: (e) => e.customStatus?.text === TEXT.frame,
    status: (e) => e.customStatus?.text === TEXT.frame,
  },
  {
    kind: "status-same",
    label: "the same custom status again (a set frame that changes nothing)",
    seqs: 0,
    act: (s) => sendSet(s.a, { customStatus: { text: TEXT.frame } }),
    status: (e) => e.customStatus?.text === TEXT.frame,
  },
  {
    kind: "status-route",
    label: "custom status set by the AppServer (POST /user/set_custom_status)",
    seqs: 1,
    act: (s) => s.api.setCustomStatus(s.uid, { text: TEXT.route }),
    entry: (e) => e.customStatus?.text === TEXT.route,
    status: (e) => e.customStatus?.text === TEXT.route,
  },
  {
    kind: "status-clear",
    label: "custom status cleared (a set frame, null)",
    seqs: 1,
    act: (s) => sendSet(s.a, { customStatus: null }),
    entry: (e) => e.status === "online" && !e.customStatus,
    status: (e) => !e.customStatus,
  },
  {
    kind: "status-expiring",
    label: `custom status set with an expiry ${EXPIRY_AHEAD_MS / 1000}–${EXPIRY_AHEAD_MS / 1000 + 1} s ahead (a set frame)`,
    seqs: 1,
    act: (s) => {
      s.expiresAt = Math.ceil((Date.now() + EXPIRY_AHEAD_MS) / 1000);
      sendSet(s.a, { customStatus: { text: TEXT.expiring, expiresAt: s.expiresAt } });
    },
    entry: (e) => e.customStatus?.text === TEXT.expiring,
    status: (e, s) => e.customStatus?.text === TEXT.expiring && e.customStatus.expiresAt === s.expiresAt,
  },
  {
    kind: "status-expiry",
    label: "**custom status expiry**, with no request from anyone (the shard's alarm); times from the expiry",
    seqs: 1,
    expiry: true,
    // The count starts before the expiry and lasts until the last watcher got its entry (with none: 2 s after it).
    act: async (s) => {
      const leftMs = s.expiresAt * 1000 - Date.now();
      if (leftMs < 500)
        throw new Error(`state cost: the expiry's window started ${leftMs} ms before it; expected > 500`);
      await sleep(leftMs);
    },
    entry: (e) => e.status === "online" && !e.customStatus,
    status: (e) => !e.customStatus,
  },
  {
    kind: "invisible-on",
    label: "invisible on (a set frame)",
    seqs: 1,
    act: (s) => sendSet(s.a, { invisible: true }),
    entry: (e) => e.status === "offline",
    status: (e) => e.invisible === true,
  },
  {
    kind: "invisible-off",
    label: "invisible off (a set frame)",
    seqs: 1,
    act: (s) => sendSet(s.a, { invisible: false }),
    entry: (e) => e.status === "online",
    status: (e) => e.status === "online" && !e.invisible,
  },
  {
    kind: "connect-2nd",
    label: "a connect of a second platform (for comparison; times include the handshake)",
    seqs: 1,
    act: async (s) => {
      s.b = watchFrames(await openSession(s.server.url, { uid: s.uid, token: s.secondToken, platform: 2 }));
      s.sessions.push(s.b);
    },
    entry: (e) => e.status === "online" && e.platforms?.length === 2,
    status: (e) => e.detailPlatformStatus?.length === 2,
  },
  {
    kind: "close-2nd",
    label: "a clean close of that platform (for comparison; times from the client's close())",
    seqs: 1,
    act: async (s) => {
      s.b.ws.close(1000);
      await closed(s.b);
    },
    entry: (e) => e.status === "online" && e.platforms?.length === 1,
    status: (e) => e.detailPlatformStatus?.length === 1,
  },
];

/** A status answer's entry says some live platform is in the background. */
function isBackground(entry) {
  return (entry.detailPlatformStatus ?? []).some((p) => p.isBackground === true);
}

/** Keeps, per watched user, the latest entry the session got: the seq a change must pass. */
function trackLatest(session) {
  session.latest = new Map();
  session.ws.on("message", (data, isBinary) => {
    const text = isBinary ? "" : data.toString();
    if (!text.startsWith("{")) return;
    const frame = JSON.parse(text);
    if (frame.type !== "presence") return;
    for (const entry of frame.users) {
      const known = session.latest.get(entry.userID);
      if (!known || entry.seq >= known.seq || entry.seq === 0) session.latest.set(entry.userID, entry);
    }
  });
  return session;
}

async function untilEvents(receiver, atLeast) {
  const deadline = Date.now() + EVENTS_WITHIN_MS;
  while (receiver.received.events < atLeast) {
    if (Date.now() > deadline)
      throw new Error(`state cost: the receiver got ${receiver.received.events} events, expected ${atLeast}`);
    await sleep(50);
  }
}

const finite = (v) => (Number.isFinite(v) ? v : undefined);

/**
 * Each kind of change of KINDS, counted alone with the subscriptions phase's
 * oneChange, on a metered worker whose HEARTBEAT_TIMEOUT (15 min) is longer
 * than the whole measurement, so no verify falls inside a count but the
 * expiry's own call. For each N of `watchers`: a subject of its own, watched
 * by N users (one socket each, pinging; the larger N include the smaller).
 */
export async function measureStateCost(ctx, { watchers: watcherCounts, webhooks = false }) {
  const startedAt = Date.now();
  const name = `state-change${webhooks ? "-webhooks" : ""}`;
  const receiver = webhooks ? await startReceiver() : undefined;
  const { server, api } = await startMetered(ctx, name, {
    HEARTBEAT_TIMEOUT: `${CHANGE_TIMEOUT_MS / 60_000}m`,
    ...webhookVars(receiver),
  });
  const result = {
    webhooks,
    label: webhooks ? "webhooks on" : "webhooks off",
    heartbeatTimeoutMs: CHANGE_TIMEOUT_MS,
    quietMs: QUIET_MS,
    trailingMs: TRAILING_MS,
    expiryAheadMs: EXPIRY_AHEAD_MS,
    subjects: [],
  };
  const sessions = [];
  const ping = pinger(sessions, PING_EVERY_MS);
  try {
    const watcherUids = Array.from({ length: Math.max(...watcherCounts) }, (_, i) => `${ctx.runId}-${name}-w${i}`);
    const subjectUids = watcherCounts.map((n) => `${ctx.runId}-${name}-s${n}`);
    const watcherTokens = await api.registerAll(watcherUids);
    const subjectTokens = await api.registerAll(subjectUids);
    // Each subject once before, so the counted changes are of users whose objects exist.
    for (const [k, uid] of subjectUids.entries()) {
      const session = await openSession(server.url, { uid, token: subjectTokens[k], platform: 1 });
      session.ws.close(1000);
      await closed(session);
    }
    const watching = await mapLimit(watcherUids, CONNECTS_AT_ONCE, async (uid, i) =>
      trackLatest(watchFrames(await openSession(server.url, { uid, token: watcherTokens[i], platform: 1 }))),
    );
    sessions.push(...watching);
    ctx.log(`state cost (${result.label}): ${watcherUids.length} watchers and ${subjectUids.length} subjects ready`);

    for (const [k, n] of watcherCounts.entries()) {
      const uid = subjectUids[k];
      const watchers = watching.slice(0, n);
      await mapLimit(watchers, CONNECTS_AT_ONCE, (session) => subscribe(session, [uid]));
      const online = Promise.all(watchers.map((session) => nextEntry(session, uid, (e) => e.status === "online")));
      const a = watchFrames(await openSession(server.url, { uid, token: subjectTokens[k], platform: 1 }));
      sessions.push(a);
      await online;
      const s = { uid, a, api, server, sessions, secondToken: await api.token(uid, 2) };
      const kinds = [];
      for (const spec of KINDS) {
        const seqBefore = watchers[0]?.latest.get(uid)?.seq ?? 0;
        const framesBefore = watchers.reduce((sum, w) => sum + w.presenceFrames, 0);
        const eventsBefore = receiver?.received.events ?? 0;
        const match = (e) => e.seq >= seqBefore + spec.seqs && spec.entry(e);
        const settle = async () => {
          if (spec.expiry && watchers.length === 0) await sleep(EXPIRY_WITHIN_MS);
          if (receiver) await untilEvents(receiver, eventsBefore + spec.seqs);
        };
        const counted = await oneChange(server, spec.entry ? watchers : [], uid, match, () => spec.act(s), {
          originMs: spec.expiry ? s.expiresAt * 1000 : undefined,
          settle,
        });
        delete counted.acted;
        const [entry] = await api.status([uid]);
        kinds.push({
          kind: spec.kind,
          label: spec.label,
          seqs: spec.seqs,
          ...counted,
          untilFirstMs: finite(counted.untilFirstMs),
          untilLastMs: finite(counted.untilLastMs),
          framesToWatchers: watchers.reduce((sum, w) => sum + w.presenceFrames, 0) - framesBefore,
          events: receiver ? receiver.received.events - eventsBefore : undefined,
          statusAfter: spec.status(entry, s),
        });
      }
      result.subjects.push({
        watchers: n,
        kinds,
        subjectErrorFrames: [...a.errors, ...(s.b?.errors ?? [])],
      });
      ctx.log(
        `state cost (${result.label}), ${n} watching: ${kinds.map((c) => `${c.kind} ${c.untilLastMs === undefined ? "–" : `${c.untilLastMs.toFixed(0)} ms`}`).join(", ")}`,
      );
    }
    result.stillOpen = sessions.filter(isOpen).length;
    result.sockets = sessions.length;
    result.watcherErrorFrames = errorFrames(watching);
    if (receiver) result.received = { ...receiver.received };
  } finally {
    ping.stop();
    api.client.close();
    receiver?.close();
    await server.stop();
    for (const session of sessions) session.ws.terminate();
  }
  result.elapsedSeconds = (Date.now() - startedAt) / 1000;
  return result;
}

/**
 * The steady state with what this phase adds set, against the same users
 * without it: `users` online at HEARTBEAT_TIMEOUT 30 s, pinging, nothing
 * changing, through a window; then each goes to the background and sets a
 * custom status without expiry (one frame each), and past its next verify, a
 * second window as long on the same worker and sockets.
 */
export async function measureSteadyWithState(ctx, { users, windowMs, heartbeatTimeoutMs = 30_000 }) {
  const name = `state-steady-${users}`;
  return withSteadyUsers(
    ctx,
    { name, users, heartbeatTimeoutMs, windowMs },
    async ({ api, uids, sessions, window }) => {
      ctx.log(`state steady ${users}: window with nothing set`);
      const without = await window();
      for (const [i, session] of sessions.entries())
        sendSet(session, { background: true, customStatus: { text: `Steady state, user ${i}` } });
      const set = (entry) => isBackground(entry) && entry.customStatus?.text?.startsWith("Steady state");
      const deadline = Date.now() + 30_000;
      while (!(await api.status(uids)).every(set)) {
        if (Date.now() > deadline) throw new Error("state steady: the set frames did not all land within 30 s");
        await sleep(250);
      }
      // Past the verify each frame moved (a frame is a sign of life), so the window sees only the steady state.
      await sleep(heartbeatTimeoutMs + SETTLE_MS);
      ctx.log(`state steady ${users}: window in the background, with a custom status`);
      const withState = await window();
      const after = await api.status(uids);
      return {
        users,
        heartbeatTimeoutMs,
        windowMs,
        without,
        with: withState,
        stillOnline: after.filter((e) => e.status === "online").length,
        stillSet: after.filter(set).length,
        errorFrames: errorFrames(sessions),
      };
    },
  );
}
