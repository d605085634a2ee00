// Presence subscriptions over the client's own socket (docs/protocol.md#presence-subscriptions), through real sockets.
// This project runs three presence shards, so watched users spread over several.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_IDS_PER_FRAME, MAX_WATCHED_PER_SOCKET, type WatchedUser } from "../../protocol";
import { connect, freshUid, onlineStatus, post, register, SECRET, sleep, tokenFor } from "../helpers";
import { sessionStub, shardStub } from "./helpers";
import { expectSeqsGrow, online, shardWatchers, storedSubscriptions, WatchingSocket } from "./subscription-helpers";

const ids = (n: number, prefix = freshUid("many")) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("presence subscriptions: the snapshot", () => {
  it("answers a subscribe with every id it named, in its order: online with platforms, offline with lastSeen, never seen", async () => {
    const [both, gone, never] = [freshUid("both"), freshUid("gone"), freshUid("never")];
    await online(both, 1);
    await online(both, 5);
    const leaving = await online(gone, 2);
    leaving.close();
    await leaving.closed;

    const watcher = await WatchingSocket.open();
    let snapshot: WatchedUser[] = [];
    // The status route and the snapshot read the same shard; wait until the close has landed there.
    for (let tries = 0; tries < 40 && (await onlineStatus([gone]))[0]?.status !== "offline"; tries++) await sleep(25);
    snapshot = await watcher.subscribe([never, both, gone]);

    const [status] = await onlineStatus([gone]);
    expect(snapshot).toEqual([
      { userID: never, status: "offline", seq: 0 },
      { userID: both, status: "online", platforms: ["IOS", "Web"], seq: expect.any(Number) },
      { userID: gone, status: "offline", lastSeen: status?.lastSeen, seq: expect.any(Number) },
    ]);
    expect(status?.lastSeen).toEqual(expect.any(Number));
    // Two connects are two changes; one connect and one close, two more.
    expect(snapshot[1]!.seq).toBe(2);
    expect(snapshot[2]!.seq).toBe(2);
    watcher.close();
  });

  it("a second subscribe gets a snapshot of its own ids only, and a repeated id its current state", async () => {
    const [a, b] = [freshUid("a"), freshUid("b")];
    await online(a);
    const watcher = await WatchingSocket.open();
    expect((await watcher.subscribe([a])).map((u) => u.userID)).toEqual([a]);
    expect(await watcher.subscribe([b, a])).toEqual([
      { userID: b, status: "offline", seq: 0 },
      { userID: a, status: "online", platforms: ["IOS"], seq: 1 },
    ]);
    watcher.close();
  });
});

