// What presence says (docs/protocol.md#your-own-presence): background per socket, a custom status
// per user that expires by itself, and bad `set` frames. Through real sockets; this project runs
// three shards. Multi-session platforms: background.multi-login.test.ts; webhooks: test/events.
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WatchedUser } from "../../protocol";
import { FRAME_BUDGET } from "../../src/presence/frame-budget";
import { freshUid, onlineStatus, post, register, SECRET, sleep } from "../helpers";
import { shardStub } from "./helpers";
import { WatchingSocket } from "./subscription-helpers";

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function setCustomStatus(uid: string, customStatus: unknown) {
  return post("/user/set_custom_status", { secret: SECRET, uid, customStatus });
}

/** A user with one socket on each platform, each pinged, and a watcher subscribed to it. */
async function watchedOn(platforms: number[], prefix = "said") {
  const uid = freshUid(prefix);
  const [first, ...rest] = platforms;
  const sockets = [await WatchingSocket.open(uid, first)];
  for (const platform of rest) sockets.push(await WatchingSocket.reopen(uid, platform));
  for (const socket of sockets) await socket.settle();
  const watcher = await WatchingSocket.open();
  const [snapshot] = await watcher.subscribe([uid]);
  return { uid, sockets, watcher, snapshot: snapshot as WatchedUser };
}

describe("background", () => {
  it("marks a platform background in subscription entries and isBackground in the status route, and back", async () => {
    const { uid, sockets, watcher, snapshot } = await watchedOn([1, 5]);
    const [phone, web] = sockets as [WatchingSocket, WatchingSocket];
    expect(snapshot).not.toHaveProperty("background");

    phone.send({ type: "set", background: true });
    const hidden = await watcher.nextEntry(uid, (e) => "background" in e);
    expect(hidden).toEqual({
      userID: uid,
      status: "online",
      platforms: ["IOS", "Web"],
      background: ["IOS"],
      seq: snapshot.seq + 1,
    });
    expect((await onlineStatus([uid]))[0]).toEqual({
      userID: uid,
      status: "online",
      detailPlatformStatus: [
        { platform: "IOS", status: "online", isBackground: true },
        { platform: "Web", status: "online", isBackground: false },
      ],
    });

    // Saying it again is no change: nothing is sent.
    phone.send({ type: "set", background: true });
    await phone.settle();
    await sleep(300);
    await watcher.settle();
    expect(watcher.entriesFor(uid).at(-1)).toEqual(hidden);

    phone.send({ type: "set", background: false });
    const back = await watcher.nextEntry(uid, (e) => !("background" in e));
    expect(back).toEqual({ userID: uid, status: "online", platforms: ["IOS", "Web"], seq: hidden.seq + 1 });
    for (const s of [phone, web, watcher]) s.close();
  });

  it("leaves a platform that goes out of background: its going offline says it all", async () => {
    const { uid, sockets, watcher } = await watchedOn([1, 5]);
    const [phone, web] = sockets as [WatchingSocket, WatchingSocket];
    phone.send({ type: "set", background: true });
    const hidden = await watcher.nextEntry(uid, (e) => "background" in e);
    phone.close();
    const gone = await watcher.nextEntry(uid, (e) => e.status === "online" && e.platforms.length === 1);
    expect(gone).toEqual({ userID: uid, status: "online", platforms: ["Web"], seq: hidden.seq + 1 });
    // A new socket on the platform starts in the foreground.
    const again = await WatchingSocket.reopen(uid, 1);
    await again.settle();
    expect(await watcher.nextEntry(uid, (e) => e.status === "online" && e.platforms.length === 2)).toEqual({
      userID: uid,
      status: "online",
      platforms: ["IOS", "Web"],
      seq: gone.seq + 1,
    });
    for (const s of [again, web, watcher]) s.close();
  });
});

