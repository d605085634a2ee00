/// <reference types="node" />
// The JSON frames the client session sends by itself, against a stand-in server that scripts the
// answers: the `set` frame of setInvisible (again after each reconnect).
import { afterEach, describe, expect, it } from "vitest";
import { type ConnectOptions, connect, PresenceFrameError } from "../../../sdk/client";
import { eventually, recordEvents, sleep } from "../helpers";
import { type StandIn, standInServer } from "./stand-in-server";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

type SentFrame = { type: string; userIDs?: string[]; invisible?: boolean };

/** The JSON frames a connection received, pings left out. */
function jsonFrames(server: StandIn, index: number): SentFrame[] {
  return (server.connections[index]?.received ?? []).filter((text) => text !== "ping").map((text) => JSON.parse(text));
}

function open(server: StandIn, options: Partial<ConnectOptions> = {}) {
  const session = connect({ url: server.url, uid: "u", token: "t", platform: 5, random: () => 1, ...options });
  cleanups.push(
    () => session.close(),
    () => server.stop(),
  );
  return { session, events: recordEvents(session) };
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
