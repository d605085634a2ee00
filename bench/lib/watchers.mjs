// The watching side of presence subscriptions (docs/protocol.md#presence-subscriptions), as a client holds it
// on its own socket: subscribe frames, their snapshots, and the moment each
// watched user's next entry arrives.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/** The protocol's limit per subscribe frame (protocol/presence-frames.ts). */
export const MAX_IDS_PER_FRAME = 200;

/**
 * Reads presence frames on an open session (lib/sockets.mjs). Waiters are
 * checked when a frame arrives, so the time taken is the frame's arrival.
 */
export function watchFrames(session) {
  Object.assign(session, { presenceFrames: 0, entries: 0, errors: [], waiters: new Set() });
  session.ws.on("message", (data, isBinary) => {
    const text = isBinary ? "" : data.toString();
    if (!text.startsWith("{")) return; // pong
    const at = performance.now();
    const frame = JSON.parse(text);
    if (frame.type === "error") return void session.errors.push(frame.errMsg);
    if (frame.type !== "presence") return;
    session.presenceFrames++;
    session.entries += frame.users.length;
    for (const waiter of session.waiters) {
      if (!waiter.match(frame.users)) continue;
      session.waiters.delete(waiter);
      waiter.resolve(at);
    }
  });
  return session;
}

/** Resolves with the arrival time of the first frame whose entries match, or rejects after withinMs. */
function waitFrame(session, match, withinMs, what) {
  let waiter;
  const arrived = new Promise((resolve) => {
    waiter = { match, resolve };
    session.waiters.add(waiter);
  });
  const timer = sleep(withinMs, undefined, { ref: false }).then(() => {
    if (!session.waiters.delete(waiter)) return undefined;
    throw new Error(
      `${session.uid}: no ${what} within ${withinMs} ms${session.errors.length ? ` (error frames: ${session.errors.join("; ")})` : ""}`,
    );
  });
  return Promise.race([arrived, timer]);
}

/** Waits for an entry of `uid` that matches (e.g. its next status); create it before the change. */
export function nextEntry(session, uid, match, withinMs = 60_000) {
  return waitFrame(session, (users) => users.some((u) => u.userID === uid && match(u)), withinMs, `entry for ${uid}`);
}

/** Resolves with the arrival time of the snapshot that names every id of `chunk`; create it before the subscribe goes. */
export function snapshotOf(session, chunk, withinMs = 60_000) {
  const wanted = new Set(chunk);
  return waitFrame(
    session,
    (users) => {
      const named = new Set(users.map((u) => u.userID));
      return [...wanted].every((id) => named.has(id));
    },
    withinMs,
    "snapshot",
  );
}

/** Subscribes to `uids` in frames of at most 200 ids, each answered by its snapshot before the next goes. */
export async function subscribe(session, uids, withinMs = 60_000) {
  for (let i = 0; i < uids.length; i += MAX_IDS_PER_FRAME) {
    const chunk = uids.slice(i, i + MAX_IDS_PER_FRAME);
    const snapshot = snapshotOf(session, chunk, withinMs);
    session.ws.send(JSON.stringify({ type: "subscribe", userIDs: chunk }));
    await snapshot;
  }
}

/** The error frames the sessions got, all told. */
export function errorFrames(sessions) {
  return sessions.reduce((sum, session) => sum + session.errors.length, 0);
}
