/// <reference types="node" />
import { describe, expect, it } from "vitest";
import { ErrCode, ImApiError, ImNetworkError, Platform } from "../../../sdk/appserver";
import { connect } from "../../../sdk/client";
import { appServer, eventually, freshUid, onlinePlatformsOf, recordEvents, workerUrl } from "../helpers";
import { fastRetry, scriptedFetch } from "./scripted-fetch";

describe("AppServerClient against the real worker", () => {
  it("registers a user and issues tokens, with typed results", async () => {
    const client = appServer();
    const uid = freshUid();
    const registered = await client.registerUser({ uid, platform: Platform.Web, name: "Ada", gender: 2 });
    expect(registered.uid).toBe(uid);
    expect(registered.token).toMatch(/\S{20,}/);
    expect(registered.expiredTime).toBeGreaterThan(Date.now() / 1000);
    const issued = await client.getUserToken({ uid, platform: Platform.IOS });
    expect(issued.uid).toBe(uid);
    expect(issued.token).not.toBe(registered.token);
  });

  it("throws ImApiError carrying errCode and status: 601/409, 602/404, 401/401, 400/400", async () => {
    const client = appServer();
    const uid = freshUid();
    await client.registerUser({ uid, platform: 1, name: "" });
    const again = await client.registerUser({ uid, platform: 1, name: "x" }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ImApiError);
    expect(again).toMatchObject({ errCode: ErrCode.alreadyRegistered, status: 409, route: "/auth/user_register" });
    expect((again as ImApiError).is(ErrCode.alreadyRegistered)).toBe(true);

    await expect(client.getUserToken({ uid: freshUid(), platform: 1 })).rejects.toMatchObject({
      errCode: 602,
      status: 404,
    });
    await expect(appServer({ secret: "wrong" }).forceLogout({ uid, platform: 1 })).rejects.toMatchObject({
      errCode: 401,
      status: 401,
    });
    await expect(client.registerUser({ uid: "x".repeat(65), platform: 1, name: "" })).rejects.toMatchObject({
      errCode: 400,
      status: 400,
      errMsg: expect.stringMatching(/^uid: /),
    });
  });

  it("splits a status query of 450 uids into batches of at most 200 and keeps order and duplicates", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const uid = freshUid();
    const { token } = await client.registerUser({ uid, platform: Platform.Web, name: "n" });
    const session = connect({ url: workerUrl(), uid, token, platform: Platform.Web, WebSocket });
    try {
      await eventually("session online", async () => (await onlinePlatformsOf(appServer(), uid)).includes("Web"));
      const uids = Array.from({ length: 450 }, (_, i) => ([0, 199, 200, 449].includes(i) ? uid : `nobody-${i}`));
      tracked.calls.length = 0;
      const result = await client.getUsersOnlineStatus(uids);
      expect(tracked.calls).toEqual(Array(3).fill("/user/get_users_online_status"));
      expect(result.map((entry) => entry.userID)).toEqual(uids);
      for (const [i, entry] of result.entries()) {
        expect(entry.status, `entry ${i}`).toBe(uids[i] === uid ? "online" : "offline");
      }
      expect(result[449]).toEqual({
        userID: uid,
        status: "online",
        detailPlatformStatus: [{ platform: "Web", status: "online", isBackground: false }],
      });
      expect(await client.getUsersOnlineStatus([])).toEqual([]);
    } finally {
      session.close();
    }
  });

  it("force-logs-out a platform: the client session is told 4002 and stays closed", async () => {
    const client = appServer();
    const uid = freshUid();
    const { token } = await client.registerUser({ uid, platform: Platform.Android, name: "n" });
    const session = connect({ url: workerUrl(), uid, token, platform: Platform.Android, WebSocket });
    const events = recordEvents(session);
    await eventually("open", () => events.open.length === 1);
    await client.forceLogout({ uid, platform: Platform.Android });
    await eventually("kicked", () => events.kicked.length === 1);
    expect(events.kicked[0]).toMatchObject({ code: 4002, reason: "logged_out" });
    expect(events.closed.at(-1)).toMatchObject({ code: 4002, willReconnect: false });
    expect(session.state).toBe("closed");
  });

  it("retries token issuance after a network error and after a 503, but not a 400", async () => {
    const flaky = scriptedFetch((route, call) => (route === "/auth/user_token" && call === 1 ? "fail-before" : "pass"));
    const client = appServer({ fetch: flaky.fetch, retry: fastRetry });
    const uid = freshUid();
    await client.registerUser({ uid, platform: 1, name: "n" });
    expect((await client.getUserToken({ uid, platform: 1 })).uid).toBe(uid);
    expect(flaky.calls.filter((r) => r === "/auth/user_token")).toHaveLength(2);

    const busy = scriptedFetch((_, call) =>
      call === 1 ? Response.json({ errCode: 500, errMsg: "busy" }, { status: 503 }) : "pass",
    );
    expect((await appServer({ fetch: busy.fetch, retry: fastRetry }).getUserToken({ uid, platform: 2 })).uid).toBe(uid);
    expect(busy.calls).toHaveLength(2);

    const bad = scriptedFetch(() => "pass");
    await expect(
      appServer({ fetch: bad.fetch, retry: fastRetry }).getUserToken({ uid: "", platform: 1 }),
    ).rejects.toMatchObject({ errCode: 400 });
    expect(bad.calls).toHaveLength(1);
  });

  it("waits out a 429 with Retry-After before retrying a status query, and gives up after the set attempts", async () => {
    const limited = scriptedFetch((_, call) =>
      call === 1
        ? Response.json({ errCode: 429, errMsg: "slow down" }, { status: 429, headers: { "Retry-After": "0" } })
        : "pass",
    );
    expect(await appServer({ fetch: limited.fetch, retry: fastRetry }).getUsersOnlineStatus(["a"])).toEqual([
      { userID: "a", status: "offline" },
    ]);
    expect(limited.calls).toHaveLength(2);

    const down = scriptedFetch(() => "fail-before");
    const error = await appServer({ fetch: down.fetch, retry: { ...fastRetry, attempts: 4 } })
      .getUsersOnlineStatus(["a"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImNetworkError);
    expect(error).toMatchObject({ attempts: 4 });
    expect(down.calls).toHaveLength(4);
  });

  it("never retries a register on its own: a lost answer is an ImNetworkError after one call", async () => {
    const lost = scriptedFetch(() => "fail-after");
    const uid = freshUid();
    const error = await appServer({ fetch: lost.fetch, retry: fastRetry })
      .registerUser({ uid, platform: 1, name: "n" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImNetworkError);
    expect(error).toMatchObject({ attempts: 1, outcomeUnknown: true });
    expect(lost.calls).toEqual(["/auth/user_register"]);
    // It did take effect: the uid now exists.
    await expect(appServer().registerUser({ uid, platform: 1, name: "n" })).rejects.toMatchObject({ errCode: 601 });
  });

  it("registerOrGetToken reports a 601 after a lost answer as ambiguous, and a plain 601 as already_registered", async () => {
    const lostOnce = scriptedFetch((route, call) =>
      route === "/auth/user_register" && call === 1 ? "fail-after" : "pass",
    );
    const uid = freshUid();
    const result = await appServer({ fetch: lostOnce.fetch, retry: fastRetry }).registerOrGetToken({
      uid,
      platform: 5,
      name: "n",
    });
    expect(result).toMatchObject({ uid, outcome: "ambiguous" });
    expect(lostOnce.calls).toEqual(["/auth/user_register", "/auth/user_register", "/auth/user_token"]);
    expect(typeof result.token).toBe("string");

    const fresh = freshUid();
    expect(await appServer().registerOrGetToken({ uid: fresh, platform: 5, name: "n" })).toMatchObject({
      outcome: "registered",
    });
    expect(await appServer().registerOrGetToken({ uid: fresh, platform: 5, name: "n" })).toMatchObject({
      outcome: "already_registered",
    });
  });
});
