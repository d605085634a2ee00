/// <reference types="node" />
// What a user says about its own presence, through the SDKs against the real worker: the client's
// setBackground (and its re-send after a reconnect) and setCustomStatus, the AppServer's setCustomStatus,
// as the status route and a watching session see them. The exact frames are in client-frames.test.ts.
import { describe, expect, it } from "vitest";
import { ErrCode, ImApiError, Platform, type UserOnlineStatus } from "../../../sdk/appserver";
import type { WatchedUser } from "../../../sdk/client";
import { appServer, eventually, freshUid } from "../helpers";
import { listener, someone, watcherSession } from "./real-sessions";
import { fastRetry, scriptedFetch } from "./scripted-fetch";

async function statusOf(uid: string): Promise<UserOnlineStatus | undefined> {
  return (await appServer().getUsersOnlineStatus([uid]))[0];
}

/** isBackground per platform name, as the status route answers it. */
async function backgroundOf(uid: string): Promise<Record<string, boolean>> {
  const status = await statusOf(uid);
  if (status?.status !== "online") return {};
  return Object.fromEntries(status.detailPlatformStatus.map((p) => [p.platform, p.isBackground]));
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("client SDK setBackground against the real worker", () => {
  it("the AppServer sees isBackground on that platform only, a watcher sees it in background; false brings it back", async () => {
    const alice = await someone("alice");
    const aliceWeb = await alice.online(Platform.Web);
    const alicePhone = await alice.online(Platform.IOS);
    const { session } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      session.watch([alice.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);
      expect(heard[0]).toEqual({ userID: alice.uid, status: "online", platforms: ["IOS", "Web"], seq: 2 });
      expect(await backgroundOf(alice.uid)).toEqual({ IOS: false, Web: false });

      alicePhone.setBackground(true);
      await eventually("the phone in the background, to the watcher", () => heard.length === 2);
      expect(heard[1]).toEqual({
        userID: alice.uid,
        status: "online",
        platforms: ["IOS", "Web"],
        background: ["IOS"],
        seq: 3,
      });
      expect(await backgroundOf(alice.uid)).toEqual({ IOS: true, Web: false });

      alicePhone.setBackground(false);
      await eventually("the phone back", () => heard.length === 3);
      expect(heard[2]).toEqual({ userID: alice.uid, status: "online", platforms: ["IOS", "Web"], seq: 4 });
      expect(await backgroundOf(alice.uid)).toEqual({ IOS: false, Web: false });
    } finally {
      aliceWeb.close();
      alicePhone.close();
      session.close();
    }
  });

  it("after a lost connection the session sends background: true again, and the platform is in the background once more", async () => {
    const alice = await someone("alice");
    const { session: alicePhone, events, sockets } = await alice.tracked(Platform.IOS);
    const { session } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      alicePhone.setBackground(true);
      await eventually("in the background", async () => (await backgroundOf(alice.uid)).IOS === true);
      session.watch([alice.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);
      expect(heard[0]).toMatchObject({ status: "online", background: ["IOS"] });
      const [before] = await appServer().getUserSessions({ uid: alice.uid });

      // Cut without a close frame: the new socket starts in the foreground on the server.
      sockets.at(-1)?.terminate();
      await eventually("reconnected", () => events.open.length === 2);
      await eventually("the new session, alone on its platform", async () => {
        const sessions = await appServer().getUserSessions({ uid: alice.uid });
        return sessions.length === 1 && sessions[0]?.connID !== before?.connID;
      });
      await eventually("in the background again", async () => (await backgroundOf(alice.uid)).IOS === true, 5_000);
      await eventually("the watcher hears it", () => session.presenceOf(alice.uid)?.seq !== heard[0]?.seq);
      await eventually("…in the background", () => {
        const now = session.presenceOf(alice.uid);
        return now?.status === "online" && now.background?.join() === "IOS";
      });
      expect(events.error).toEqual([]);
    } finally {
      alicePhone.close();
      session.close();
    }
  });
});

describe("custom status through the SDKs against the real worker", () => {
  it("the client's setCustomStatus reaches a watcher and the AppServer; the AppServer's replaces it; null clears it, online or offline", async () => {
    const alice = await someone("alice");
    const aliceWeb = await alice.online(Platform.Web);
    const { session } = await watcherSession();
    const { heard, onChange } = listener();
    try {
      session.watch([alice.uid], onChange);
      await eventually("snapshot", () => heard.length === 1);

      const expiresAt = nowSeconds() + 3600;
      aliceWeb.setCustomStatus({ text: "In a meeting 📅", expiresAt });
      await eventually("the status, to the watcher", () => heard.length === 2);
      expect(heard[1]).toEqual({
        userID: alice.uid,
        status: "online",
        platforms: ["Web"],
        customStatus: { text: "In a meeting 📅", expiresAt },
        seq: 2,
      });
      expect(await statusOf(alice.uid)).toMatchObject({ customStatus: { text: "In a meeting 📅", expiresAt } });

      // The AppServer sets the user's status as a set frame would: a Date goes as Unix seconds, rounded up.
      await appServer().setCustomStatus({
        uid: alice.uid,
        customStatus: { text: "On holiday", expiresAt: new Date(expiresAt * 1000 - 1) },
      });
      await eventually("the AppServer's status, to the watcher", () => heard.length === 3);
      expect(heard[2]).toMatchObject({ customStatus: { text: "On holiday", expiresAt }, seq: 3 });

      // It is the user's: offline, it stays; the AppServer clears it.
      aliceWeb.close();
      await eventually("offline", () => session.presenceOf(alice.uid)?.status === "offline");
      expect(session.presenceOf(alice.uid)).toMatchObject({ customStatus: { text: "On holiday", expiresAt } });
      await appServer().setCustomStatus({ uid: alice.uid, customStatus: null });
      await eventually("cleared", () => !session.presenceOf(alice.uid)?.customStatus);
      expect(session.presenceOf(alice.uid)).toEqual({
        userID: alice.uid,
        status: "offline",
        lastSeen: expect.any(Number),
        seq: 5,
      });
      expect(await statusOf(alice.uid)).not.toHaveProperty("customStatus");
    } finally {
      aliceWeb.close();
      session.close();
    }
  });

  it("a status that expires a couple of seconds ahead reaches the watcher, then an entry without it at the expiry, with no request", async () => {
    const alice = await someone("alice");
    const aliceWeb = await alice.online(Platform.Web);
    const { session } = await watcherSession();
    const heard: { user: WatchedUser; at: number }[] = [];
    try {
      session.watch([alice.uid], (user) => void heard.push({ user, at: Date.now() }));
      await eventually("snapshot", () => heard.length === 1);
      // Rounded up to the next second: it expires 2–3 s from now.
      aliceWeb.setCustomStatus({ text: "brb", expiresAt: new Date(Date.now() + 2_000) });
      await eventually("the status", () => heard.length === 2);
      const expiresAt = heard[1]?.user.customStatus?.expiresAt ?? 0;
      expect(expiresAt * 1000 - Date.now()).toBeGreaterThan(500);
      expect(heard[1]?.user).toMatchObject({ customStatus: { text: "brb" } });

      await eventually("the expiry", () => heard.length === 3, 8_000);
      const [, , expired] = heard;
      expect(expired?.user).toEqual({ userID: alice.uid, status: "online", platforms: ["Web"], seq: 3 });
      // At the expiry (a little clock skew allowed), and within 2 s of it.
      expect(expired?.at).toBeGreaterThanOrEqual(expiresAt * 1000 - 100);
      expect(expired?.at).toBeLessThanOrEqual(expiresAt * 1000 + 2_000);
      expect(await statusOf(alice.uid)).not.toHaveProperty("customStatus");
    } finally {
      aliceWeb.close();
      session.close();
    }
  });

  it("the AppServer's setCustomStatus: an unknown uid is 602, a status the server refuses a 400 naming the rule, an invalid Date a RangeError before sending; retried after a lost answer", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    await expect(client.setCustomStatus({ uid: freshUid("ghost"), customStatus: { text: "x" } })).rejects.toMatchObject(
      {
        errCode: ErrCode.notRegistered,
        status: 404,
        route: "/user/set_custom_status",
      },
    );
    const alice = await someone("alice");
    const refused = await client
      .setCustomStatus({ uid: alice.uid, customStatus: { text: "ok", expiresAt: nowSeconds() - 10 } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ImApiError);
    expect(refused).toMatchObject({ errCode: ErrCode.badRequest, errMsg: expect.stringMatching(/future/) });
    const calls = tracked.calls.length;
    await expect(
      client.setCustomStatus({ uid: alice.uid, customStatus: { text: "ok", expiresAt: new Date("never") } }),
    ).rejects.toThrow(RangeError);
    expect(tracked.calls).toHaveLength(calls);
    expect(await statusOf(alice.uid)).not.toHaveProperty("customStatus");

    // Setting it again is setting the same status: the retry lands where the first attempt did.
    const lost = scriptedFetch((_, call) => (call === 1 ? "fail-after" : "pass"));
    await appServer({ fetch: lost.fetch, retry: fastRetry }).setCustomStatus({
      uid: alice.uid,
      customStatus: { text: "Travelling" },
    });
    expect(lost.calls).toEqual(["/user/set_custom_status", "/user/set_custom_status"]);
    expect(await statusOf(alice.uid)).toMatchObject({ customStatus: { text: "Travelling" } });
  });
});
