import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  connect,
  expectPlatformsWithin,
  freshUid,
  onlinePlatforms,
  post,
  refusedConnect,
  register,
  SECRET,
  sleep,
  tokenFor,
} from "../helpers";
import { expectIndexAgreesWithSockets, openSocketCount, sessionStub } from "./helpers";

describe("same-platform kick (OpenIM's default policy)", () => {
  it("replaces the old session: 702 frame, close 4001, old token invalidated; new token and other platforms untouched", async () => {
    const uid = freshUid();
    const oldToken = (await register(uid)).token;
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    const oldIos = await connect(uid, oldToken, 1);

    const newToken = await tokenFor(uid, 1);
    const newIos = await connect(uid, newToken, 1);

    const frame = JSON.parse(await oldIos.message(0));
    expect(frame).toMatchObject({ errCode: 702, errMsg: expect.any(String) });
    expect(await oldIos.closedWithin(2_000)).toMatchObject({ code: 4001 });

    const reconnect = await refusedConnect({ sendID: uid, token: oldToken, platformID: 1 });
    expect(reconnect.status).toBe(401);
    expect(reconnect.body.errCode).toBe(702);

    expect(await openSocketCount(uid, 1)).toBe(1);
    expect(await openSocketCount(uid, 5)).toBe(1);
    expect(web.messages).toEqual([]);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["IOS", "Web"]);

    // The replacing session and its token keep working.
    newIos.send("ping");
    expect(await newIos.message(0)).toBe("pong");
    newIos.close();
    web.close();
  });

  it("keeps the token valid when the same token reconnects", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    const first = await connect(uid, token, 1);
    const second = await connect(uid, token, 1);
    expect(await first.closedWithin(2_000)).toMatchObject({ code: 4001 });
    second.close();
    const third = await connect(uid, token, 1);
    expect(await openSocketCount(uid, 1)).toBe(1);
    third.close();
  });

  it("leaves exactly one live session after a reconnect storm of 50 on one platform", async () => {
    const uid = freshUid("storm");
    await register(uid);
    const sockets = [];
    for (let i = 0; i < 50; i++) sockets.push(await connect(uid, await tokenFor(uid, 2), 2));
    expect(await openSocketCount(uid)).toBe(1);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["Android"]);
    const closes = await Promise.all(sockets.slice(0, 49).map((s) => s.closedWithin(3_000)));
    expect(new Set(closes.map((c) => c.code))).toEqual(new Set([4001]));
    sockets[49]!.close();
  });
});

describe("POST /auth/force_logout", () => {
  it("closes the platform's sessions with 4002 and invalidates every token issued up to the call", async () => {
    const uid = freshUid();
    const first = (await register(uid)).token;
    const second = await tokenFor(uid, 1);
    const ios = await connect(uid, second, 1);
    const web = await connect(uid, await tokenFor(uid, 5), 5);

    const answer = await post("/auth/force_logout", { secret: SECRET, uid, platform: 1 });
    expect(answer).toMatchObject({ status: 200, body: { errCode: 0, errMsg: "" } });
    expect(await ios.closedWithin(2_000)).toMatchObject({ code: 4002 });

    for (const token of [first, second]) {
      const refused = await refusedConnect({ sendID: uid, token, platformID: 1 });
      expect(refused.status).toBe(401);
      expect(refused.body.errCode).toBe(702);
    }
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["Web"]);

    // Tokens issued after the call work; the other platform was never touched.
    const fresh = await connect(uid, await tokenFor(uid, 1), 1);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["IOS", "Web"]);
    expect(web.messages).toEqual([]);
    fresh.close();
    web.close();
  });

  it("answers 404/602 for an unknown uid", async () => {
    const answer = await post("/auth/force_logout", { secret: SECRET, uid: freshUid("ghost"), platform: 1 });
    expect(answer.status).toBe(404);
    expect(answer.body.errCode).toBe(602);
  });

  it("validates its fields like the other routes", async () => {
    const answer = await post("/auth/force_logout", { secret: SECRET, uid: "u", platform: 9 });
    expect(answer.status).toBe(400);
    expect(answer.body.errMsg).toBe("platform: must be 1–7");
  });
});

describe("presence across hibernation and eviction", () => {
  it("a closed socket is offline within a second", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    socket.send("ping");
    await socket.message(0);
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
    socket.close();
    await expectPlatformsWithin(uid, [], 1_000);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
  });

  it("keeps sessions, heartbeats and kicks working after the object hibernates", async () => {
    const uid = freshUid();
    const oldToken = (await register(uid)).token;
    const ios = await connect(uid, oldToken, 1);
    const web = await connect(uid, await tokenFor(uid, 5), 5);

    await evictDurableObject(sessionStub(uid), { webSockets: "hibernate" });
    expect(await onlinePlatforms(uid)).toEqual(["IOS", "Web"]);
    ios.send("ping");
    expect(await ios.message(0)).toBe("pong");

    // The woken object still knows the old session's platform and token.
    const replacement = await connect(uid, await tokenFor(uid, 1), 1);
    expect(await ios.closedWithin(2_000)).toMatchObject({ code: 4001 });
    expect((await refusedConnect({ sendID: uid, token: oldToken, platformID: 1 })).body.errCode).toBe(702);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["IOS", "Web"]);

    await evictDurableObject(sessionStub(uid), { webSockets: "hibernate" });
    web.close();
    await expectPlatformsWithin(uid, ["IOS"], 1_000);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["IOS"]);
    replacement.close();
  });

  it("an object with no sockets keeps no alarm, even while it stores invalidations", async () => {
    const uid = freshUid();
    const kicked = await connect(uid, (await register(uid)).token, 1);
    const socket = await connect(uid, await tokenFor(uid, 1), 1);
    await kicked.closedWithin(2_000);
    socket.close();
    await expectPlatformsWithin(uid, [], 1_000);
    await sleep(50);
    const alarm = await (await import("cloudflare:test")).runInDurableObject(sessionStub(uid), (_i, state) =>
      state.storage.getAlarm(),
    );
    expect(alarm).toBeNull();
  });
});