describe("custom status", () => {
  it("shows a status set on a socket to watchers and the status route, online and then offline, until cleared", async () => {
    const { uid, sockets, watcher, snapshot } = await watchedOn([5]);
    const [web] = sockets as [WatchingSocket];
    const customStatus = { text: "In a meeting 📅", expiresAt: nowSeconds() + 3_600 };
    web.send({ type: "set", customStatus });
    const set = await watcher.nextEntry(uid, (e) => "customStatus" in e);
    expect(set).toEqual({ userID: uid, status: "online", platforms: ["Web"], customStatus, seq: snapshot.seq + 1 });
    expect((await onlineStatus([uid]))[0]).toMatchObject({ status: "online", customStatus });

    web.close();
    const offline = await watcher.nextEntry(uid, (e) => e.status === "offline");
    expect(offline).toEqual({
      userID: uid,
      status: "offline",
      lastSeen: expect.any(Number),
      customStatus,
      seq: set.seq + 1,
    });
    expect((await onlineStatus([uid]))[0]).toEqual({
      userID: uid,
      status: "offline",
      lastSeen: (offline as { lastSeen: number }).lastSeen,
      customStatus,
    });
    const late = await WatchingSocket.open();
    expect(await late.subscribe([uid])).toEqual([offline]);

    // The AppServer clears it while the user is away.
    expect((await setCustomStatus(uid, null)).body).toEqual({ errCode: 0, errMsg: "" });
    const cleared = await watcher.nextEntry(uid, (e) => !("customStatus" in e));
    expect(cleared).toEqual({
      userID: uid,
      status: "offline",
      lastSeen: offline.status === "offline" && offline.lastSeen,
      seq: offline.seq + 1,
    });
    expect((await onlineStatus([uid]))[0]).not.toHaveProperty("customStatus");
    watcher.close();
    late.close();
  });

  it("is the user's across platforms: the latest set wins, from a socket or the AppServer", async () => {
    const { uid, sockets, watcher } = await watchedOn([1, 5]);
    const [phone, web] = sockets as [WatchingSocket, WatchingSocket];
    phone.send({ type: "set", customStatus: { text: "Driving" } });
    await watcher.nextEntry(uid, (e) => e.customStatus?.text === "Driving");
    web.send({ type: "set", customStatus: { text: "At my desk" } });
    await watcher.nextEntry(uid, (e) => e.customStatus?.text === "At my desk");
    expect(await setCustomStatus(uid, { text: "On holiday" })).toMatchObject({ status: 200 });
    const last = await watcher.nextEntry(uid, (e) => e.customStatus?.text === "On holiday");
    expect(last).toMatchObject({ status: "online", platforms: ["IOS", "Web"], customStatus: { text: "On holiday" } });
    expect(last.customStatus).not.toHaveProperty("expiresAt");
    for (const s of [phone, web, watcher]) s.close();
  });

  it("is set by the AppServer for a user never online, and the answer names what is wrong", async () => {
    const uid = freshUid("never");
    await register(uid);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([uid]);
    expect(await setCustomStatus(uid, { text: "Back Monday" })).toMatchObject({ status: 200 });
    expect(await watcher.nextEntry(uid, (e) => "customStatus" in e)).toEqual({
      userID: uid,
      status: "offline",
      customStatus: { text: "Back Monday" },
      seq: 1,
    });
    expect((await onlineStatus([uid]))[0]).toEqual({
      userID: uid,
      status: "offline",
      customStatus: { text: "Back Monday" },
    });

    const unknown = await setCustomStatus(freshUid("nobody"), { text: "hi" });
    expect(unknown).toMatchObject({ status: 404, body: { errCode: 602 } });
    const bad: [unknown, RegExp][] = [
      [undefined, /customStatus: is required/],
      [{ text: "" }, /customStatus\.text: must not be empty/],
      [{ text: "x".repeat(129) }, /customStatus\.text: at most 128 characters/],
      [{ text: "two\nlines" }, /customStatus\.text: must not contain control characters/],
      [{ text: "late", expiresAt: nowSeconds() - 1 }, /customStatus\.expiresAt: must be in the future/],
      [
        { text: "long", expiresAt: nowSeconds() + 31 * 86_400 },
        /customStatus\.expiresAt: must be at most 30 days ahead/,
      ],
      [{ text: "half", expiresAt: nowSeconds() + 60.5 }, /customStatus\.expiresAt: must be an integer/],
      ["busy", /customStatus: must be an object with text/],
    ];
    for (const [customStatus, message] of bad) {
      const answer = await setCustomStatus(uid, customStatus);
      expect(answer.status, JSON.stringify(customStatus)).toBe(400);
      expect(answer.body.errCode).toBe(400);
      expect(answer.body.errMsg).toMatch(message);
    }
    expect((await onlineStatus([uid]))[0]?.customStatus).toEqual({ text: "Back Monday" });
    await watcher.settle();
    expect(watcher.entriesFor(uid)).toHaveLength(2);
    watcher.close();
  });
});

