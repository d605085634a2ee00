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

/**
 * The attacker: one user with a socket per platform, all opened and pinging.
 * `holdIds[i]` are the ids socket i will hold; `churnIds[i]` the one it churns.
 */
export async function openAttacker(server, { uid, platforms, tokens, holdIds, churnIds }) {
  const sessions = [];
  const stopKeepAlive = keepAlive(sessions, 10_000);
  for (const [i, platform] of platforms.entries()) {
    const session = watchFrames(await openSession(server.url, { uid, token: tokens[i], platform }));
    session.ws.once("close", () => {
      session.closedAt = performance.now();
    });
    sessions.push(session);
  }
  const sockets = sessions.map((session, i) => ({
    session,
    platform: platforms[i],
    pacer: new FramePacer(session),
    holdIds: holdIds[i],
    churnId: churnIds[i],
  }));
  return {
    uid,
    sockets,
    stopKeepAlive,
    openSockets: () => sockets.filter((s) => isOpen(s.session)).length,
    /**
     * Every socket's frames, closes and error frames so far; each close with its code and
     * when it reached the client, in seconds after `origin` (performance.now()).
     */
    state: (origin) => ({
      framesSent: sockets.reduce((sum, s) => sum + s.pacer.sent, 0),
      framesDropped: sockets.reduce((sum, s) => sum + s.pacer.dropped, 0),
      stillOpen: sockets.filter((s) => isOpen(s.session)).length,
      closeCodes: sockets.filter((s) => !isOpen(s.session)).map((s) => s.session.closeCode ?? "closing"),
      closes: sockets
        .filter((s) => s.session.closedAt !== undefined)
        .map((s) => ({ code: s.session.closeCode, atSeconds: (s.session.closedAt - origin) / 1000 })),
      errorFrames: sockets.flatMap((s) => s.session.errors),
    }),
    terminate() {
      stopKeepAlive();
      for (const s of sockets) s.session.ws.terminate();
    },
  };
}

/**
 * Each socket subscribes its ids in frames of 200, paced, one after the other's snapshot,
 * all sockets at once. Gives up on a snapshot (and that socket's later frames) at the
 * deadline rather than throw: a stalled server is a result, not a bench failure.
 */
export async function holdSubscriptions(attacker, deadline) {
  const t0 = performance.now();
  const perSocket = await Promise.all(
    attacker.sockets.map(async (socket) => {
      let answered = 0;
      const frames = Math.ceil(socket.holdIds.length / MAX_IDS_PER_FRAME);
      for (let f = 0; f < frames; f++) {
        const chunk = socket.holdIds.slice(f * MAX_IDS_PER_FRAME, (f + 1) * MAX_IDS_PER_FRAME);
        const left = deadline - performance.now();
        if (left <= 0) break;
        const snapshot = snapshotOf(socket.session, chunk, left).catch(() => undefined);
        if (!(await socket.pacer.send({ type: "subscribe", userIDs: chunk }))) break;
        if ((await snapshot) === undefined) break;
        answered++;
      }
      return { frames, answered };
    }),
  );
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
 * inside the budget. stop() ends it and resolves with the counts and the time from each
 * churn subscribe to its snapshot, matched in order (those unanswered at the stop apart).
 */
export function startChurn(attacker) {
  let running = true;
  const started = performance.now();
  const snapshotMs = [];
  let subscribes = 0;
  let unsubscribes = 0;
  const waiting = attacker.sockets.map((socket) => {
    const sentAt = [];
    const onMessage = (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (!text.startsWith("{") || sentAt.length === 0) return;
      const frame = JSON.parse(text);
      if (frame.type === "presence" && frame.users.some((u) => u.userID === socket.churnId)) {
        snapshotMs.push(performance.now() - sentAt.shift());
      }
    };
    socket.session.ws.on("message", onMessage);
    return { sentAt, detach: () => socket.session.ws.off("message", onMessage) };
  });
  const loops = attacker.sockets.map(async (socket, i) => {
    let next = started + (i * CHURN_EVERY_MS) / attacker.sockets.length;
    for (let k = 0; running; k++) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      if (!running) break;
      next += CHURN_EVERY_MS;
      if (k % 2 === 0) {
        const t0 = performance.now();
        if (await socket.pacer.send({ type: "subscribe", userIDs: [socket.churnId] })) {
          waiting[i].sentAt.push(t0);
          subscribes++;
        }
      } else if (await socket.pacer.send({ type: "unsubscribe", userIDs: [socket.churnId] })) unsubscribes++;
    }
  });
  return {
    started,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const w of waiting) w.detach();
      return {
        seconds: (performance.now() - started) / 1000,
        subscribes,
        unsubscribes,
        snapshotMs,
        unansweredAtStop: waiting.reduce((sum, w) => sum + w.sentAt.length, 0),
      };
    },
  };
}
