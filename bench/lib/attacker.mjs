// A client that watches as many users as the protocol lets one user watch, and then churns
// its subscriptions, each socket staying inside every limit of docs/protocol.md: at most
// 200 ids per frame and 3,000 per socket, 20 counted frames per 10 s (the exact "ping" is
// not counted), "ping" at open and every 10 s.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { isOpen, keepAlive, openSession } from "./sockets.mjs";
import { MAX_IDS_PER_FRAME, snapshotOf, watchFrames } from "./watchers.mjs";

/** The server's frame budget (src/presence/frame-budget.ts): 20 counted frames per window of 10 s. */
export const FRAME_WINDOW_MS = 10_000;
/**
 * Counted frames one socket sends in any 10 s, by the client's clock. The server counts 20
 * per window from its own receipt times; 2 are left for frames that arrive bunched.
 */
export const FRAMES_PER_WINDOW = 18;
/** One churn frame per socket this often: 18 frames per 10 s. */
export const CHURN_EVERY_MS = 555;
/** Ids of 64 characters: each is 64 four-byte code points (`emoji`) or 64 ASCII letters and digits. */
export const ID_CHARS = 64;

const EMOJI_BASE = 0x1f300; // U+1F300..U+1FAFF: 2,048 code points, each four bytes in UTF-8
const EMOJI_SPAN = 0x800;

/**
 * `count` distinct ids from index `from`. Emoji ids spell the index in base 2,048 in their
 * first two code points and the salt in the third, so ids of different salts never meet;
 * the rest is filler. ASCII ids start with the salt and index, padded with letters.
 */
export function manyIds(kind, count, { salt = 0, from = 0 } = {}) {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    if (kind === "ascii") {
      const head = `s${salt}i${i}x`;
      return head + "abcdefghijklmnopqrstuvwxyz0123456789".repeat(2).slice(0, ID_CHARS - head.length);
    }
    const digits = [i % EMOJI_SPAN, Math.floor(i / EMOJI_SPAN) % EMOJI_SPAN, salt % EMOJI_SPAN];
    for (let c = digits.length; c < ID_CHARS; c++) digits.push((c * 37 + i) % EMOJI_SPAN);
    return String.fromCodePoint(...digits.map((d) => EMOJI_BASE + d));
  });
}

/** UTF-8 bytes of an id of this kind. */
export const idBytes = (kind) => (kind === "ascii" ? ID_CHARS : 4 * ID_CHARS);

/**
 * Sends one socket's counted frames so that no 10 s, by this client's clock, holds more than
 * FRAMES_PER_WINDOW: a frame that would waits. A closed socket's frames are dropped and counted.
 */
export class FramePacer {
  sentAt = [];
  sent = 0;
  dropped = 0;
  waitedMs = 0;

  constructor(session) {
    this.session = session;
  }

  async send(frame) {
    for (;;) {
      const now = performance.now();
      while (this.sentAt.length && now - this.sentAt[0] >= FRAME_WINDOW_MS) this.sentAt.shift();
      if (this.sentAt.length < FRAMES_PER_WINDOW) break;
      const waitMs = this.sentAt[0] + FRAME_WINDOW_MS - now + 1;
      this.waitedMs += waitMs;
      await sleep(waitMs);
    }
    if (!isOpen(this.session)) {
      this.dropped++;
      return false;
    }
    this.sentAt.push(performance.now());
    this.session.ws.send(JSON.stringify(frame));
    this.sent++;
    return true;
  }
}

/** Registers `uid` and returns a token for each of `platforms`, in order. */
export async function registerWithTokens(api, uid, platforms) {
  const tokens = [await api.register(uid, platforms[0])];
  for (const platform of platforms.slice(1)) tokens.push(await api.token(uid, platform));
  return tokens;
}

/** Before a socket the server closed is opened again (docs/protocol.md: reconnect with backoff). */
export const REOPEN_AFTER_MS = 1_000;