describe("a custom status's expiry", () => {
  it("reaches watchers within 2 s with no traffic at all, online; the status route stops showing it at once", async () => {
    const { uid, sockets, watcher, snapshot } = await watchedOn([5], "expiring");
    const [web] = sockets as [WatchingSocket];
    const expiresAt = nowSeconds() + 2;
    web.send({ type: "set", customStatus: { text: "Brb", expiresAt } });
    const set = await watcher.nextEntry(uid, (e) => "customStatus" in e);
    expect(set.seq).toBe(snapshot.seq + 1);
    // Nothing is sent from here on: not even a ping (the heartbeat timeout is far off in this project).
    const expired = await watcher.nextEntry(uid, (e) => !("customStatus" in e), 6_000);
    const arrivedAt = Date.now();
    expect(arrivedAt).toBeGreaterThanOrEqual(expiresAt * 1000);
    expect(arrivedAt).toBeLessThanOrEqual(expiresAt * 1000 + 2_000);
    expect(expired).toEqual({ userID: uid, status: "online", platforms: ["Web"], seq: set.seq + 1 });
    expect((await onlineStatus([uid]))[0]).not.toHaveProperty("customStatus");
    web.close();
    watcher.close();
  });

  it("comes for an offline user too, after its shard was evicted from memory", async () => {
    const uid = freshUid("expiring");
    await register(uid);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([uid]);
    const expiresAt = nowSeconds() + 3;
    await setCustomStatus(uid, { text: "Out for lunch", expiresAt });
    await watcher.nextEntry(uid, (e) => "customStatus" in e);
    // The shard forgets everything in memory; it finds the expiry again in its tables when it wakes.
    await evictDurableObject(shardStub(uid));
    expect((await onlineStatus([uid]))[0]).toMatchObject({ customStatus: { text: "Out for lunch", expiresAt } });
    const expired = await watcher.nextEntry(uid, (e) => !("customStatus" in e), 7_000);
    expect(Date.now()).toBeLessThanOrEqual(expiresAt * 1000 + 2_000);
    expect(expired).toEqual({ userID: uid, status: "offline", seq: 2 });
    expect((await onlineStatus([uid]))[0]).toEqual({ userID: uid, status: "offline" });
    watcher.close();
  });

  it("a status set again with a later expiry outlives the first one's deadline", async () => {
    const { uid, sockets, watcher } = await watchedOn([5], "expiring");
    const [web] = sockets as [WatchingSocket];
    const first = nowSeconds() + 2;
    web.send({ type: "set", customStatus: { text: "Brb", expiresAt: first } });
    await watcher.nextEntry(uid, (e) => e.customStatus?.text === "Brb");
    web.send({ type: "set", customStatus: { text: "Brb, longer", expiresAt: first + 3_600 } });
    await watcher.nextEntry(uid, (e) => e.customStatus?.text === "Brb, longer");
    await sleep(first * 1000 + 1_500 - Date.now());
    await watcher.settle();
    expect(watcher.entriesFor(uid).at(-1)?.customStatus?.text).toBe("Brb, longer");
    expect((await onlineStatus([uid]))[0]?.customStatus?.text).toBe("Brb, longer");
    web.close();
    watcher.close();
  });
});

