/// <reference types="node" />
// The JSON frames the client session sends by itself, against a stand-in server that scripts the
// answers: the `set` frames of setInvisible and setBackground (both again after each reconnect, in one
// frame), of trackVisibility and of setCustomStatus (not again), and the retries of a subscribe the
// server could not carry out (an error frame 500), which the real worker sends only on a fault.
import { afterEach, describe, expect, it } from "vitest";
import { ErrCode, FRAME_BUDGET, SUBSCRIBE_FAILED, UNSUBSCRIBE_FAILED } from "../../../protocol";
import {
  type ConnectOptions,
  type CustomStatusInput,
  connect,
  type DocumentLike,
  PresenceFrameError,
  type WatchedUser,
} from "../../../sdk/client";
import { eventually, recordEvents, sleep } from "../helpers";
import { type ServerSocket, type StandIn, standInServer } from "./stand-in-server";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

type SentFrame = {
  type: string;
  userIDs?: string[];
  invisible?: boolean;
  background?: boolean;
  customStatus?: unknown;
};

/** The JSON frames a connection received, pings left out. */
function jsonFrames(server: StandIn, index: number): SentFrame[] {
  return (server.connections[index]?.received ?? []).filter((text) => text !== "ping").map((text) => JSON.parse(text));
}

/** The subscribe frames a connection received, with when each arrived. */
function subscribes(server: StandIn, index: number): { userIDs: string[]; at: number }[] {
  const connection = server.connections[index];
  if (!connection) return [];
  return connection.received.flatMap((text, i) => {
    if (text === "ping") return [];
    const frame = JSON.parse(text) as SentFrame;
    return frame.type === "subscribe" ? [{ userIDs: frame.userIDs ?? [], at: connection.receivedAt[i] ?? 0 }] : [];
  });
}

/** Answers each subscribe the way `answer` says: a snapshot of its ids (offline at seq 1), or an error frame. */
function answerSubscribes(
  socket: ServerSocket,
  answer: (call: number) => "snapshot" | { errCode: number; errMsg: string },
) {
  let calls = 0;
  socket.on("message", (data) => {
    const text = data.toString();
    if (text === "ping") return;
    const frame = JSON.parse(text) as SentFrame;
    if (frame.type !== "subscribe") return;
    const outcome = answer(++calls);
    if (outcome === "snapshot") {
      const users = (frame.userIDs ?? []).map((userID) => ({ userID, status: "offline", seq: 1 }));
      socket.send(JSON.stringify({ type: "presence", users }));
    } else socket.send(JSON.stringify({ type: "error", ...outcome }));
  });
}

const FAILED = { errCode: ErrCode.internal, errMsg: SUBSCRIBE_FAILED };

function open(server: StandIn, options: Partial<ConnectOptions> = {}) {
  const session = connect({ url: server.url, uid: "u", token: "t", platform: 5, random: () => 1, ...options });
  cleanups.push(
    () => session.close(),
    () => server.stop(),
  );
  return { session, events: recordEvents(session) };
}

function listener() {
  const heard: WatchedUser[] = [];
  return { heard, onChange: (user: WatchedUser) => void heard.push(user) };
}

async function opened(events: ReturnType<typeof recordEvents>, count = 1) {
  await eventually(`open ${count}`, () => events.open.length === count && events.pong.length >= count);
}