/**
 * The attacker: one user with a socket per platform, all opened and pinging.
 * `holdIds[i]` are the ids socket i will hold; `churnIds[i]` the one it churns.
 * Each socket keeps its counts across the sessions it opens (reopen()).
 */
export async function openAttacker(server, { uid, platforms, tokens, holdIds, churnIds }) {
  const sessions = [];
  const stopKeepAlive = keepAlive(sessions, 10_000);
  const closes = [];
  const openOne = async (i) => {
    const session = watchFrames(await openSession(server.url, { uid, token: tokens[i], platform: platforms[i] }));
    session.ws.once("close", (code) => closes.push({ platform: platforms[i], code, at: performance.now() }));
    return session;
  };
  const sockets = [];
  for (const [i, platform] of platforms.entries()) {
    const session = await openOne(i);
    sessions[i] = session;
    sockets.push({
      index: i,
      session,
      platform,
      pacer: new FramePacer(session),
      holdIds: holdIds[i],
      churnId: churnIds[i],
      pacers: [],
      errors: [],
      reopens: 0,
    });
  }
  const all = (socket) => [...socket.pacers, socket.pacer];
  return {
    uid,
    sockets,
    openSockets: () => sockets.filter((s) => isOpen(s.session)).length,
    /**
     * A new session for a socket whose session ended: a fresh frame budget, nothing
     * subscribed. Rejects if the upgrade fails or takes longer than `withinMs` (a session
     * that opens later is closed at once).
     */
    async reopen(socket, withinMs) {
      const opening = openOne(socket.index);
      const session = await Promise.race([opening, sleep(withinMs, undefined, { ref: false })]);
      if (session === undefined) {
        opening.then((late) => late.ws.terminate()).catch(() => {});
        throw new Error(`no upgrade within ${withinMs} ms`);
      }
      socket.pacers.push(socket.pacer);
      socket.errors.push(...socket.session.errors);
      socket.session = session;
      socket.pacer = new FramePacer(session);
      sessions[socket.index] = session;
      socket.reopens++;
    },
    /**
     * Every socket's frames, closes, reopens and error frames so far; each close with its
     * code and when it reached the client, in seconds after `origin` (performance.now()).
     */
    state: (origin) => ({
      framesSent: sockets.reduce((sum, s) => sum + all(s).reduce((n, p) => n + p.sent, 0), 0),
      framesDropped: sockets.reduce((sum, s) => sum + all(s).reduce((n, p) => n + p.dropped, 0), 0),
      stillOpen: sockets.filter((s) => isOpen(s.session)).length,
      reopens: sockets.reduce((sum, s) => sum + s.reopens, 0),
      closes: closes.map((c) => ({ platform: c.platform, code: c.code, atSeconds: (c.at - origin) / 1000 })),
      errorFrames: sockets.flatMap((s) => [...s.errors, ...s.session.errors]),
    }),
    terminate() {
      stopKeepAlive();
      for (const s of sockets) s.session.ws.terminate();
    },
  };
}

/**
 * One socket subscribes its ids in frames of 200, paced, each after the last one's
 * snapshot. Gives up on a snapshot (and the socket's later frames) at the deadline rather
 * than throw: a stalled server is a result, not a bench failure.
 */
async function holdOne(socket, deadline, stopped = new Promise(() => {})) {
  let answered = 0;
  let sent = 0;
  const frames = Math.ceil(socket.holdIds.length / MAX_IDS_PER_FRAME);
  for (let f = 0; f < frames; f++) {
    const chunk = socket.holdIds.slice(f * MAX_IDS_PER_FRAME, (f + 1) * MAX_IDS_PER_FRAME);
    const left = deadline - performance.now();
    if (left <= 0) break;
    const snapshot = snapshotOf(socket.session, chunk, left).catch(() => undefined);
    if (!(await socket.pacer.send({ type: "subscribe", userIDs: chunk }))) break;
    sent++;
    if ((await Promise.race([snapshot, stopped])) === undefined) break;
    answered++;
  }
  return { frames, sent, answered };
}