describe("what an invisible user's watchers see", () => {
  it("nothing of background or custom status; the status route shows both, marked invisible", async () => {
    const { uid, sockets, watcher } = await watchedOn([1], "shy");
    const [phone] = sockets as [WatchingSocket];
    phone.send({ type: "set", invisible: true, background: true, customStatus: { text: "Hidden" } });
    const hidden = await watcher.nextEntry(uid, (e) => e.status === "offline");
    expect(hidden).toEqual({ userID: uid, status: "offline", lastSeen: expect.any(Number), seq: expect.any(Number) });
    expect((await onlineStatus([uid]))[0]).toEqual({
      userID: uid,
      status: "online",
      detailPlatformStatus: [{ platform: "IOS", status: "online", isBackground: true }],
      customStatus: { text: "Hidden" },
      invisible: true,
    });
    // Changes while invisible reach no watcher.
    phone.send({ type: "set", background: false, customStatus: { text: "Still hidden" } });
    await phone.settle();
    await sleep(300);
    await watcher.settle();
    expect(watcher.entriesFor(uid).at(-1)).toEqual(hidden);
    const late = await WatchingSocket.open();
    expect(await late.subscribe([uid])).toEqual([hidden]);

    phone.send({ type: "set", invisible: false });
    expect(await watcher.nextEntry(uid, (e) => e.status === "online")).toMatchObject({
      status: "online",
      platforms: ["IOS"],
      customStatus: { text: "Still hidden" },
    });
    for (const s of [phone, watcher, late]) s.close();
  });
});

describe("bad set frames", () => {
  it("get an error frame (400) and change nothing, however many fields were good", async () => {
    const { uid, sockets, watcher, snapshot } = await watchedOn([5], "badset");
    const [web] = sockets as [WatchingSocket];
    const bad: [unknown, RegExp][] = [
      [{ type: "set" }, /name what to set/],
      [{ type: "set", background: "yes" }, /background: must be true or false/],
      [{ type: "set", background: true, customStatus: { text: "" } }, /customStatus\.text: must not be empty/],
      [{ type: "set", customStatus: { text: "a\u0007b" } }, /control characters/],
      [{ type: "set", customStatus: { text: "ok", expiresAt: nowSeconds() - 10 } }, /must be in the future/],
      [{ type: "set", customStatus: { text: "ok", expiresAt: nowSeconds() + 40 * 86_400 } }, /at most 30 days/],
      [{ type: "set", invisible: true, customStatus: "busy" }, /customStatus: must be an object/],
    ];
    for (const [frame, message] of bad) {
      web.send(frame);
      const error = await web.nextFrame((f) => f.type === "error");
      expect(error, JSON.stringify(frame)).toMatchObject({
        type: "error",
        errCode: 400,
        errMsg: expect.stringMatching(message),
      });
    }
    await sleep(300);
    await watcher.settle();
    expect(watcher.entriesFor(uid)).toEqual([snapshot]);
    expect((await onlineStatus([uid]))[0]).toEqual({
      userID: uid,
      status: "online",
      detailPlatformStatus: [{ platform: "Web", status: "online", isBackground: false }],
    });
    web.close();
    watcher.close();
  });

  it("count against the frame budget like any other frame: a socket flipping too fast is closed with 1008", async () => {
    const uid = freshUid("flipper");
    const socket = await WatchingSocket.open(uid, 1);
    for (let i = 0; i <= FRAME_BUDGET.frames; i++) socket.send({ type: "set", background: i % 2 === 0 });
    expect(await socket.socket.closedWithin(2_000)).toMatchObject({ code: 1008 });
  });
});
