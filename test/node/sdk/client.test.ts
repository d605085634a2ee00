/// <reference types="node" />
import { describe, expect, it } from "vitest";
import { Platform } from "../../../sdk/appserver";
import { connect, type RefreshReason } from "../../../sdk/client";
import { appServer, eventually, freshUid, onlinePlatformsOf, recordEvents, sleep, workerUrl } from "../helpers";

const quickReconnect = { initialDelayMs: 50, maxDelayMs: 200 };

describe("client session SDK against the real worker", () => {
  it("opens, pings right after opening (the server's pong proves it) and shows the user online", async () => {
    const client = appServer();
    const uid = freshUid();
    const { token } = await client.registerUser({ uid, platform: Platform.Web, name: "n" });
    // A minute-long interval: only the ping sent on open can draw a pong within the test.
    const session = connect({ url: `${workerUrl()}/ws`, uid, token, platform: Platform.Web, pingIntervalMs: 60_000 });
    const events = recordEvents(session);
    try {
      await eventually("pong after open", () => events.pong.length === 1);
      expect(events.open).toEqual([{ reconnects: 0 }]);
      expect(session.state).toBe("open");
      await eventually("online on Web", async () => (await onlinePlatformsOf(client, uid)).join() === "Web");
    } finally {
      session.close();
    }
    expect(events.closed.at(-1)).toMatchObject({ code: 1000, willReconnect: false });
    await eventually("offline after close", async () => (await onlinePlatformsOf(client, uid)).length === 0);
  });

  it("keeps pinging every pingIntervalMs", async () => {
    const uid = freshUid();
    const { token } = await appServer().registerUser({ uid, platform: Platform.Linux, name: "n" });
    const session = connect({ url: workerUrl(), uid, token, platform: Platform.Linux, pingIntervalMs: 100 });
    const events = recordEvents(session);
    try {
      await eventually("four pongs", () => events.pong.length >= 4);
    } finally {
      session.close();
    }
  });

  it("does not reconnect after being kicked (4001) by a newer session on the same platform", async () => {
    const client = appServer();
    const uid = freshUid();
    const first = await client.registerUser({ uid, platform: Platform.IOS, name: "n" });
    const older = connect({
      url: workerUrl(),
      uid,
      token: first.token,
      platform: Platform.IOS,
      reconnect: quickReconnect,
    });
    const olderEvents = recordEvents(older);
    await eventually("older open", () => olderEvents.open.length === 1);

    const second = await client.getUserToken({ uid, platform: Platform.IOS });
    const newer = connect({ url: workerUrl(), uid, token: second.token, platform: Platform.IOS });
    try {
      await eventually("older kicked", () => olderEvents.kicked.length === 1);
      expect(olderEvents.kicked[0]).toMatchObject({ code: 4001, reason: "kicked", errMsg: expect.any(String) });
      expect(olderEvents.closed.at(-1)).toMatchObject({ code: 4001, willReconnect: false });
      await sleep(1_000); // several reconnect delays: none may happen
      expect(olderEvents.open).toHaveLength(1);
      expect(older.state).toBe("closed");
      expect(newer.state).toBe("open");
    } finally {
      newer.close();
    }
  });

  it("asks refreshToken for a new token when the handshake is refused, then connects with it", async () => {
    const client = appServer();
    const uid = freshUid();
    await client.registerUser({ uid, platform: Platform.Windows, name: "n" });
    const reasons: RefreshReason[] = [];
    const session = connect({
      url: workerUrl(),
      uid,
      token: "not-a-token", // refused with 401/703; the SDK only sees a close before open
      platform: Platform.Windows,
      reconnect: quickReconnect,
      refreshToken: async ({ reason }) => {
        reasons.push(reason);
        return client.getUserToken({ uid, platform: Platform.Windows });
      },
    });
    const events = recordEvents(session);
    try {
      await eventually("open with the fresh token", () => events.open.length === 1);
      expect(reasons).toEqual(["handshake_failed"]);
      expect(events.closed[0]).toMatchObject({ wasOpen: false, willReconnect: true });
      expect(events.open[0]!.reconnects).toBeGreaterThanOrEqual(1);
      await eventually("online", async () => (await onlinePlatformsOf(client, uid)).join() === "Windows");
    } finally {
      session.close();
    }
  });

  it("refreshes before connecting when the token's expiredTime has passed", async () => {
    const client = appServer();
    const uid = freshUid();
    const stale = await client.registerUser({ uid, platform: Platform.OSX, name: "n" });
    const reasons: RefreshReason[] = [];
    const session = connect({
      url: workerUrl(),
      uid,
      token: stale.token,
      expiredTime: Math.floor(Date.now() / 1000) - 1,
      platform: Platform.OSX,
      refreshToken: async ({ reason }) => {
        reasons.push(reason);
        return client.getUserToken({ uid, platform: Platform.OSX });
      },
    });
    const events = recordEvents(session);
    try {
      await eventually("open", () => events.open.length === 1);
      expect(reasons).toEqual(["expired_locally"]);
      expect(events.closed).toHaveLength(0);
    } finally {
      session.close();
    }
  });
});
