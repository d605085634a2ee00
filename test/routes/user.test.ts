import { env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PLATFORM_NAMES } from "../../protocol";
import { connect, expectPlatformsWithin, freshUid, onlineStatus, post, register, SECRET, tokenFor } from "../helpers";

describe("POST /user/get_users_online_status", () => {
  it("answers one entry per requested id, in request order, duplicates kept, with no data field", async () => {
    const online = freshUid("on");
    const offline = freshUid("off");
    const { token } = await register(online, { platform: 2 });
    await register(offline);
    const socket = await connect(online, token, 2);

    const answer = await post("/user/get_users_online_status", {
      secret: SECRET,
      operationID: "545454",
      userIDList: [online, offline, "never-registered", online],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      errCode: 0,
      errMsg: "",
      successResult: [
        {
          userID: online,
          status: "online",
          detailPlatformStatus: [{ platform: "Android", status: "online", isBackground: false }],
        },
        { userID: offline, status: "offline" },
        { userID: "never-registered", status: "offline" },
        {
          userID: online,
          status: "online",
          detailPlatformStatus: [{ platform: "Android", status: "online", isBackground: false }],
        },
      ],
    });
    socket.close();
  });

  it("answers an empty list with an empty successResult", async () => {
    const answer = await post("/user/get_users_online_status", { secret: SECRET, userIDList: [] });
    expect(answer.body).toEqual({ errCode: 0, errMsg: "", successResult: [] });
  });

  it("spells every platform exactly as OpenIM does, each live platform once", async () => {
    const uid = freshUid();
    await register(uid);
    const sockets = [];
    for (const platform of [7, 3, 1, 6, 2, 5, 4])
      sockets.push(await connect(uid, await tokenFor(uid, platform), platform));
    const [entry] = await onlineStatus([uid]);
    expect(entry).toEqual({
      userID: uid,
      status: "online",
      detailPlatformStatus: Object.values(PLATFORM_NAMES).map((platform) => ({
        platform,
        status: "online",
        isBackground: false,
      })),
    });
    expect(Object.values(PLATFORM_NAMES)).toEqual(["IOS", "Android", "Windows", "OSX", "Web", "MiniWeb", "Linux"]);
    for (const socket of sockets) socket.close();
  });

  it("takes 200 uids and refuses 201", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `bulk-${i}`);
    const ok = await post("/user/get_users_online_status", { secret: SECRET, userIDList: ids });
    expect(ok.status).toBe(200);
    expect((ok.body.successResult as unknown[]).length).toBe(200);

    const over = await post("/user/get_users_online_status", { secret: SECRET, userIDList: [...ids, "one-more"] });
    expect(over.status).toBe(400);
    expect(over.body).toEqual({ errCode: 400, errMsg: "userIDList: at most 200 uids" });
  });

  const bad: [string, unknown, RegExp][] = [
    ["missing", undefined, /^userIDList: is required/],
    ["null", null, /^userIDList: must be an array of uids, not null/],
    ["a string", "u1", /^userIDList: must be an array of uids, not a string/],
    ["an empty uid", ["ok", ""], /^userIDList\.1: must not be empty/],
    ["a 65-character uid", ["x".repeat(65)], /^userIDList\.0: at most 64 characters/],
    ["a number", ["a", 7], /^userIDList\.1: must be a string, not a number/],
    ["a null uid", [null], /^userIDList\.0: must be a string, not null/],
  ];
  for (const [label, value, message] of bad) {
    it(`refuses a list that is ${label} with 400`, async () => {
      const answer = await post("/user/get_users_online_status", { secret: SECRET, userIDList: value });
      expect(answer.status).toBe(400);
      expect(answer.body.errCode).toBe(400);
      expect(answer.body.errMsg).toMatch(message);
    });
  }

  it("creates no Durable Object for users who were never online", async () => {
    const before = (await listDurableObjectIds(env.USER_SESSIONS)).length;
    await onlineStatus(Array.from({ length: 50 }, (_, i) => freshUid(`cold-${i}`)));
    expect((await listDurableObjectIds(env.USER_SESSIONS)).length).toBe(before);
  });
});

describe("lastSeen (docs/api.md#post-userget_users_online_status)", () => {
  it("is the moment an offline user's last session ended, absent for online and never-online users", async () => {
    const uid = freshUid("seen");
    const never = freshUid("never");
    await register(never);
    const ios = await connect(uid, (await register(uid)).token, 1);
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    ios.close();
    await expectPlatformsWithin(uid, ["Web"], 1_000);
    expect((await onlineStatus([uid]))[0]).not.toHaveProperty("lastSeen");

    const before = Date.now();
    web.close();
    await expectPlatformsWithin(uid, [], 1_000);
    const [seen, unseen] = await onlineStatus([uid, never]);
    expect(seen).toEqual({ userID: uid, status: "offline", lastSeen: expect.any(Number) });
    expect(seen!.lastSeen).toBeGreaterThanOrEqual(before - 50);
    expect(seen!.lastSeen).toBeLessThanOrEqual(Date.now());
    expect(unseen).toEqual({ userID: never, status: "offline" });

    // Online again: no lastSeen; offline again: the new moment.
    const again = await connect(uid, await tokenFor(uid, 1), 1);
    expect((await onlineStatus([uid]))[0]).not.toHaveProperty("lastSeen");
    again.close();
    await expectPlatformsWithin(uid, [], 1_000);
    expect((await onlineStatus([uid]))[0]!.lastSeen).toBeGreaterThan(seen!.lastSeen!);
  });
});
