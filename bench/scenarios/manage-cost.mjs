// What managing a user costs, counted on the metered worker (bench/metering) with webhooks on:
// one delete_user (a user with 2 live sockets and 0 or N watchers; a user never online) and one
// ban_user of an online user and its lift (docs/api.md#post-managerdelete_user, #post-managerban_user).
// Each is counted alone (bench/lib/counted.mjs), until every effect the docs promise was seen.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { countOne, until } from "../lib/counted.mjs";
import { mapLimit } from "../lib/measure.mjs";
import { closed, openSession } from "../lib/sockets.mjs";
import { errorFrames, nextEntry, subscribe, watchFrames } from "../lib/watchers.mjs";
import { PING_EVERY_MS, pinger, startMetered, startReceiver } from "./cost.mjs";

/** Longer than the whole measurement: no verify inside any counted window (as in the subs phase). */
const COUNTING_TIMEOUT = "15m";
/** Every effect (closes, watchers' entries, webhook bodies) must be seen within this. */
const EFFECTS_WITHIN_MS = 30_000;
const CONNECTS_AT_ONCE = 32;

/** A reset as a watcher gets it for a deleted user: offline, seq 0, no lastSeen, no platforms. */
const isReset = (e) => e.status === "offline" && e.seq === 0 && e.lastSeen === undefined && e.platforms === undefined;

/**
 * One metered worker (webhooks on, to a receiver on loopback) and each operation counted alone:
 * - delete_user of a user with 2 live sockets (platforms 1 and 2) and no watchers;
 * - the same with `watchers` users subscribed to it (one socket each): each must get the reset;
 * - delete_user of a registered user never online;
 * - ban_user of a user with 2 live sockets, then ban_user with until 0 (the lift).
 * With `shards` > 1, on a second worker at PRESENCE_SHARDS=`shards`: a first delete that creates the
 * layout's shards (counted apart), then the two deletes without watchers, every shard existing.
 */
export async function measureManageCost(ctx, { watchers, shards }) {
  const startedAt = performance.now();
  const result = { counting: await countOnWorker(ctx, { shards: 1, watchers, ban: true }) };
  if (shards > 1) result.sharded = await countOnWorker(ctx, { shards, watchers: 0, ban: false });
  result.elapsedSeconds = (performance.now() - startedAt) / 1000;
  return result;
}

