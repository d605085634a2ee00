// Operational metrics (docs/operations.md): one Analytics Engine data point per connect, close,
// shard alarm's verifies, status read; written through the real worker and objects, with the
// METRICS binding stubbed by a recorder (test/metrics/worker.ts), on the metered worker.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connect, freshUid, post, refusedConnect, register, SECRET, sleep, tokenFor } from "../helpers";
import { keepAlive } from "../presence/helpers";

interface Point {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

async function points(kind?: string): Promise<Point[]> {
  const all: Point[] = await (await SELF.fetch("http://im.test/__metrics")).json();
  return kind === undefined ? all : all.filter((p) => p.indexes[0] === kind);
}

async function reset(): Promise<void> {
  await SELF.fetch("http://im.test/__metrics/reset", { method: "POST" });
  await SELF.fetch("http://im.test/__meter/reset", { method: "POST" });
}

/** Billed Durable Object operations so far (the meter's counts without its unbilled ones). */
async function billed(): Promise<Record<string, number>> {
  const counts: Record<string, number> = await (await SELF.fetch("http://im.test/__meter")).json();
  return Object.fromEntries(
    Object.entries(counts).filter(
      ([key]) => !key.endsWith(".bytesWritten") && !key.endsWith(".started") && key !== "PresenceShard.request.read",
    ),
  );
}

describe("operational metrics", () => {
  it("writes one connect point per handshake, with its outcome, platform and latency", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    await reset();
    const socket = await connect(uid, token, 1);
    await refusedConnect({ sendID: uid, token: "not.a.token", platformID: 1 });
    await refusedConnect({ sendID: uid, token, platformID: 2 }); // the token is for IOS
    const connects = await points("connect");
    expect(connects.map((p) => p.blobs.slice(0, 3))).toEqual([
      ["connect", "ok", "IOS"],
      ["connect", "703", "IOS"],
      ["connect", "705", "Android"],
    ]);
    for (const p of connects) expect(p.doubles[0]).toBeGreaterThanOrEqual(0);
    socket.close();
  });

  it("writes one close point per session, with why it ended and how long it lasted, whoever closed first", async () => {
    const uid = freshUid();
    await register(uid);
    const byClient = await connect(uid, await tokenFor(uid, 1), 1);
    const byServer = await connect(uid, await tokenFor(uid, 5), 5);
    byClient.send("ping");
    byServer.send("ping");
    await sleep(50);
    await reset();
    byClient.close();
    await byClient.closed;
    expect((await post("/auth/force_logout", { secret: SECRET, uid, platform: 5 })).body.errCode).toBe(0);
    await byServer.closed;
    await sleep(200);
    const closes = await points("close");
    expect(closes.map((p) => p.blobs.slice(0, 3)).sort()).toEqual([
      ["close", "close", "IOS"],
      ["close", "logged_out", "Web"],
    ]);
    for (const p of closes) expect(p.doubles[0]).toBeGreaterThanOrEqual(50);
  });

  it("writes one status_read point per query, with the ids asked and how many were online", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    socket.send("ping");
    await reset();
    const answer = await post("/user/get_users_online_status", { secret: SECRET, userIDList: [uid, "nobody", uid] });
    expect(answer.status).toBe(200);
    const reads = await points("status_read");
    expect(reads).toHaveLength(1);
    expect(reads[0]?.blobs.slice(0, 2)).toEqual(["status_read", "ok"]);
    expect(reads[0]?.doubles.slice(1, 3)).toEqual([3, 2]);
    socket.close();
  });

  it("writes one verify_batch point per shard alarm, not one per verify: verifies, failures, lag, online users", async () => {
    const uids = [freshUid("v"), freshUid("v")];
    const sockets = [];
    for (const uid of uids) sockets.push(await connect(uid, (await register(uid)).token, 1));
    const stops = sockets.map((s) => keepAlive(s, 250));
    await reset();
    await sleep(2_000 + 1_500); // past one heartbeat timeout: each user is verified once
    const batches = await points("verify_batch");
    expect(batches.length).toBeGreaterThanOrEqual(1);
    const verifies = batches.reduce((sum, p) => sum + (p.doubles[1] ?? 0), 0);
    const counted = (await billed())["UserSession.request.verify"] ?? 0;
    expect(verifies).toBe(counted);
    expect(batches.length).toBeLessThanOrEqual(counted);
    for (const p of batches) {
      expect(p.blobs[1]).toBe("ok");
      expect(p.doubles[2]).toBe(0); // no failures
      expect(p.doubles[4]).toBeGreaterThanOrEqual(2); // online users in that shard
    }
    for (const stop of stops) stop();
    for (const s of sockets) s.close();
  });

  it("adds no billed Durable Object operation: a connect and a clean close cost what they cost without metrics", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    const connectAndClose = async () => {
      const socket = await connect(uid, token, 1);
      socket.send("ping");
      await socket.message(0);
      socket.close();
      await socket.closed;
      await sleep(2_000 + 1_500); // the verify scheduled at connect fires once and finds nobody
    };
    await connectAndClose(); // the first pair also creates the objects' tables
    await reset();
    await connectAndClose();
    expect((await points()).map((p) => p.indexes[0]).sort()).toEqual(["close", "connect"]);
    // The same counts test/presence/cost.cost.test.ts expects from the worker without a METRICS binding.
    expect(await billed()).toEqual({
      "UserSession.request.fetch": 1,
      "UserSession.request.webSocketClose": 1,
      "UserSession.rowsWritten": 2,
      "PresenceShard.request.publish": 2,
      "PresenceShard.request.alarm": 1,
      "PresenceShard.rowsWritten": 4,
      "PresenceShard.setAlarm": 1,
    });
  });
});
