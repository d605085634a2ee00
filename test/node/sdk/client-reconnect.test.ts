/// <reference types="node" />
// Close codes the real worker only sends after long waits (4003 after 30 s, 4004 at token expiry)
// or never on purpose (1011) come from a stand-in server here.
import { afterEach, describe, expect, it } from "vitest";
import { type ClientSession, connect } from "../../../sdk/client";
import { eventually, recordEvents } from "../helpers";
import { type StandIn, standInServer } from "./stand-in-server";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function track(session: ClientSession, server: StandIn) {
  cleanups.push(
    () => session.close(),
    () => server.stop(),
  );
  return recordEvents(session);
}

describe("client session SDK reconnects", () => {
  it("reconnects after an unexpected close, with delays that grow exponentially and stay within the jitter band", async () => {
    // Every connection but the fifth is dropped at once with 1011.
    const server = await standInServer((socket, index) => {
      if (index < 4) socket.close(1011, "server error");
    });
    const session = connect({
      url: server.url,
      uid: "u",
      token: "t",
      platform: 5,
      reconnect: { initialDelayMs: 40, maxDelayMs: 1_000, factor: 2 },
      random: () => 1, // the top of the band: exactly the exponential step
    });
    const events = track(session, server);
    await eventually("fifth connection stays open", () => events.open.length === 5, 15_000);
    const delays = events.closed.map((c) => c.retryInMs);
    expect(delays, JSON.stringify(events.closed)).toEqual([40, 80, 160, 320]);
    expect(events.closed.every((c) => c.code === 1011 && c.willReconnect)).toBe(true);
    // The client's open event can come before the server has read the first frame.
    await eventually("the fifth connection's first frame arrives", () => server.connections[4]!.received.length > 0);
    expect(server.connections[4]!.received[0]).toBe("ping");
  });

  it("spreads delays with jitter: half fixed, half random", async () => {
    const server = await standInServer((socket, index) => {
      if (index < 3) socket.close(1011, "again");
    });
    const session = connect({
      url: server.url,
      uid: "u",
      token: "t",
      platform: 5,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      random: () => 0, // the bottom of the band
    });
    const events = track(session, server);
    await eventually("fourth connection open", () => events.open.length === 4, 15_000);
    expect(events.closed.map((c) => c.retryInMs)).toEqual([50, 100, 200]);
  });

  it("on 4004 asks refreshToken and reconnects with the new token", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) setTimeout(() => socket.close(4004, "token expired"), 50);
    });
    const session = connect({
      url: server.url,
      uid: "u",
      token: "old",
      platform: 2,
      refreshToken: ({ reason }) => ({ token: `new-for-${reason}`, expiredTime: Math.floor(Date.now() / 1000) + 3600 }),
    });
    const events = track(session, server);
    await eventually("second connection open", () => events.open.length === 2);
    expect(server.connections.map((c) => c.token)).toEqual(["old", "new-for-token_expired"]);
  });

  it("stops for good after 4004 when there is no refreshToken callback", async () => {
    const server = await standInServer((socket) => setTimeout(() => socket.close(4004, "token expired"), 50));
    const session = connect({ url: server.url, uid: "u", token: "t", platform: 2, reconnect: { initialDelayMs: 20 } });
    const events = track(session, server);
    await eventually("closed", () => session.state === "closed");
    expect(events.closed.at(-1)).toMatchObject({ code: 4004, willReconnect: false });
    expect(events.error).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.connections).toHaveLength(1);
  });

  it("does not reconnect after 4002 and reports it as logged_out", async () => {
    const server = await standInServer((socket) => setTimeout(() => socket.close(4002, "logged out"), 50));
    const session = connect({ url: server.url, uid: "u", token: "t", platform: 2, reconnect: { initialDelayMs: 20 } });
    const events = track(session, server);
    await eventually("kicked", () => events.kicked.length === 1);
    expect(events.kicked[0]).toEqual({ code: 4002, reason: "logged_out" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.connections).toHaveLength(1);
  });

  it("stops for good on a 4006 whose reason names no end, and reports it as banned", async () => {
    const server = await standInServer((socket) => setTimeout(() => socket.close(4006, "banned"), 50));
    const session = connect({ url: server.url, uid: "u", token: "t", platform: 2, reconnect: { initialDelayMs: 20 } });
    const events = track(session, server);
    await eventually("closed", () => session.state === "closed");
    expect(events.banned).toEqual([{ reason: "banned" }]);
    expect(events.closed.at(-1)).toMatchObject({ code: 4006, willReconnect: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.connections).toHaveLength(1);
  });

  it("waits out a ban longer than a timer can hold (40 days) without dialling early; close() cancels the wait", async () => {
    const until = Math.floor(Date.now() / 1000) + 40 * 24 * 3600;
    const server = await standInServer((socket) => setTimeout(() => socket.close(4006, `banned until ${until}`), 50));
    const session = connect({ url: server.url, uid: "u", token: "t", platform: 2, reconnect: { initialDelayMs: 20 } });
    const events = track(session, server);
    await eventually("banned", () => events.banned.length === 1);
    expect(events.banned[0]).toEqual({ reason: `banned until ${until}`, until });
    const [closed] = events.closed;
    expect(closed).toMatchObject({ code: 4006, wasOpen: true, willReconnect: true });
    expect(closed?.retryInMs).toBeGreaterThan(2 ** 31);
    expect(session.state).toBe("waiting");
    // A single setTimeout of more than 2^31-1 ms would fire at once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.connections).toHaveLength(1);
    session.close();
    expect(session.state).toBe("closed");
    expect(events.closed.at(-1)).toMatchObject({ code: 1000, willReconnect: false });
  });

  it("stays closed when a banned listener closes the session: no wait, no second closed event", async () => {
    const server = await standInServer((socket) => setTimeout(() => socket.close(4006, "banned until 1"), 50));
    const session = connect({ url: server.url, uid: "u", token: "t", platform: 2, reconnect: { initialDelayMs: 20 } });
    const events = track(session, server);
    session.on("banned", () => session.close());
    await eventually("banned", () => events.banned.length === 1);
    expect(session.state).toBe("closed");
    expect(events.closed).toEqual([{ code: 1000, reason: "client closed", wasOpen: false, willReconnect: false }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.connections).toHaveLength(1);
  });

  it("reconnects after a first backoff step when the ban's end has already passed", async () => {
    const server = await standInServer((socket, index) => {
      if (index === 0) setTimeout(() => socket.close(4006, "banned until 1"), 50);
    });
    const session = connect({
      url: server.url,
      uid: "u",
      token: "t",
      platform: 2,
      reconnect: { initialDelayMs: 40 },
      random: () => 1,
    });
    const events = track(session, server);
    await eventually("open again", () => events.open.length === 2);
    expect(events.banned).toEqual([{ reason: "banned until 1", until: 1 }]);
    expect(events.closed[0]).toMatchObject({ code: 4006, willReconnect: true, retryInMs: 40 });
    expect(server.connections.map((c) => c.token)).toEqual(["t", "t"]);
  });

  it("gives up after reconnect.maxAttempts failures", async () => {
    const server = await standInServer((socket) => socket.close(1011, "always"));
    const session = connect({
      url: server.url,
      uid: "u",
      token: "t",
      platform: 2,
      reconnect: { initialDelayMs: 10, maxAttempts: 2 },
    });
    const events = track(session, server);
    await eventually("closed", () => session.state === "closed");
    expect(server.connections).toHaveLength(3);
    expect(events.closed.map((c) => c.willReconnect)).toEqual([true, true, false]);
  });
});
