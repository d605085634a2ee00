// Runs with HEARTBEAT_TIMEOUT=2s (see vitest.config.ts), so no test sleeps for 30 s.
import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { OFFLINE_GRACE_MS } from "../../src/presence/verification";
import { issueClientToken } from "../../src/tokens";
import {
  connect,
  expectPlatformsWithin,
  freshUid,
  onlinePlatforms,
  refusedConnect,
  register,
  sleep,
  tokenFor,
} from "../helpers";
import { expectIndexAgreesWithSockets, keepAlive, openSocketCount, sessionStub, shardStub } from "./helpers";

const TIMEOUT_MS = 2_000;

/** Polls the status route until the user reads offline; returns when, or fails after `withinMs`. */
async function offlineAt(uid: string, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if ((await onlinePlatforms(uid)).length === 0) return Date.now();
    await sleep(50);
  }
  throw new Error(`${uid} still online after ${withinMs} ms`);
}

describe("heartbeat timeout", () => {
  it("reports a silent socket offline between HEARTBEAT_TIMEOUT and HEARTBEAT_TIMEOUT + 5 s after its last frame, and closes it with 4003", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    socket.send("ping");
    await socket.message(0);
    const lastFrameAt = Date.now();
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);

    const silentFor = (await offlineAt(uid, TIMEOUT_MS + OFFLINE_GRACE_MS + 1_000)) - lastFrameAt;
    expect(silentFor).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(silentFor).toBeLessThanOrEqual(TIMEOUT_MS + OFFLINE_GRACE_MS);
    expect(await socket.closedWithin(2_000)).toMatchObject({ code: 4003 });
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
  });

  it("never reports a pinging socket offline, across several timeouts, the user object's hibernation and the shard's eviction", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const stop = keepAlive(socket, TIMEOUT_MS / 4);
    const started = Date.now();
    const windowMs = 5 * TIMEOUT_MS;
    const events = [
      { atMs: windowMs * 0.3, run: () => evictDurableObject(sessionStub(uid), { webSockets: "hibernate" }) },
      { atMs: windowMs * 0.6, run: () => evictDurableObject(shardStub(uid)) },
    ];
    let reads = 0;
    while (Date.now() - started < windowMs) {
      expect(await onlinePlatforms(uid), `after ${Date.now() - started} ms`).toEqual(["IOS"]);
      reads++;
      if (events[0] && Date.now() - started >= events[0].atMs) await events.shift()!.run();
      await sleep(50);
    }
    expect(events).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    expect(await openSocketCount(uid)).toBe(1);

    // Stop pinging: the same socket now times out.
    stop();
    expect(await socket.closedWithin(TIMEOUT_MS + OFFLINE_GRACE_MS)).toMatchObject({ code: 4003 });
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
  });

  it("counts any frame, not only ping, as a sign of life", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const timer = setInterval(() => socket.send('{"type":"hello"}'), 600);
    await sleep(TIMEOUT_MS * 3);
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
    expect(await silent.closedWithin(TIMEOUT_MS + OFFLINE_GRACE_MS)).toMatchObject({ code: 4003 });
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["Web"]);
    stop();
    live.close();
  });

  it("notices sockets that vanished without a close event (an eviction that drops them) at the next verify", async () => {
    const uid = freshUid();
    const oldToken = (await register(uid)).token;
    await connect(uid, oldToken, 1);
    const current = await connect(uid, await tokenFor(uid, 1), 1);
    const wipedAt = Date.now();
    await evictDurableObject(sessionStub(uid), { webSockets: "close" });
    await current.closedWithin(2_000);

    expect((await offlineAt(uid, TIMEOUT_MS + OFFLINE_GRACE_MS + 1_000)) - wipedAt).toBeLessThanOrEqual(
      TIMEOUT_MS + OFFLINE_GRACE_MS,
    );
    expect(await expectIndexAgreesWithSockets(uid)).toEqual([]);
    // The kick's invalidation survived the eviction.
    expect((await refusedConnect({ sendID: uid, token: oldToken, platformID: 1 })).body.errCode).toBe(702);
    const again = await connect(uid, await tokenFor(uid, 1), 1);
    expect(await expectIndexAgreesWithSockets(uid)).toEqual(["IOS"]);
    again.close();
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
      runInDurableObject(
        sessionStub(uid),
        (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM revoked_tokens").one().n,
      );
    expect(await revokedNow()).toBe(1);
    expect((await refusedConnect({ sendID: uid, token: shortLived.token, platformID: 1 })).body.errCode).toBe(702);

    // The verifies that keep running for the live session prune it after expiry.
    await sleep(shortLived.expiredTime * 1000 - Date.now());
    const deadline = Date.now() + 2 * TIMEOUT_MS + OFFLINE_GRACE_MS;
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

describe("the shard's verify loop", () => {
  it("moves a user whose shard changed (PRESENCE_SHARDS) to the right shard at its next verify", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const stop = keepAlive(socket);
    // A shard of another layout that still holds the user, due for a verify now.
    const oldShard = env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName("presence-0-of-99"));
    const report = await sessionStub(uid).verify("presence-0-of-99");
    expect(report).toMatchObject({ movedAway: true, platforms: [1] });
    await oldShard.publish(uid, { ...report, movedAway: false, heartbeatDeadlineMs: Date.now() - TIMEOUT_MS });
    expect(await oldShard.read([uid])).toEqual([{ uid, epoch: 0, seq: report.seq, platforms: [1] }]);

    expect(await runDurableObjectAlarm(oldShard)).toBe(true);
    expect(await oldShard.read([uid])).toEqual([]);
    const leftovers = await runInDurableObject(
      oldShard,
      (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM online_users").one().n,
    );
    expect(leftovers).toBe(0);
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
    stop();
    socket.close();
  });

  it("after a shard restart, reads keep a pinging user online and drop a user whose sockets are gone, on the schedule it resumed", async () => {
    const uid = freshUid();
    const gone = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const stop = keepAlive(socket);
    const goneConnectedAt = Date.now();
    await connect(gone, (await register(gone)).token, 1);
    await evictDurableObject(sessionStub(gone), { webSockets: "close" });
    await evictDurableObject(shardStub(uid));
    if (shardStub(gone).id.toString() !== shardStub(uid).id.toString()) await evictDurableObject(shardStub(gone));

    // The restarted shard resumes both from their rows: "gone" is verified at its own deadline,
    // which finds no socket, and reads offline within the heartbeat bound (docs/protocol.md#heartbeat) of its last frame (the connect).
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
    await expectPlatformsWithin(gone, [], goneConnectedAt + TIMEOUT_MS + OFFLINE_GRACE_MS - Date.now());
    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
    stop();
    socket.close();
  });
});