describe("presence subscriptions: changes", () => {
  it("pushes each change of the user-level state within 2 s: a second device is a change of platforms, not an offline", async () => {
    const watched = freshUid("watched");
    await register(watched);
    const watcher = await WatchingSocket.open();
    expect(await watcher.subscribe([watched])).toEqual([{ userID: watched, status: "offline", seq: 0 }]);

    const phone = await connect(watched, await tokenFor(watched, 1), 1);
    expect(await watcher.nextEntry(watched)).toEqual({ userID: watched, status: "online", platforms: ["IOS"], seq: 1 });
    const web = await connect(watched, await tokenFor(watched, 5), 5);
    expect(await watcher.nextEntry(watched)).toEqual({
      userID: watched,
      status: "online",
      platforms: ["IOS", "Web"],
      seq: 2,
    });
    phone.close();
    expect(await watcher.nextEntry(watched)).toEqual({ userID: watched, status: "online", platforms: ["Web"], seq: 3 });
    web.close();
    const offline = await watcher.nextEntry(watched);
    expect(offline).toEqual({ userID: watched, status: "offline", lastSeen: expect.any(Number), seq: 4 });
    expect((await onlineStatus([watched]))[0]?.lastSeen).toBe((offline as { lastSeen: number }).lastSeen);
    watcher.close();
  });

  it("keeps each user's entries in seq order under rapid flapping, and ends on the true state", async () => {
    const flapper = freshUid("flapper");
    await register(flapper);
    const tokens = [await tokenFor(flapper, 1), await tokenFor(flapper, 2), await tokenFor(flapper, 3)];
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([flapper]);

    for (let i = 0; i < 12; i++) {
      const socket = await connect(flapper, tokens[i % 3]!, 1 + (i % 3));
      if (i % 2 === 0) socket.close();
    }
    // Whatever stays open decides the final state; the last entry must say it.
    await sleep(1_000);
    await watcher.settle();
    const entries = watcher.entriesFor(flapper);
    expect(entries.length).toBeGreaterThan(3);
    expectSeqsGrow(entries);
    const last = entries.at(-1)!;
    const [status] = await onlineStatus([flapper]);
    expect(last.status).toBe("online");
    expect(last.status === "online" && last.platforms).toEqual(status?.detailPlatformStatus?.map((p) => p.platform));
    watcher.close();
  });

  it("sends one frame per socket for changes of several watched users, and nothing after an unsubscribe", async () => {
    const [kept, dropped] = [freshUid("kept"), freshUid("dropped")];
    await register(kept);
    await register(dropped);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([kept, dropped]);
    watcher.send({ type: "unsubscribe", userIDs: [dropped] });
    await watcher.settle();

    await connect(dropped, await tokenFor(dropped, 1), 1);
    await sleep(300);
    await connect(kept, await tokenFor(kept, 1), 1);
    expect(await watcher.nextEntry(kept)).toMatchObject({ status: "online" });
    await sleep(300);
    await watcher.settle();
    expect(watcher.entriesFor(dropped)).toHaveLength(1); // the snapshot only
    watcher.close();
  });

  it("tells every socket of the watcher that watches the user, and only those", async () => {
    const watched = freshUid("watched");
    await register(watched);
    const web = await WatchingSocket.open(freshUid("watcher"), 5);
    const desktop = await WatchingSocket.reopen(web.uid, 3);
    const idle = await WatchingSocket.reopen(web.uid, 1);
    await web.subscribe([watched]);
    await desktop.subscribe([watched]);

    await connect(watched, await tokenFor(watched, 2), 2);
    expect(await web.nextEntry(watched)).toMatchObject({ status: "online", platforms: ["Android"] });
    expect(await desktop.nextEntry(watched)).toMatchObject({ status: "online", platforms: ["Android"] });
    await idle.settle();
    expect(idle.frames()).toEqual([]);
    for (const s of [web, desktop, idle]) s.close();
  });
});