describe("client SDK setInvisible", () => {
  it("sends a set frame at once on an open socket; each call sends its value", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    session.setInvisible(true);
    session.setInvisible(false);
    await eventually("two set frames", () => jsonFrames(server, 0).length === 2);
    expect(jsonFrames(server, 0)).toEqual([
      { type: "set", invisible: true },
      { type: "set", invisible: false },
    ]);
  });

  it("remembers the last value and sends it right after each reconnect's open, before the subscribes", async () => {
    // The first two connections are dropped: one after the app set its value, one at once.
    const server = await standInServer((socket, index) => {
      if (index === 1) socket.close(1011, "again");
    });
    const { session, events } = open(server, { reconnect: { initialDelayMs: 20 } });
    session.watch(["bob", "carol"], () => {});
    await opened(events);
    session.setInvisible(false);
    session.setInvisible(true);
    await eventually("set frames", () => jsonFrames(server, 0).length === 3);
    server.connections[0]?.socket.close(1011, "drop");

    await eventually("third connection", () => server.connections.length === 3 && jsonFrames(server, 2).length === 2);
    for (const index of [1, 2]) {
      // The ping goes first (the heartbeat), then the setting, then the subscriptions.
      expect(server.connections[index]?.received[0]).toBe("ping");
      expect(jsonFrames(server, index)).toEqual([
        { type: "set", invisible: true },
        { type: "subscribe", userIDs: ["bob", "carol"] },
      ]);
    }
  });

  it("sends a value set before the first open once the socket opens, and nothing of the kind if the app never set one", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) setTimeout(() => socket.close(1011, "drop"), 100);
    });
    const { session, events } = open(server, { reconnect: { initialDelayMs: 20 } });
    session.watch(["bob"], () => {});
    await opened(events, 2);
    await eventually("second connection's frames", () => jsonFrames(server, 1).length === 1);
    expect([jsonFrames(server, 0), jsonFrames(server, 1)]).toEqual([
      [{ type: "subscribe", userIDs: ["bob"] }],
      [{ type: "subscribe", userIDs: ["bob"] }],
    ]);

    const other = await standInServer(() => {});
    const second = open(other);
    second.session.setInvisible(true);
    await opened(second.events);
    await eventually("the set frame", () => jsonFrames(other, 0).length === 1);
    expect(jsonFrames(other, 0)).toEqual([{ type: "set", invisible: true }]);
  });

  it("passes an error frame that answers a set to the error listeners, once, and stays open", async () => {
    const server = await standInServer((socket) => {
      socket.on("message", (data) => {
        if (data.toString().includes('"set"')) {
          socket.send(JSON.stringify({ type: "error", errCode: 500, errMsg: "internal error" }));
        }
      });
    });
    const { session, events } = open(server);
    await opened(events);
    session.setInvisible(true);
    await eventually("error event", () => events.error.length === 1);
    const [{ error }] = events.error as [{ error: Error }];
    expect(error).toBeInstanceOf(PresenceFrameError);
    expect(error).toMatchObject({ errCode: 500, errMsg: "internal error" });
    await sleep(300);
    expect(jsonFrames(server, 0)).toEqual([{ type: "set", invisible: true }]);
    expect(events.error).toHaveLength(1);
    expect(session.state).toBe("open");
  });

  it("throws a TypeError for anything but true or false, and sends nothing", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    expect(() => session.setInvisible("yes" as unknown as boolean)).toThrow(TypeError);
    await sleep(100);
    expect(jsonFrames(server, 0)).toEqual([]);
  });
});

describe("client SDK setBackground", () => {
  it("sends a set frame at once on an open socket; each call sends its value", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    session.setBackground(true);
    session.setBackground(false);
    await eventually("two set frames", () => jsonFrames(server, 0).length === 2);
    expect(jsonFrames(server, 0)).toEqual([
      { type: "set", background: true },
      { type: "set", background: false },
    ]);
  });

  it("after each reconnect sends background: true right after the open, in one set frame with the invisibility, while the app is in the background", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server, { reconnect: { initialDelayMs: 20 } });
    session.watch(["bob"], () => {});
    await opened(events);
    session.setInvisible(true);
    session.setBackground(true);
    await eventually("the first socket's frames", () => jsonFrames(server, 0).length === 3);
    server.connections[0]?.socket.close(1011, "drop");
    await eventually("second connection", () => jsonFrames(server, 1).length === 2);
    expect(server.connections[1]?.received[0]).toBe("ping");
    expect(jsonFrames(server, 1)).toEqual([
      { type: "set", invisible: true, background: true },
      { type: "subscribe", userIDs: ["bob"] },
    ]);

    // Back in the foreground: a new socket starts there, so only the invisibility goes again.
    session.setBackground(false);
    await eventually("the second socket's foreground", () => jsonFrames(server, 1).length === 3);
    server.connections[1]?.socket.close(1011, "drop");
    await eventually("third connection", () => jsonFrames(server, 2).length === 2);
    expect(jsonFrames(server, 2)).toEqual([
      { type: "set", invisible: true },
      { type: "subscribe", userIDs: ["bob"] },
    ]);
  });

  it("sends background alone when the app never set its invisibility, and a value set before the first open once it opens", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) setTimeout(() => socket.close(1011, "drop"), 200);
    });
    const { session, events } = open(server, { reconnect: { initialDelayMs: 20 } });
    session.setBackground(true);
    session.watch(["bob"], () => {});
    await opened(events, 2);
    await eventually("second connection's frames", () => jsonFrames(server, 1).length === 2);
    for (const index of [0, 1]) {
      expect(jsonFrames(server, index)).toEqual([
        { type: "set", background: true },
        { type: "subscribe", userIDs: ["bob"] },
      ]);
    }
  });

  it("throws a TypeError for anything but true or false, and sends nothing", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    expect(() => session.setBackground(1 as unknown as boolean)).toThrow(TypeError);
    await sleep(100);
    expect(jsonFrames(server, 0)).toEqual([]);
  });

  it("never spends more of the frame budget than it has: flips past it wait for room, and only the latest value goes", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    // 25 flips at once, ending in the background: 20 fit in the budget, the last 5 are one frame later.
    for (let i = 0; i < 25; i++) session.setBackground(i % 2 === 0);
    await eventually("the held flip", () => jsonFrames(server, 0).length === FRAME_BUDGET.frames + 1, 15_000);
    const frames = jsonFrames(server, 0);
    expect(frames.slice(0, FRAME_BUDGET.frames)).toEqual(
      Array.from({ length: FRAME_BUDGET.frames }, (_, i) => ({ type: "set", background: i % 2 === 0 })),
    );
    expect(frames.at(-1)).toEqual({ type: "set", background: true });
    const connection = server.connections[0];
    const times = (connection?.receivedAt ?? []).filter((_, i) => connection?.received[i] !== "ping");
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(FRAME_BUDGET.windowMs);
    await sleep(300);
    expect(jsonFrames(server, 0)).toHaveLength(FRAME_BUDGET.frames + 1);
    expect(session.state).toBe("open");
  }, 30_000);
});

