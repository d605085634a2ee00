// Runs with MULTI_LOGIN_POLICY=max_per_platform:2 (see vitest.config.ts): two sessions on one platform.
// A platform is in the background when every live session on it is (docs/protocol.md#your-own-presence).
import { describe, expect, it } from "vitest";
import { freshUid, onlineStatus, sleep } from "../helpers";
import { WatchingSocket } from "./subscription-helpers";

async function isBackground(uid: string): Promise<boolean | undefined> {
  const [entry] = await onlineStatus([uid]);
  return entry?.detailPlatformStatus?.find((p) => p.platform === "Android")?.isBackground;
}

describe("background on a platform with two sessions", () => {
  it("is the platform's only once both are, and ends when one comes back or a foreground one joins", async () => {
    const uid = freshUid("tablet");
    const a = await WatchingSocket.open(uid, 2);
    const b = await WatchingSocket.reopen(uid, 2);
    for (const s of [a, b]) await s.settle();
    const watcher = await WatchingSocket.open();
    const [snapshot] = await watcher.subscribe([uid]);

    a.send({ type: "set", background: true });
    await a.settle();
    await sleep(300);
    await watcher.settle();
    expect(watcher.entriesFor(uid)).toEqual([snapshot]);
    expect(await isBackground(uid)).toBe(false);

    b.send({ type: "set", background: true });
    const both = await watcher.nextEntry(uid, (e) => "background" in e);
    expect(both).toMatchObject({ status: "online", platforms: ["Android"], background: ["Android"] });
    expect(await isBackground(uid)).toBe(true);

    // One comes back to the foreground: the platform is in the foreground again.
    b.send({ type: "set", background: false });
    const back = await watcher.nextEntry(uid, (e) => !("background" in e));
    expect(back.seq).toBe(both.seq + 1);
    expect(await isBackground(uid)).toBe(false);

    // The foreground one closes: the one left is in the background, so the platform is.
    b.send({ type: "set", background: true });
    await watcher.nextEntry(uid, (e) => "background" in e);
    b.send({ type: "set", background: false });
    await watcher.nextEntry(uid, (e) => !("background" in e));
    b.close();
    expect(await watcher.nextEntry(uid, (e) => "background" in e)).toMatchObject({
      platforms: ["Android"],
      background: ["Android"],
    });
    expect(await isBackground(uid)).toBe(true);

    // A new session starts in the foreground, and so does the platform.
    const c = await WatchingSocket.reopen(uid, 2);
    await c.settle();
    expect(await watcher.nextEntry(uid, (e) => !("background" in e))).toMatchObject({ platforms: ["Android"] });
    expect(await isBackground(uid)).toBe(false);
    for (const s of [a, c, watcher]) s.close();
  });
});