describe("presence subscriptions: bad frames and limits", () => {
  it("takes any well-formed uid as a lookup, even one registration would refuse: it is unknown, offline at seq 0", async () => {
    const watcher = await WatchingSocket.open();
    const lookalikes = ["bell\u0007", "trailing ", "ｆｕｌｌ"];
    expect(await watcher.subscribe(lookalikes)).toEqual(
      lookalikes.map((userID) => ({ userID, status: "offline", seq: 0 })),
    );
    watcher.close();
  });

  const badFrames: [string, unknown, RegExp][] = [
    ["not JSON", "hello", /subscribe, unsubscribe or set/],
    ["an unknown type", { type: "follow", userIDs: ["a"] }, /type/],
    ["no userIDs", { type: "subscribe" }, /userIDs/],
    ["an empty list", { type: "subscribe", userIDs: [] }, /userIDs/],
    ["a uid with a lone surrogate", { type: "subscribe", userIDs: ["half\ud800"] }, /userIDs\.0: must be well-formed/],
    ["a uid over 64 characters", { type: "subscribe", userIDs: ["x".repeat(65)] }, /userIDs/],
    ["a non-string id", { type: "unsubscribe", userIDs: [42] }, /userIDs/],
    [`${MAX_IDS_PER_FRAME + 1} ids`, { type: "subscribe", userIDs: ids(MAX_IDS_PER_FRAME + 1) }, /at most 200/],
  ];

  it.each(badFrames)("answers %s with an error frame (400) and keeps the socket open", async (_name, frame, errMsg) => {
    const watcher = await WatchingSocket.open();
    watcher.send(frame);
    const answer = await watcher.nextFrame();
    expect(answer).toMatchObject({ type: "error", errCode: 400, errMsg: expect.stringMatching(errMsg) });
    await watcher.settle();
    expect(await storedSubscriptions(watcher.uid)).toEqual([]);
    watcher.close();
  });

  it(`watches up to ${MAX_WATCHED_PER_SOCKET} users per socket; a subscribe beyond that is refused whole`, async () => {
    const watcher = await WatchingSocket.open();
    const all = ids(MAX_WATCHED_PER_SOCKET);
    for (let i = 0; i < all.length; i += MAX_IDS_PER_FRAME) {
      const snapshot = await watcher.subscribe(all.slice(i, i + MAX_IDS_PER_FRAME));
      expect(snapshot).toHaveLength(MAX_IDS_PER_FRAME);
    }
    // Ids it already watches do not count twice.
    expect(await watcher.subscribe(all.slice(0, 3))).toHaveLength(3);
    const extra = freshUid("extra");
    watcher.send({ type: "subscribe", userIDs: [extra] });
    expect(await watcher.nextFrame()).toMatchObject({
      type: "error",
      errCode: 400,
      errMsg: expect.stringMatching(/at most 3000/),
    });
    expect((await storedSubscriptions(watcher.uid))[0]).toHaveLength(MAX_WATCHED_PER_SOCKET);

    // After an unsubscribe there is room again.
    watcher.send({ type: "unsubscribe", userIDs: [all[0]] });
    expect(await watcher.subscribe([extra])).toEqual([{ userID: extra, status: "offline", seq: 0 }]);
    watcher.close();
  }, 60_000);
});

describe("presence subscriptions end with their socket", () => {
  it("a subscriber that reconnects gets a fresh snapshot, and its old socket's subscription is gone everywhere", async () => {
    const watched = freshUid("watched");
    const watchedSocket = await online(watched, 1);
    const first = await WatchingSocket.open();
    expect(await first.subscribe([watched])).toMatchObject([{ status: "online", seq: 1 }]);
    first.close();
    await first.socket.closed;
    await expect.poll(() => storedSubscriptions(first.uid)).toEqual([]);
    await expect.poll(() => shardWatchers(watched)).not.toHaveProperty(first.uid);

    watchedSocket.close();
    const second = await WatchingSocket.reopen(first.uid);
    await expect.poll(async () => (await onlineStatus([watched]))[0]?.status).toBe("offline");
    expect(await second.subscribe([watched])).toMatchObject([
      { status: "offline", seq: 2, lastSeen: expect.any(Number) },
    ]);
    await online(watched, 5);
    expect(await second.nextEntry(watched)).toMatchObject({ status: "online", platforms: ["Web"], seq: 3 });
    second.close();
  });

  it("a subscriber kicked by its own newer session stops getting changes; the new session subscribes for itself", async () => {
    const watched = freshUid("watched");
    await register(watched);
    const old = await WatchingSocket.open(freshUid("watcher"), 5);
    await old.subscribe([watched]);
    const newer = await WatchingSocket.reopen(old.uid, 5);
    expect((await old.socket.closedWithin(2_000)).code).toBe(4001);
    await expect.poll(() => storedSubscriptions(old.uid)).toEqual([]);

    await connect(watched, await tokenFor(watched, 1), 1);
    await sleep(500);
    await newer.settle();
    expect(newer.entriesFor(watched)).toEqual([]);
    await newer.subscribe([watched]);
    expect(newer.entriesFor(watched)).toEqual([{ userID: watched, status: "online", platforms: ["IOS"], seq: 1 }]);
    newer.close();
  });

  it("tells the shard to forget a watcher whose sockets no longer watch (a delivery that finds no socket)", async () => {
    const watched = freshUid("watched");
    await register(watched);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([watched]);
    expect(await shardWatchers(watched)).toMatchObject({ [watcher.uid]: [watched] });
    // The watcher's object loses the subscription without telling the shard (as if its storage were
    // reset); the next change delivered finds no socket for it, and the shard forgets the watcher.
    await runInDurableObject(
      sessionStub(watcher.uid),
      (_instance, state) => void state.storage.sql.exec("DELETE FROM watch_lists"),
    );
    await evictDurableObject(sessionStub(watcher.uid), { webSockets: "hibernate" });
    await connect(watched, await tokenFor(watched, 1), 1);
    await expect.poll(() => shardWatchers(watched)).not.toHaveProperty(watcher.uid);
    watcher.close();
  });
});