describe("client SDK setCustomStatus", () => {
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  it("sends the status at once on an open socket: Unix seconds as given, a Date rounded up to the next second, null to clear", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    const at = inAnHour();
    session.setCustomStatus({ text: "In a meeting", expiresAt: at });
    session.setCustomStatus({ text: "🌴 On holiday", expiresAt: new Date(at * 1000 + 1) });
    session.setCustomStatus({ text: "Lunch", expiresAt: new Date(at * 1000) });
    session.setCustomStatus({ text: "Here" });
    session.setCustomStatus(null);
    await eventually("five set frames", () => jsonFrames(server, 0).length === 5);
    expect(jsonFrames(server, 0)).toEqual([
      { type: "set", customStatus: { text: "In a meeting", expiresAt: at } },
      { type: "set", customStatus: { text: "🌴 On holiday", expiresAt: at + 1 } },
      { type: "set", customStatus: { text: "Lunch", expiresAt: at } },
      { type: "set", customStatus: { text: "Here" } },
      { type: "set", customStatus: null },
    ]);
  });

  it("is not sent again after a reconnect: the server keeps it, and another device may have changed it since", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server, { reconnect: { initialDelayMs: 20 } });
    session.watch(["bob"], () => {});
    await opened(events);
    session.setBackground(true);
    session.setCustomStatus({ text: "Busy" });
    await eventually("the first socket's frames", () => jsonFrames(server, 0).length === 3);
    server.connections[0]?.socket.close(1011, "drop");
    await eventually("second connection", () => jsonFrames(server, 1).length === 2);
    await sleep(200);
    expect(jsonFrames(server, 1)).toEqual([
      { type: "set", background: true },
      { type: "subscribe", userIDs: ["bob"] },
    ]);
  });

  it("set while no socket is open, goes once right after the next open (the latest call's), and not after the reconnect after", async () => {
    // The first socket drops at once; the session waits 300 ms before the second.
    const server = await standInServer((socket, index) => {
      if (index === 0) socket.close(1011, "drop");
    });
    const { session, events } = open(server, { reconnect: { initialDelayMs: 300 } });
    session.watch(["bob"], () => {});
    session.setInvisible(true);
    await eventually("waiting to reconnect", () => session.state === "waiting");
    session.setCustomStatus({ text: "first" });
    session.setCustomStatus({ text: "Travelling" });
    await eventually("second connection", () => jsonFrames(server, 1).length === 3);
    expect(jsonFrames(server, 1)).toEqual([
      { type: "set", invisible: true },
      { type: "set", customStatus: { text: "Travelling" } },
      { type: "subscribe", userIDs: ["bob"] },
    ]);
    server.connections[1]?.socket.close(1011, "drop");
    await eventually("third connection", () => jsonFrames(server, 2).length === 2);
    await sleep(200);
    expect(jsonFrames(server, 2)).toEqual([
      { type: "set", invisible: true },
      { type: "subscribe", userIDs: ["bob"] },
    ]);
    expect(events.error).toEqual([]);
  });

  it("drops a status that expired before a socket opened, and says so on the error event", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) socket.close(1011, "drop");
    });
    const { session, events } = open(server, { reconnect: { initialDelayMs: 3_000 } });
    await eventually("waiting to reconnect", () => session.state === "waiting");
    // Rounded up: it expires 1–2 s from now, before the second socket opens.
    session.setCustomStatus({ text: "brb", expiresAt: new Date(Date.now() + 1_000) });
    await eventually(
      "second connection open",
      () => session.state === "open" && server.connections.length === 2,
      5_000,
    );
    await sleep(200);
    expect(jsonFrames(server, 1)).toEqual([]);
    expect(events.error).toHaveLength(1);
    expect(events.error[0]?.error).toBeInstanceOf(RangeError);
    expect(events.error[0]?.error.message).toMatch(/expired before a socket opened/);
  }, 10_000);

  it("checks the status by the server's rules and throws, naming the rule, before anything is sent", async () => {
    const server = await standInServer(() => {});
    const { session, events } = open(server);
    await opened(events);
    const now = Math.floor(Date.now() / 1000);
    const refused: [unknown, ErrorConstructor, RegExp][] = [
      ["busy", TypeError, /object with text/],
      [{ text: 1 }, TypeError, /customStatus.text: must be a string/],
      [{ text: "" }, RangeError, /must not be empty/],
      [{ text: "x".repeat(129) }, RangeError, /at most 128 characters/],
      [{ text: "a\u0000b" }, RangeError, /control characters/],
      [{ text: "\ud800" }, RangeError, /well-formed/],
      [{ text: "ok", expiresAt: now + 0.5 }, RangeError, /must be an integer/],
      [{ text: "ok", expiresAt: now - 1 }, RangeError, /must be in the future/],
      [{ text: "ok", expiresAt: new Date(Date.now() - 1_000) }, RangeError, /must be in the future/],
      [{ text: "ok", expiresAt: now + 31 * 86_400 }, RangeError, /at most 30 days ahead/],
      [{ text: "ok", expiresAt: new Date("soon") }, RangeError, /invalid Date/],
      [{ text: "ok", expiresAt: "tomorrow" }, TypeError, /Unix seconds or a Date/],
    ];
    for (const [status, type, message] of refused) {
      const call = () => session.setCustomStatus(status as CustomStatusInput);
      expect(call, JSON.stringify(status)).toThrow(type);
      expect(call, JSON.stringify(status)).toThrow(message);
    }
    await sleep(100);
    expect(jsonFrames(server, 0)).toEqual([]);
  });
});

