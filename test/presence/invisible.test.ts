// Invisible (docs/protocol.md#your-own-presence): watchers see the user as if it went offline at
// that moment; the AppServer sees the truth. Through real sockets; this project runs three shards.
import { describe, expect, it } from "vitest";
import { connect, freshUid, onlineStatus, sleep, tokenFor } from "../helpers";
import { WatchingSocket } from "./subscription-helpers";

describe("invisible", () => {
  it("shows watchers an offline entry with lastSeen then, and no deltas; the status route keeps the truth, marked invisible", async () => {
    const uid = freshUid("shy");
    const phone = await WatchingSocket.open(uid, 1);
    const web = await WatchingSocket.reopen(uid, 5);
    for (const s of [phone, web]) s.send("ping");
    const watcher = await WatchingSocket.open();
    const [before] = await watcher.subscribe([uid]);
    expect(before).toMatchObject({ status: "online", platforms: ["IOS", "Web"], seq: 2 });

    const setAt = Date.now();
    phone.send({ type: "set", invisible: true });
    const hidden = await watcher.nextEntry(uid, (e) => e.status === "offline", 2_000);
    expect(hidden).toEqual({ userID: uid, status: "offline", lastSeen: expect.any(Number), seq: 3 });
    const lastSeen = (hidden as { lastSeen: number }).lastSeen;
    expect(lastSeen).toBeGreaterThanOrEqual(setAt - 50);
    expect(lastSeen).toBeLessThan(setAt + 1_000);

    // Across platforms: another device connects, and watchers hear nothing of it.
    const tablet = await connect(uid, await tokenFor(uid, 2), 2);
    tablet.send("ping");
    await sleep(500);
    await watcher.settle();
    expect(watcher.entriesFor(uid).at(-1)).toEqual(hidden);
    expect(await onlineStatus([uid])).toEqual([
      {
        userID: uid,
        status: "online",
        detailPlatformStatus: ["IOS", "Android", "Web"].map((platform) => ({
          platform,
          status: "online",
          isBackground: false,
        })),
        invisible: true,
      },
    ]);
    // A new watcher's snapshot says the same as the old watcher's entry.
    const late = await WatchingSocket.open();
    expect(await late.subscribe([uid])).toEqual([hidden]);

    web.send({ type: "set", invisible: false });
    expect(await watcher.nextEntry(uid, (e) => e.status === "online", 2_000)).toMatchObject({
      status: "online",
      platforms: ["IOS", "Android", "Web"],
    });
    expect(watcher.entriesFor(uid).at(-1)!.seq).toBeGreaterThan(hidden.seq);
    expect((await onlineStatus([uid]))[0]).not.toHaveProperty("invisible");
    for (const s of [phone, web, watcher, late]) s.close();
    tablet.close();
  });

  it("holds across reconnects: a user who closed every socket and comes back is still invisible", async () => {
    const uid = freshUid("shy");
    const first = await WatchingSocket.open(uid, 5);
    first.send("ping");
    first.send({ type: "set", invisible: true });
    await first.settle();
    await sleep(100);
    first.close();
    await first.socket.closed;
    const watcher = await WatchingSocket.open();
    const [whileAway] = await watcher.subscribe([uid]);
    expect(whileAway).toMatchObject({ status: "offline", lastSeen: expect.any(Number) });

    const again = await connect(uid, await tokenFor(uid, 5), 5);
    again.send("ping");
    await sleep(500);
    await watcher.settle();
    expect(watcher.entriesFor(uid)).toEqual([whileAway]);
    expect((await onlineStatus([uid]))[0]).toMatchObject({ status: "online", invisible: true });
    watcher.close();
    again.close();
  });

  it("going invisible while offline keeps the real lastSeen; setting what is already set changes nothing", async () => {
    const uid = freshUid("shy");
    const socket = await WatchingSocket.open(uid, 5);
    socket.send("ping");
    socket.send({ type: "set", invisible: true });
    socket.send({ type: "set", invisible: true });
    await socket.settle();
    await sleep(200);
    const watcher = await WatchingSocket.open();
    const [entry] = await watcher.subscribe([uid]);
    // One change (seq 2 after the connect's 1), not two.
    expect(entry).toMatchObject({ status: "offline", seq: 2 });
    socket.close();
    watcher.close();
  });

  it("answers a bad set frame with an error frame (400) and changes nothing", async () => {
    const uid = freshUid("shy");
    const socket = await WatchingSocket.open(uid, 5);
    for (const [frame, errMsg] of [
      [{ type: "set" }, /name what to set/],
      [{ type: "set", invisible: "yes" }, /invisible: must be true or false/],
      [{ type: "set", invisible: null }, /invisible/],
      [{ type: "sett", invisible: true }, /type: must be subscribe, unsubscribe or set/],
    ] as const) {
      socket.send(frame);
      expect(await socket.nextFrame()).toMatchObject({
        type: "error",
        errCode: 400,
        errMsg: expect.stringMatching(errMsg),
      });
    }
    expect((await onlineStatus([uid]))[0]).not.toHaveProperty("invisible");
    socket.close();
  });
});