async function countOnWorker(ctx, { shards, watchers: watcherCount, ban }) {
  const name = `manage-${shards}`;
  const events = [];
  const receiver = await startReceiver({ onEvent: (event) => events.push({ event, at: performance.now() }) });
  const { server, api } = await startMetered(ctx, name, {
    HEARTBEAT_TIMEOUT: COUNTING_TIMEOUT,
    PRESENCE_SHARDS: String(shards),
    LOCAL_DEV: "true",
    PRESENCE_WEBHOOK_URL: receiver.url,
    PRESENCE_WEBHOOK_SECRET: randomBytes(24).toString("hex"),
  });
  const sessions = [];
  const ping = pinger(sessions, PING_EVERY_MS);
  const out = { shards, heartbeatTimeout: COUNTING_TIMEOUT, steps: [] };
  try {
    const uid = (what) => `${ctx.runId}-${name}-${what}`;
    const subjects = {
      alone: uid("del-alone"),
      watched: uid("del-watched"),
      never: uid("del-never-online"),
      banned: uid("ban"),
      first: uid("del-first"),
    };
    const watcherUids = Array.from({ length: watcherCount }, (_, i) => uid(`w${i}`));
    const tokens = new Map();
    const subjectList = Object.values(subjects).filter(
      (s) => (ban || s !== subjects.banned) && (shards > 1 || s !== subjects.first),
    );
    const registered = await api.registerAll([...subjectList, ...watcherUids]);
    for (const [i, u] of [...subjectList, ...watcherUids].entries()) tokens.set(u, registered[i]);

    /** Two live sockets (platforms 1 and 2), as a user on a phone and a desktop. */
    const connectTwo = async (u) => {
      const second = await api.token(u, 2);
      const both = [
        await openSession(server.url, { uid: u, token: tokens.get(u), platform: 1 }),
        await openSession(server.url, { uid: u, token: second, platform: 2 }),
      ];
      sessions.push(...both);
      return both;
    };
    const live = {
      alone: await connectTwo(subjects.alone),
      watched: watcherCount > 0 ? await connectTwo(subjects.watched) : undefined,
      banned: ban ? await connectTwo(subjects.banned) : undefined,
    };
    const watcherSessions = await mapLimit(watcherUids, CONNECTS_AT_ONCE, async (u) =>
      watchFrames(await openSession(server.url, { uid: u, token: tokens.get(u), platform: 1 })),
    );
    sessions.push(...watcherSessions);
    await mapLimit(watcherSessions, CONNECTS_AT_ONCE, (s) => subscribe(s, [subjects.watched]));
    ctx.log(`manage (${shards} shard${shards === 1 ? "" : "s"}): users connected, ${watcherCount} watching`);

    /** The user's webhook events that arrived since t0, by type and reason. */
    const eventsOf = (u, t0) => events.filter((e) => e.at >= t0 && e.event.userID === u).map((e) => e.event);
    const byKind = (list) => {
      const kinds = {};
      for (const e of list) {
        const kind = `${e.type}${e.reason ? `:${e.reason}` : ""}`;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
      return kinds;
    };
    /** Sockets closed with `code`, `offlines` webhook events with `reason`, and each watcher's reset. */
    const effectsOf = (u, sockets, code, reason, watching = []) => {
      const closes = sockets.map((s) => closed(s).then((c) => ({ code: c, at: performance.now() })));
      const resets = watching.map((s) => nextEntry(s, u, isReset, EFFECTS_WITHIN_MS));
      return async (_acted, t0) => {
        const closedAt = await Promise.all(closes);
        const resetAt = await Promise.all(resets);
        const offlines = () => eventsOf(u, t0).filter((e) => e.type === "offline" && e.reason === reason).length;
        const eventsMs = sockets.length
          ? await until(
              () => offlines() >= sockets.length,
              t0,
              EFFECTS_WITHIN_MS,
              `${sockets.length} ${reason} offline events for ${u}`,
            )
          : undefined;
        return {
          closeCodes: closedAt.map((c) => c.code),
          socketsClosedMs: closedAt.length ? Math.max(...closedAt.map((c) => c.at)) - t0 : undefined,
          watchersReset: resetAt.length,
          firstWatcherMs: resetAt.length ? Math.min(...resetAt) - t0 : undefined,
          lastWatcherMs: resetAt.length ? Math.max(...resetAt) - t0 : undefined,
          eventsMs,
          expectedCode: code,
        };
      };
    };
    const step = async (label, extra, options) => {
      const measured = await countOne(server, options);
      delete measured.acted;
      measured.events = byKind(eventsOf(extra.uid, measured.t0));
      delete measured.t0;
      out.steps.push({ label, ...extra, ...measured });
      ctx.log(
        `manage (${shards}): ${label}: answered in ${measured.actMs.toFixed(0)} ms, effects seen in ${measured.effectsMs.toFixed(0)} ms`,
      );
    };
    const deleteOne = (u) => async () => {
      const failed = await api.deleteUsers([u]);
      if (failed.length) throw new Error(`delete_user ${u}: failedUidList ${failed.join(",")}`);
    };

    if (shards > 1) {
      // A deletion calls every shard of the layout. On fresh state most were never used, and the
      // first deletion creates them (their schema's rows): counted once apart, as a layout's first.
      await step(
        `delete_user: registered, never online, the first on a layout of ${shards} shards never used`,
        { kind: "delete", uid: subjects.first, sockets: 0, watchers: 0, firstOnLayout: true },
        { act: deleteOne(subjects.first) },
      );
    }

    await step(
      "delete_user: 2 live sockets, no watchers",
      { kind: "delete", uid: subjects.alone, sockets: 2, watchers: 0 },
      { act: deleteOne(subjects.alone), effects: effectsOf(subjects.alone, live.alone, 4005, "deleted") },
    );
    if (live.watched) {
      await step(
        `delete_user: 2 live sockets, ${watcherCount} watchers`,
        { kind: "delete", uid: subjects.watched, sockets: 2, watchers: watcherCount },
        {
          act: deleteOne(subjects.watched),
          effects: effectsOf(subjects.watched, live.watched, 4005, "deleted", watcherSessions),
        },
      );
    }
    await step(
      "delete_user: registered, never online",
      { kind: "delete", uid: subjects.never, sockets: 0, watchers: 0 },
      { act: deleteOne(subjects.never) },
    );
    if (live.banned) {
      const untilSeconds = Math.floor(Date.now() / 1000) + 3_600;
      await step(
        "ban_user: 2 live sockets (an hour)",
        { kind: "ban", uid: subjects.banned, sockets: 2, watchers: 0 },
        {
          act: () => api.banUser(subjects.banned, untilSeconds),
          effects: effectsOf(subjects.banned, live.banned, 4006, "banned"),
        },
      );
      await step(
        "ban_user with until 0: the lift",
        { kind: "lift", uid: subjects.banned, sockets: 0, watchers: 0 },
        { act: () => api.banUser(subjects.banned, 0) },
      );
      // The lift works: a token issued now opens a socket.
      const after = await openSession(server.url, {
        uid: subjects.banned,
        token: await api.token(subjects.banned, 1),
        platform: 1,
      });
      sessions.push(after);
      out.liftedConnects = true;
    }
    out.errorFrames = errorFrames(watcherSessions);
  } finally {
    ping.stop();
    api.client.close();
    receiver.close();
    await server.stop();
    for (const session of sessions) session.ws.terminate();
  }
  return out;
}
