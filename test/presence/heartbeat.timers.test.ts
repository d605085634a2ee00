// Runs with HEARTBEAT_TIMEOUT=2s (see vitest.config.ts), so no test sleeps for 30 s.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueClientToken } from "../../src/tokens";
import { connect, expectPlatformsWithin, freshUid, onlinePlatforms, refusedConnect, register, sleep, tokenFor, type TestSocket } from "../helpers";
import { expectIndexAgreesWithSockets, openSocketCount, sessionStub } from "./helpers";

const TIMEOUT_MS = 2_000;

/** Pings every `everyMs` until stopped, like a client SDK. */
function keepAlive(socket: TestSocket, everyMs = 250): () => void {
  const timer = setInterval(() => {
    try {
      socket.send("ping");
    } catch {
      clearInterval(timer);
    }
  }, everyMs);
  return () => clearInterval(timer);
}

describe("heartbeat timeout", () => {
  it("reports a silent socket offline once it has been silent for HEARTBEAT_TIMEOUT, then closes it with 4003", async () => {
    const uid = freshUid();
    const connectedAt = Date.now();
    const socket = await connect(uid, (await register(uid)).token, 1);
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);

    await expectPlatformsWithin(uid, [], TIMEOUT_MS + 500);
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(await socket.closedWithin(2_000)).toMatchObject({ code: 4003 });
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
  });

  it("keeps a pinging socket online across several timeouts, and across hibernation", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const stop = keepAlive(socket);
    for (let i = 0; i < 6; i++) {
      await sleep(TIMEOUT_MS / 2);
      if (i === 2) await evictDurableObject(sessionStub(uid), { webSockets: "hibernate" });
      expect(await onlinePlatforms(uid), `after ${(i + 1) * 0.5} s`).toEqual(["IOS"]);
    }
    expect(await openSocketCount(uid)).toBe(1);
    expect(socket.messages.filter((m) => m === "pong").length).toBeGreaterThan(5);

    // Stop pinging: the same socket now times out.
    stop();
    expect(await socket.closedWithin(TIMEOUT_MS + 2_000)).toMatchObject({ code: 4003 });
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
  });

  it("counts any frame, not only ping, as a sign of life", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const timer = setInterval(() => socket.send('{"type":"hello"}'), 250);
    await sleep(TIMEOUT_MS * 2);
    clearInterval(timer);
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
    socket.close();
  });

  it("times out one platform without touching a live one", async () => {
    const uid = freshUid();
    await register(uid);
    const silent = await connect(uid, await tokenFor(uid, 1), 1);
    const live = await connect(uid, await tokenFor(uid, 5), 5);
    const stop = keepAlive(live);
    expect(await silent.closedWithin(TIMEOUT_MS + 2_000)).toMatchObject({ code: 4003 });
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["Web"]);
    stop();
    live.close();
  });
});

describe("token expiry while connected", () => {
  it("closes the socket with 4004 when its token expires", async () => {
    const uid = freshUid();
    const { token, expiredTime } = await issueClientToken(env, uid, 3, 2);
    const socket = await connect(uid, token, 3);
    const stop = keepAlive(socket);
    const closed = await socket.closedWithin(4_000);
    stop();
    expect(closed.code).toBe(4004);
    expect(Date.now()).toBeGreaterThanOrEqual(expiredTime * 1000);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
  });

  it("prunes an invalidation once the token it names would have expired anyway", async () => {
    const uid = freshUid();
    const shortLived = await issueClientToken(env, uid, 1, 2);
    const first = await connect(uid, shortLived.token, 1);
    const stopFirst = keepAlive(first);
    const second = await connect(uid, (await issueClientToken(env, uid, 1, 60)).token, 1);
    const stopSecond = keepAlive(second);
    await first.closedWithin(2_000);
    stopFirst();

    const revokedNow = () =>
      runInDurableObject(sessionStub(uid), (_i, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM revoked_tokens").one().n,
      );
    expect(await revokedNow()).toBe(1);
    expect((await refusedConnect({ sendID: uid, token: shortLived.token, platformID: 1 })).body.errCode).toBe(702);

    // The sweeps that keep running for the live session prune it after expiry.
    await sleep(shortLived.expiredTime * 1000 - Date.now());
    const deadline = Date.now() + 2 * TIMEOUT_MS;
    while ((await revokedNow()) > 0 && Date.now() < deadline) await sleep(100);
    expect(await revokedNow()).toBe(0);
    // Past expiry the token is refused as expired, not as invalidated.
    expect((await refusedConnect({ sendID: uid, token: shortLived.token, platformID: 1 })).body.errCode).toBe(701);
    stopSecond();
    second.close();
  });

  it("prunes an idle object's stale invalidations at its next handshake, without an alarm", async () => {
    const uid = freshUid();
    const shortLived = await issueClientToken(env, uid, 1, 1);
    const first = await connect(uid, shortLived.token, 1);
    const second = await connect(uid, (await issueClientToken(env, uid, 1, 60)).token, 1);
    await first.closedWithin(2_000);
    second.close();
    await expectPlatformsWithin(uid, [], 1_000);

    const inObject = () =>
      runInDurableObject(sessionStub(uid), async (_i, state) => ({
        revoked: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM revoked_tokens").one().n,
        alarm: await state.storage.getAlarm(),
      }));
    expect(await inObject()).toEqual({ revoked: 1, alarm: null });

    await sleep(shortLived.expiredTime * 1000 - Date.now() + 100);
    const third = await connect(uid, (await issueClientToken(env, uid, 1, 60)).token, 1);
    expect((await inObject()).revoked).toBe(0);
    third.close();
  });
});