/** A document whose visibility a test sets: what trackVisibility listens to. */
function fakeDocument(initial: "visible" | "hidden") {
  const listeners = new Set<() => void>();
  const document = {
    visibilityState: initial as string,
    listeners,
    addEventListener: (_type: "visibilitychange", listener: () => void) => void listeners.add(listener),
    removeEventListener: (_type: "visibilitychange", listener: () => void) => void listeners.delete(listener),
    /** What a browser does when the page is hidden or shown. */
    show(state: "visible" | "hidden") {
      document.visibilityState = state;
      for (const listener of [...listeners]) listener();
    },
  };
  return document satisfies DocumentLike;
}

describe("client SDK trackVisibility (a stand-in document here; test/browser drives a real page's)", () => {
  it("sends the page's visibility as background: at the open when hidden, on each visibilitychange, again at each open; stops at close", async () => {
    const server = await standInServer(() => {});
    const document = fakeDocument("hidden");
    const { session, events } = open(server, { trackVisibility: true, document, reconnect: { initialDelayMs: 300 } });
    session.watch(["bob"], () => {});
    expect(document.listeners.size).toBe(1);
    await opened(events);
    await eventually("the first socket's frames", () => jsonFrames(server, 0).length === 2);
    expect(jsonFrames(server, 0)).toEqual([
      { type: "set", background: true },
      { type: "subscribe", userIDs: ["bob"] },
    ]);
    document.show("visible");
    document.show("hidden");
    await eventually("two flips", () => jsonFrames(server, 0).length === 4);
    expect(jsonFrames(server, 0).slice(2)).toEqual([
      { type: "set", background: false },
      { type: "set", background: true },
    ]);

    // Still hidden: the new socket hears it right after its open.
    server.connections[0]?.socket.close(1011, "drop");
    await eventually("second connection", () => jsonFrames(server, 1).length === 2);
    expect(jsonFrames(server, 1)[0]).toEqual({ type: "set", background: true });
    // Shown while away (no socket to tell): the new socket starts in the foreground, and hears nothing of it.
    server.connections[1]?.socket.close(1011, "drop");
    await eventually("waiting", () => events.closed.length === 2);
    expect(session.state).toBe("waiting");
    document.show("visible");
    await eventually("third connection", () => jsonFrames(server, 2).length === 1);
    await sleep(200);
    expect(jsonFrames(server, 2)).toEqual([{ type: "subscribe", userIDs: ["bob"] }]);

    session.close();
    expect(document.listeners.size).toBe(0);
  });

  it("sends nothing for a page visible at the open", async () => {
    const server = await standInServer(() => {});
    const document = fakeDocument("visible");
    const { events } = open(server, { trackVisibility: true, document });
    await opened(events);
    await sleep(200);
    expect(jsonFrames(server, 0)).toEqual([]);
  });

  it("stops listening when the server ends the session (4001), and throws at connect where there is no document", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) setTimeout(() => socket.close(4001, "kicked"), 100);
    });
    const document = fakeDocument("visible");
    const { session, events } = open(server, { trackVisibility: true, document });
    await eventually("kicked", () => events.kicked.length === 1);
    expect(session.state).toBe("closed");
    expect(document.listeners.size).toBe(0);

    // Node has no document: a session that asks to track one cannot, and says so at once.
    expect("document" in globalThis).toBe(false);
    expect(() => connect({ url: server.url, uid: "u", token: "t", platform: 5, trackVisibility: true })).toThrow(
      /trackVisibility: no document/,
    );
    // Without the option the SDK never looks for one.
    const plain = open(server);
    await opened(plain.events);
  });
});