/** Every socket subscribes its ids (holdOne), all at once. */
export async function holdSubscriptions(attacker, deadline) {
  const t0 = performance.now();
  const perSocket = await Promise.all(attacker.sockets.map((socket) => holdOne(socket, deadline)));
  return {
    seconds: (performance.now() - t0) / 1000,
    frames: perSocket.reduce((sum, s) => sum + s.frames, 0),
    answered: perSocket.reduce((sum, s) => sum + s.answered, 0),
    ids: attacker.sockets.reduce((sum, s) => sum + s.holdIds.length, 0),
  };
}

/**
 * Starts the churn: every CHURN_EVERY_MS each socket sends, in turn, a subscribe and an
 * unsubscribe of its churn id, the sockets staggered over the period. Sends are on a fixed
 * schedule, not after answers, as a hostile client would; the pacer still holds each socket
 * inside the budget. With `reopen`, a socket the server closed is opened again after
 * REOPEN_AFTER_MS, subscribes its ids again (within `resubscribeMs` each time) and churns
 * on, as a persistent attacker would; without, it stays closed. stop() ends it and
 * resolves with the counts and the time from each churn subscribe to its snapshot,
 * matched in order (those unanswered at the stop or at a close apart).
 */
export function startChurn(attacker, { reopen = false, resubscribeMs = 60_000 } = {}) {
  let running = true;
  let stop;
  const stopped = new Promise((resolve) => {
    stop = resolve;
  });
  const started = performance.now();
  const snapshotMs = [];
  const counts = {
    subscribes: 0,
    unsubscribes: 0,
    resubscribeFrames: 0,
    reopenFailures: 0,
    unansweredAtClose: 0,
  };
  /** Per socket, the send times of its churn subscribes not yet answered, on its current session. */
  const watchSnapshots = (socket) => {
    const sentAt = [];
    socket.session.ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (!running || !text.startsWith("{") || sentAt.length === 0) return;
      const frame = JSON.parse(text);
      if (frame.type === "presence" && frame.users.some((u) => u.userID === socket.churnId)) {
        snapshotMs.push(performance.now() - sentAt.shift());
      }
    });
    return sentAt;
  };
  const waiting = attacker.sockets.map(watchSnapshots);
  const loops = attacker.sockets.map(async (socket, i) => {
    let next = started + (i * CHURN_EVERY_MS) / attacker.sockets.length;
    for (let k = 0; running; k++) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      next += CHURN_EVERY_MS;
      if (reopen && !isOpen(socket.session)) {
        counts.unansweredAtClose += waiting[i].length;
        waiting[i].length = 0;
        await Promise.race([sleep(REOPEN_AFTER_MS), stopped]);
        if (!running) break;
        try {
          await attacker.reopen(socket, resubscribeMs);
        } catch {
          counts.reopenFailures++;
          continue;
        }
        waiting[i] = watchSnapshots(socket);
        counts.resubscribeFrames += (await holdOne(socket, performance.now() + resubscribeMs, stopped)).sent;
        next = performance.now();
        k = -1; // the next churn frame is a subscribe
        continue;
      }
      if (k % 2 === 0) {
        if (await socket.pacer.send({ type: "subscribe", userIDs: [socket.churnId] })) {
          waiting[i].push(performance.now());
          counts.subscribes++;
        }
      } else if (await socket.pacer.send({ type: "unsubscribe", userIDs: [socket.churnId] })) counts.unsubscribes++;
    }
  });
  return {
    started,
    async stop() {
      running = false;
      stop();
      const seconds = (performance.now() - started) / 1000;
      await Promise.all(loops);
      return {
        seconds,
        ...counts,
        snapshotMs,
        unansweredAtStop: waiting.reduce((sum, w) => sum + w.length, 0),
      };
    },
  };
}