describe("a watched user's sessions ending", () => {
  it("kicked by a newer session on the same platform: no change to report, so nothing is sent", async () => {
    const watched = freshUid("watched");
    await online(watched, 1);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([watched]);
    await connect(watched, await tokenFor(watched, 1), 1);
    await connect(watched, await tokenFor(watched, 5), 5);
    // Only the Web session is a change; the kick and its replacement left IOS online throughout.
    expect(await watcher.nextEntry(watched)).toEqual({
      userID: watched,
      status: "online",
      platforms: ["IOS", "Web"],
      seq: 2,
    });
    watcher.close();
  });

  it("logged out by the AppServer: offline, or a change of platforms while another platform stays", async () => {
    const watched = freshUid("watched");
    await online(watched, 1);
    await online(watched, 5);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([watched]);

    expect((await post("/auth/force_logout", { secret: SECRET, uid: watched, platform: 1 })).body.errCode).toBe(0);
    expect(await watcher.nextEntry(watched)).toMatchObject({ status: "online", platforms: ["Web"] });
    expect((await post("/auth/force_logout", { secret: SECRET, uid: watched, platform: 5 })).body.errCode).toBe(0);
    expect(await watcher.nextEntry(watched)).toMatchObject({ status: "offline", lastSeen: expect.any(Number) });
    expectSeqsGrow(watcher.entriesFor(watched));
    watcher.close();
  });
});

describe("presence subscriptions across hibernation and eviction", () => {
  it("loses and repeats nothing when the watcher's object, the watched user's object and its shard are each evicted", async () => {
    const watched = freshUid("watched");
    const token = (await register(watched)).token;
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([watched]);
    const evictions = [
      () => evictDurableObject(sessionStub(watcher.uid), { webSockets: "hibernate" }),
      () => evictDurableObject(sessionStub(watched), { webSockets: "hibernate" }),
      () => evictDurableObject(shardStub(watched), { webSockets: "hibernate" }),
    ];

    let seq = 0;
    for (const evict of [...evictions, ...evictions]) {
      await evict();
      const socket = await connect(watched, token, 1);
      socket.send("ping");
      expect(await watcher.nextEntry(watched, (e) => e.seq > seq)).toMatchObject({ status: "online", seq: ++seq });
      await evict();
      socket.close();
      expect(await watcher.nextEntry(watched, (e) => e.seq > seq)).toMatchObject({ status: "offline", seq: ++seq });
    }
    await sleep(300);
    await watcher.settle();
    const entries = watcher.entriesFor(watched);
    expectSeqsGrow(entries);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: seq + 1 }, (_, i) => i));
    // A snapshot after all that still reads the truth.
    const fresh = await WatchingSocket.reopen(watcher.uid, 1);
    expect(await fresh.subscribe([watched])).toMatchObject([{ status: "offline", seq }]);
    for (const s of [watcher, fresh]) s.close();
  });
});