describe("client SDK: a subscribe the server could not carry out (500)", () => {
  it("goes again after a jittered backoff, with the users no entry answered yet only; the listener hears them; no error event", async () => {
    // The first subscribe is answered; the next two fail; the third try succeeds.
    const server = await standInServer((socket) =>
      answerSubscribes(socket, (call) => (call === 2 || call === 3 ? FAILED : "snapshot")),
    );
    const { session, events } = open(server, { resubscribe: { initialDelayMs: 100, maxDelayMs: 1_000 } });
    const { heard, onChange } = listener();
    session.watch(["ada", "bob"], onChange);
    await opened(events);
    await eventually("first snapshot", () => heard.length === 2);

    session.watch(["carol"], onChange);
    await eventually("carol, after two retries", () => heard.length === 3, 5_000);
    expect(heard[2]).toEqual({ userID: "carol", status: "offline", seq: 1 });
    const sent = subscribes(server, 0);
    expect(sent.map((frame) => frame.userIDs)).toEqual([["ada", "bob"], ["carol"], ["carol"], ["carol"]]);
    // random() is pinned to 1: each wait is the full step, 100 ms then 200 ms (plus the way there and back).
    const [, first, second, third] = sent.map((frame) => frame.at) as [number, number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(95);
    expect(second - first).toBeLessThan(400);
    expect(third - second).toBeGreaterThanOrEqual(195);
    expect(third - second).toBeLessThan(600);
    expect(events.error).toEqual([]);
  });

  it("gives up after resubscribe.maxAttempts retries and passes the error on, once; the session stays open", async () => {
    const server = await standInServer((socket) => answerSubscribes(socket, () => FAILED));
    const { session, events } = open(server, { resubscribe: { initialDelayMs: 20, maxDelayMs: 50, maxAttempts: 2 } });
    session.watch(["ada"], () => {});
    await opened(events);
    await eventually("the error, once the retries are spent", () => events.error.length === 1, 5_000);
    await sleep(300);
    expect(subscribes(server, 0).map((frame) => frame.userIDs)).toEqual([["ada"], ["ada"], ["ada"]]);
    expect(events.error).toHaveLength(1);
    const [{ error }] = events.error as [{ error: Error }];
    expect(error).toBeInstanceOf(PresenceFrameError);
    expect(error).toMatchObject({ errCode: 500, errMsg: SUBSCRIBE_FAILED });
    expect(session.state).toBe("open");

    // A new watch is a new request: its failure gets retries of its own.
    session.watch(["bob"], () => {});
    await eventually("the second error", () => events.error.length === 2, 5_000);
    expect(
      subscribes(server, 0)
        .slice(3)
        .map((frame) => frame.userIDs),
    ).toEqual([["bob"], ["ada", "bob"], ["ada", "bob"]]);
  });

  it("passes other error frames on at once, without a retry: a 400, a failed unsubscribe", async () => {
    const server = await standInServer((socket) => {
      socket.on("message", (data) => {
        const frame = data.toString() === "ping" ? undefined : (JSON.parse(data.toString()) as SentFrame);
        if (frame?.type === "subscribe")
          socket.send(JSON.stringify({ type: "error", errCode: 400, errMsg: "userIDs: bad" }));
        if (frame?.type === "unsubscribe")
          socket.send(JSON.stringify({ type: "error", ...FAILED, errMsg: UNSUBSCRIBE_FAILED }));
      });
    });
    const { session, events } = open(server, { resubscribe: { initialDelayMs: 20 } });
    const stop = session.watch(["ada"], () => {});
    await opened(events);
    await eventually("the 400", () => events.error.length === 1);
    stop();
    await eventually("the failed unsubscribe", () => events.error.length === 2);
    await sleep(300);
    expect(events.error.map(({ error }) => (error as PresenceFrameError).errCode)).toEqual([400, 500]);
    expect(jsonFrames(server, 0).map((frame) => frame.type)).toEqual(["subscribe", "unsubscribe"]);
  });

  it("a reconnect replaces a retry on its way: the new socket subscribes once, to everything", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) {
        answerSubscribes(socket, () => FAILED);
        // The first socket drops right after its subscribe failed, before the retry's wait is over.
        socket.on("message", (data) => data.toString() !== "ping" && setTimeout(() => socket.close(1011, "drop"), 20));
        return;
      }
      // The new socket answers late: a retry left over from the old one would find nothing answered yet.
      socket.on("message", (data) => {
        const frame = data.toString() === "ping" ? undefined : (JSON.parse(data.toString()) as SentFrame);
        const users = (frame?.userIDs ?? []).map((userID) => ({ userID, status: "offline", seq: 1 }));
        if (frame?.type === "subscribe")
          setTimeout(() => socket.send(JSON.stringify({ type: "presence", users })), 700);
      });
    });
    const { session, events } = open(server, {
      reconnect: { initialDelayMs: 20 },
      resubscribe: { initialDelayMs: 300, maxDelayMs: 300 },
    });
    const { heard, onChange } = listener();
    session.watch(["ada", "bob"], onChange);
    await opened(events, 2);
    await eventually("snapshot on the new socket", () => heard.length === 2);
    expect(subscribes(server, 0).map((frame) => frame.userIDs)).toEqual([["ada", "bob"]]);
    expect(subscribes(server, 1).map((frame) => frame.userIDs)).toEqual([["ada", "bob"]]);
    expect(events.error).toEqual([]);
  });

  it("never spends more of the frame budget than it has: 15 failed frames go again only once the window has room", async () => {
    // 3,000 users: 15 subscribe frames at open, all failing once; the retry would make 30 in a window of 10 s.
    const server = await standInServer((socket) =>
      answerSubscribes(socket, (call) => (call <= 15 ? FAILED : "snapshot")),
    );
    const { session, events } = open(server, { resubscribe: { initialDelayMs: 50, maxDelayMs: 50 } });
    const users = Array.from({ length: 3_000 }, (_, i) => `u${i}`);
    const { heard, onChange } = listener();
    session.watch(users, onChange);
    await opened(events);
    await eventually("every user heard after the retry", () => heard.length === 3_000, 20_000);

    const sent = subscribes(server, 0);
    expect(sent).toHaveLength(30);
    expect(sent.slice(15).flatMap((frame) => frame.userIDs)).toEqual(users);
    const times = sent.map((frame) => frame.at);
    for (const [i, at] of times.entries()) {
      const inWindow = times.filter((other) => other <= at && other > at - FRAME_BUDGET.windowMs).length;
      expect(inWindow, `frames within ${FRAME_BUDGET.windowMs} ms up to frame ${i}`).toBeLessThanOrEqual(
        FRAME_BUDGET.frames,
      );
    }
    expect(events.error).toEqual([]);
    expect(session.state).toBe("open");
  }, 30_000);
});
