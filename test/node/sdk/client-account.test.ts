/// <reference types="node" />
// The client session when the AppServer deletes or bans its user, against the real worker.
import { describe, expect, it } from "vitest";
import { ErrCode, Platform } from "../../../sdk/appserver";
import { connect, type WebSocketLike } from "../../../sdk/client";
import { appServer, eventually, freshUid, recordEvents, sleep, workerUrl } from "../helpers";

const quickReconnect = { initialDelayMs: 50, maxDelayMs: 200 };

/** A registered user's session on Web, with every socket it dials counted. */
async function openSession() {
  const uid = freshUid("account");
  const { token } = await appServer().registerUser({ uid, platform: Platform.Web, name: "n" });
  const dialled: string[] = [];
  class Counted extends WebSocket {
    constructor(url: string) {
      super(url);
      dialled.push(url);
    }
  }
  const session = connect({
    url: workerUrl(),
    uid,
    token,
    platform: Platform.Web,
    reconnect: quickReconnect,
    WebSocket: Counted as unknown as new (url: string) => WebSocketLike,
  });
  const events = recordEvents(session);
  await eventually("open", () => events.pong.length > 0);
  return { uid, session, events, dialled };
}

describe("client session SDK when the account is deleted or banned", () => {
  it("stops for good when the account is deleted (4005): kicked with account_deleted, no reconnect", async () => {
    const { uid, session, events, dialled } = await openSession();
    try {
      await appServer().deleteUsers([uid]);
      await eventually("kicked", () => events.kicked.length === 1);
      expect(events.kicked[0]).toEqual({ code: 4005, reason: "account_deleted" });
      expect(events.closed.at(-1)).toMatchObject({ code: 4005, wasOpen: true, willReconnect: false });
      expect(session.state).toBe("closed");
      await sleep(1_000); // several reconnect delays: none may happen
      expect(events.open).toHaveLength(1);
      expect(dialled).toHaveLength(1);
    } finally {
      session.close();
    }
  });

  it("waits out a ban (4006) of about 2 s, telling the app its end, then reconnects with the same token", async () => {
    const { uid, session, events, dialled } = await openSession();
    try {
      const until = Math.ceil(Date.now() / 1000) + 2;
      await appServer().banUser({ uid, until });
      await eventually("banned", () => events.banned.length === 1);
      expect(events.banned[0]).toEqual({ reason: `banned until ${until}`, until });
      const closed = events.closed.at(-1);
      expect(closed).toMatchObject({ code: 4006, wasOpen: true, willReconnect: true });
      expect(closed?.retryInMs).toBeGreaterThanOrEqual(until * 1000 - Date.now() - 100);
      expect(session.state).toBe("waiting");
      await expect(appServer().getUserToken({ uid, platform: Platform.Web })).rejects.toMatchObject({
        errCode: ErrCode.banned,
      });

      await eventually("open again after the ban", () => events.open.length === 2, 8_000);
      expect(Date.now()).toBeGreaterThanOrEqual(until * 1000);
      // One socket before the ban, one after it: nothing dialled into the ban.
      expect(dialled).toHaveLength(2);
      await eventually("pong on the new socket", () => events.pong.length >= 2);
      expect(session.state).toBe("open");
      expect(events.kicked).toEqual([]);
    } finally {
      session.close();
    }
  });
});
