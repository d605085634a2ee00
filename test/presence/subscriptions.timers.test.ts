// Subscriptions and heartbeat timeouts (HEARTBEAT_TIMEOUT=2s in this project).
import { describe, expect, it } from "vitest";
import { freshUid, sleep } from "../helpers";
import { keepAlive } from "./helpers";
import { online, shardWatchers, storedSubscriptions, WatchingSocket } from "./subscription-helpers";

const TIMEOUT_MS = 2_000;

describe("presence subscriptions and heartbeat timeouts", () => {
  it("a watched user who stops pinging reads offline to the watcher within the timeout and 2 s, with lastSeen at the last sign of life", async () => {
    const watched = freshUid("silent");
    const silent = await online(watched, 1);
    const watcher = await WatchingSocket.open();
    const stop = keepAlive(watcher.socket);
    expect(await watcher.subscribe([watched])).toMatchObject([{ status: "online", platforms: ["IOS"] }]);
    const lastSign = Date.now();

    const offline = await watcher.nextEntry(watched, (e) => e.status === "offline", TIMEOUT_MS + 2_000 + 1_000);
    const arrivedAfter = Date.now() - lastSign;
    expect(arrivedAfter).toBeLessThanOrEqual(TIMEOUT_MS + 2_000 + 500);
    expect(offline).toMatchObject({ status: "offline", seq: 2 });
    if (offline.status === "offline") expect(Math.abs(offline.lastSeen! - (lastSign + TIMEOUT_MS))).toBeLessThan(1_000);
    expect((await silent.closedWithin(1_000)).code).toBe(4003);
    stop();
    watcher.close();
  });

  it("a subscriber that goes silent loses its socket and with it every subscription, on its object and at the shards", async () => {
    const watched = [freshUid("w"), freshUid("w"), freshUid("w"), freshUid("w")];
    const watcher = await WatchingSocket.open();
    await watcher.subscribe(watched);
    await watcher.settle();
    expect((await storedSubscriptions(watcher.uid))[0]).toEqual([...watched].sort());
    for (const uid of watched) expect(await shardWatchers(uid)).toHaveProperty(watcher.uid);

    expect((await watcher.socket.closedWithin(TIMEOUT_MS + 3_000)).code).toBe(4003);
    await sleep(200);
    expect(await storedSubscriptions(watcher.uid)).toEqual([]);
    for (const uid of watched) expect(await shardWatchers(uid)).not.toHaveProperty(watcher.uid);
  });
});
