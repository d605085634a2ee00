// Runs the metered worker (bench/metering) with HEARTBEAT_TIMEOUT=2s: every billable
// Durable Object operation is counted, so "cost by change" (docs/presence.md#what-it-costs) is checked exactly.
import { evictDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyTiming } from "../../src/presence/verification";
import { connect, expectPlatformsWithin, freshUid, onlinePlatforms, register, sleep } from "../helpers";
import { keepAlive, sessionStub, shardStub } from "./helpers";
import { WatchingSocket } from "./subscription-helpers";

const TIMEOUT_MS = 2_000;
const PING_EVERY_MS = 250;

type Counts = Record<string, number>;

/** The billed counts (and object starts); bytes written are a measure of work, not billed. */
async function meter(): Promise<Counts> {
  const counts: Counts = await (await SELF.fetch("http://im.test/__meter")).json();
  return Object.fromEntries(Object.entries(counts).filter(([key]) => !key.endsWith(".bytesWritten")));
}

async function resetMeter(): Promise<void> {
  await SELF.fetch("http://im.test/__meter/reset", { method: "POST" });
}

describe("cost of presence (docs/presence.md#what-it-costs)", () => {
  // First in the file: the shard then holds only this user, so any verify counted is this user's.
  it("a shard woken after an eviction resumes its users from their rows: the read that woke it is answered at once, with no verify, setAlarm or row", async () => {
    const uid = freshUid();
    const connectedAt = Date.now();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const stop = keepAlive(socket, PING_EVERY_MS);
    await sleep(200);
    await evictDurableObject(shardStub(uid));
    await resetMeter();

    expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
    // Until the user's own verify window opens (its deadline, a timeout after the connect), the woken
    // shard asks nobody: a catch-up verify would have come a moment after the wake.
    const { opensAfterMs } = verifyTiming(TIMEOUT_MS);
    await sleep(connectedAt + TIMEOUT_MS - Date.now());
    const woken = await meter();
    expect(woken["PresenceShard.started"]).toBe(1);
    expect(woken["UserSession.request.verify"] ?? 0).toBe(0);
    expect(woken["PresenceShard.setAlarm"] ?? 0).toBe(0);
    expect(woken["PresenceShard.rowsWritten"] ?? 0).toBe(0);

    // ...and then keeps the schedule it resumed: verified each timeout, never read offline.
    const until = Date.now() + 2 * TIMEOUT_MS + opensAfterMs;
    while (Date.now() < until) {
      expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
      await sleep(100);
    }
    expect((await meter())["UserSession.request.verify"]).toBeGreaterThanOrEqual(2);
    stop();
    socket.close();
    await expectPlatformsWithin(uid, [], 1_000);
  });

  it("an always-online user costs one verify per heartbeat deadline and nothing else: no user alarm, no row of its own, across hibernation", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    const stop = keepAlive(socket, PING_EVERY_MS);
    await sleep(500);
    await resetMeter();

    const windowMs = 6 * TIMEOUT_MS;
    const started = Date.now();
    let hibernated = false;
    while (Date.now() - started < windowMs) {
      expect(await onlinePlatforms(uid)).toEqual(["IOS"]);
      await sleep(200);
      // Waking from hibernation (the constructor runs again) writes nothing either.
      if (!hibernated && Date.now() - started > windowMs / 2) {
        await evictDurableObject(sessionStub(uid), { webSockets: "hibernate" });
        hibernated = true;
      }
    }
    const counts = await meter();
    stop();
    socket.close();

    // The user's object: woken only by its shard's verify.
    expect(counts["UserSession.request.alarm"] ?? 0).toBe(0);
    expect(counts["UserSession.setAlarm"] ?? 0).toBe(0);
    expect(counts["UserSession.rowsWritten"] ?? 0).toBe(0);
    // Nothing changed, so nothing was published. The shard's rows are its own clock, not the user's:
    // a setAlarm per alarm, and a snapshot of its schedule when it goes idle between alarms.
    expect(counts["PresenceShard.request.publish"] ?? 0).toBe(0);
    const shardAlarms = counts["PresenceShard.request.alarm"] ?? 0;
    expect(counts["PresenceShard.rowsWritten"] ?? 0).toBeLessThanOrEqual(2 * shardAlarms + 1);

    // One verify per timeout: the window opens just after the ping that falls on the deadline.
    const { closesAfterMs } = verifyTiming(TIMEOUT_MS);
    const verifies = counts["UserSession.request.verify"] ?? 0;
    expect(verifies).toBeGreaterThanOrEqual(Math.floor(windowMs / (TIMEOUT_MS + closesAfterMs)) - 1);
    expect(verifies).toBeLessThanOrEqual(Math.ceil(windowMs / TIMEOUT_MS) + 1);
    // The shard's clock: one alarm per verify round, each re-armed once (a row each).
    expect(counts["PresenceShard.request.alarm"] ?? 0).toBeLessThanOrEqual(verifies + 1);
    expect(counts["PresenceShard.setAlarm"] ?? 0).toBeLessThanOrEqual(verifies + 1);
  });

  it("costs nothing at all once nobody is online", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    socket.send("ping");
    await socket.message(0);
    socket.close();
    await expectPlatformsWithin(uid, [], 1_000);
    // A verify already scheduled for this user may still fire once and find nothing to do.
    await sleep(TIMEOUT_MS + verifyTiming(TIMEOUT_MS).closesAfterMs + 500);
    await resetMeter();
    await sleep(3 * TIMEOUT_MS);
    expect(await meter()).toEqual({});
  });

  it("a connect followed by a clean close costs 5 requests and 6 rows, once the user's objects exist", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    const connectAndClose = async () => {
      const socket = await connect(uid, token, 1);
      socket.send("ping");
      await socket.message(0);
      socket.close();
      await expectPlatformsWithin(uid, [], 1_000);
      // The verify scheduled at connect still fires once, finds the user gone and sets no alarm.
      await sleep(TIMEOUT_MS + verifyTiming(TIMEOUT_MS).closesAfterMs + 500);
    };
    await connectAndClose(); // the first pair also creates the objects' tables
    await resetMeter();
    await connectAndClose();
    const counts = await meter();
    const { "PresenceShard.request.read": _statusReadsByTheTest, ...billed } = counts;
    expect(billed).toEqual({
      // handshake, close event
      "UserSession.request.fetch": 1,
      "UserSession.request.webSocketClose": 1,
      // the stored state, online then offline
      "UserSession.rowsWritten": 2,
      // online, offline; then the leftover alarm
      "PresenceShard.request.publish": 2,
      "PresenceShard.request.alarm": 1,
      // online row; online row deleted and lastSeen row written; one setAlarm
      "PresenceShard.rowsWritten": 4,
      "PresenceShard.setAlarm": 1,
    });
  });

  it("a subscription adds nothing while nothing changes: no delivery, no row, no alarm of its own (docs/protocol.md#presence-subscriptions)", async () => {
    const [onlineUser, offlineUser] = [freshUid("on"), freshUid("off")];
    const onlineSocket = await connect(onlineUser, (await register(onlineUser)).token, 1);
    await register(offlineUser);
    const watcher = await WatchingSocket.open();
    const stops = [keepAlive(onlineSocket, PING_EVERY_MS), keepAlive(watcher.socket, PING_EVERY_MS)];
    await watcher.subscribe([onlineUser, offlineUser]);
    await sleep(500);
    await resetMeter();

    const windowMs = 6 * TIMEOUT_MS;
    await sleep(windowMs / 2);
    await evictDurableObject(sessionStub(watcher.uid), { webSockets: "hibernate" });
    await sleep(windowMs / 2);
    const counts = await meter();
    for (const stop of stops) stop();

    expect(counts["UserSession.request.deliverPresence"] ?? 0).toBe(0);
    expect(counts["UserSession.request.webSocketMessage"] ?? 0).toBe(0);
    expect(counts["UserSession.request.alarm"] ?? 0).toBe(0);
    expect(counts["UserSession.rowsWritten"] ?? 0).toBe(0);
    expect(counts["PresenceShard.request.watch"] ?? 0).toBe(0);
    expect(counts["PresenceShard.request.publish"] ?? 0).toBe(0);
    // The two online users' verifies, and the shard's own clock for them, as without subscriptions.
    const verifies = counts["UserSession.request.verify"] ?? 0;
    expect(verifies).toBeLessThanOrEqual(2 * (Math.ceil(windowMs / TIMEOUT_MS) + 1));
    expect(counts["PresenceShard.rowsWritten"] ?? 0).toBeLessThanOrEqual(
      2 * (counts["PresenceShard.request.alarm"] ?? 0) + 1,
    );
    expect(watcher.entriesFor(onlineUser)).toHaveLength(1);
    watcher.close();
    onlineSocket.close();
  });

  it("one change watched by 3 users costs one delivery call per watcher and no row, alarm or socket message on their side", async () => {
    const watched = freshUid("watched");
    const { token } = await register(watched);
    const watchers = await Promise.all([1, 2, 3].map(() => WatchingSocket.open()));
    const stops = watchers.map((w) => keepAlive(w.socket, PING_EVERY_MS));
    for (const w of watchers) await w.subscribe([watched]);
    // A first session creates the watched user's object and its tables.
    const first = await connect(watched, token, 1);
    first.close();
    for (const w of watchers)
      expect(await w.nextEntry(watched, (e) => e.seq === 2)).toMatchObject({ status: "offline" });
    await sleep(300);
    await resetMeter();

    const socket = await connect(watched, token, 1);
    for (const w of watchers) expect(await w.nextEntry(watched)).toMatchObject({ status: "online", seq: 3 });
    const counts = await meter();
    for (const stop of stops) stop();

    expect(counts["UserSession.request.fetch"]).toBe(1);
    expect(counts["PresenceShard.request.publish"]).toBe(1);
    expect(counts["UserSession.request.deliverPresence"]).toBe(3);
    // The watched user's stored state; the watchers' objects write nothing to pass a change on.
    expect(counts["UserSession.rowsWritten"]).toBe(1);
    expect(counts["UserSession.request.alarm"] ?? 0).toBe(0);
    expect(counts["UserSession.request.webSocketMessage"] ?? 0).toBe(0);
    // Delivered by the publish itself: no alarm was needed for it.
    expect(counts["PresenceShard.request.alarm"] ?? 0).toBe(0);
    for (const w of watchers) w.close();
    socket.close();
  });
});
