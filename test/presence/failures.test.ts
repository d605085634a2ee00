// Every socket handler has a failure path, and a fan-out survives its shard restarting
// (docs/presence.md#containment). Faults are injected with the shard's test-only switch, armed
// from inside the object; nothing in the worker can arm it. This project runs three shards.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SET_FAILED, SUBSCRIBE_FAILED, UNSUBSCRIBE_FAILED } from "../../protocol";
import { readSettings } from "../../src/config";
import { errorFrameSchema } from "../../src/openapi/responses";
import type { PresenceShard } from "../../src/presence/shard";
import { presenceShardName } from "../../src/presence/shards";
import type { UserSession } from "../../src/presence/user-session";
import { connect, freshUid, onlineStatus, register, sleep, tokenFor } from "../helpers";
import { sessionStub, shardStub } from "./helpers";
import { shardWatchers, storedSubscriptions, WatchingSocket } from "./subscription-helpers";

type Fault = Parameters<PresenceShard["faults"]["arm"]>[0];

/** Arms a one-shot fault in the shard that holds `uid`. */
async function armFault(uid: string, fault: Fault): Promise<void> {
  await runInDurableObject(shardStub(uid), (instance: PresenceShard) => instance.faults.arm(fault));
}

/** Two fresh uids held by different shards. */
function idsOnTwoShards(): [string, string] {
  const shards = readSettings(env).presenceShards;
  const first = freshUid("a");
  for (;;) {
    const second = freshUid("b");
    if (presenceShardName(second, shards) !== presenceShardName(first, shards)) return [first, second];
  }
}

describe("a socket handler whose call fails", () => {
  it("subscribe: the client gets an error frame (500), nothing is saved on either side, and the socket goes on", async () => {
    const [kept, failing] = idsOnTwoShards();
    await register(kept);
    const watcher = await WatchingSocket.open();
    await armFault(failing, "watch");

    watcher.send({ type: "subscribe", userIDs: [kept, failing] });
    // Spelled in protocol/, where the client SDK reads it to send its subscriptions again; the OpenAPI document allows it.
    const frame = await watcher.nextFrame();
    expect(frame).toEqual({ type: "error", errCode: 500, errMsg: SUBSCRIBE_FAILED });
    expect(errorFrameSchema.safeParse(frame).success).toBe(true);
    // The shard that did register the watcher was told to forget it again.
    expect(await storedSubscriptions(watcher.uid)).toEqual([]);
    await expect.poll(() => shardWatchers(kept)).not.toHaveProperty(watcher.uid);
    expect(await shardWatchers(failing)).not.toHaveProperty(watcher.uid);

    // The same socket subscribes again, and hears the next change.
    expect(await watcher.subscribe([kept, failing])).toHaveLength(2);
    await connect(kept, await tokenFor(kept, 1), 1);
    expect(await watcher.nextEntry(kept)).toMatchObject({ status: "online", platforms: ["IOS"] });
    watcher.close();
  });

  it("set: a change that could not be stored gets an error frame (500), changes nothing, and the same frame works again", async () => {
    const uid = freshUid("setter");
    const socket = await WatchingSocket.open(uid, 1);
    await socket.settle();
    const watcher = await WatchingSocket.open();
    const [before] = await watcher.subscribe([uid]);
    await runInDurableObject(sessionStub(uid), (instance: UserSession) => instance.faults.arm("recordChange"));

    const frame = { type: "set", background: true, customStatus: { text: "Away" } };
    socket.send(frame);
    expect(await socket.nextFrame((f) => f.type === "error")).toEqual({
      type: "error",
      errCode: 500,
      errMsg: SET_FAILED,
    });
    // The socket's own flag went back too: a close of another socket would otherwise record it.
    const status = await onlineStatus([uid]);
    expect(status[0]).toEqual({
      userID: uid,
      status: "online",
      detailPlatformStatus: [{ platform: "IOS", status: "online", isBackground: false }],
    });
    const other = await WatchingSocket.reopen(uid, 5);
    await other.settle();
    expect(await watcher.nextEntry(uid, (e) => e.status === "online" && e.platforms.length === 2)).not.toHaveProperty(
      "background",
    );

    socket.send(frame);
    expect(await watcher.nextEntry(uid, (e) => "customStatus" in e)).toMatchObject({
      background: ["IOS"],
      customStatus: { text: "Away" },
    });
    expect(before?.seq).toBeLessThan(watcher.entriesFor(uid).at(-1)!.seq);
    for (const s of [socket, other, watcher]) s.close();
  });

  it("unsubscribe: the client gets an error frame (500), it still watches (changes still arrive), and nothing was removed", async () => {
    const [other, watched] = idsOnTwoShards();
    await register(watched);
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([other, watched]);
    await armFault(watched, "unwatch");

    watcher.send({ type: "unsubscribe", userIDs: [other, watched] });
    const frame = await watcher.nextFrame();
    expect(frame).toEqual({ type: "error", errCode: 500, errMsg: UNSUBSCRIBE_FAILED });
    expect(errorFrameSchema.safeParse(frame).success).toBe(true);
    expect(await storedSubscriptions(watcher.uid)).toEqual([[other, watched].sort()]);
    // The shard that had forgotten the watcher was told to register it again.
    await expect.poll(() => shardWatchers(other)).toHaveProperty(watcher.uid);
    expect(await shardWatchers(watched)).toHaveProperty(watcher.uid);

    await connect(watched, await tokenFor(watched, 2), 2);
    expect(await watcher.nextEntry(watched)).toMatchObject({ status: "online", platforms: ["Android"] });
    // And a retry goes through.
    watcher.send({ type: "unsubscribe", userIDs: [other, watched] });
    await expect.poll(() => storedSubscriptions(watcher.uid)).toEqual([]);
    watcher.close();
  });
});

describe("a fan-out that its shard does not finish", () => {
  it("is told again when the shard starts again: the watchers get the change within 2 s of the restart", async () => {
    const watched = freshUid("watched");
    await register(watched);
    const watchers = await Promise.all([WatchingSocket.open(), WatchingSocket.open()]);
    for (const w of watchers) await w.subscribe([watched]);

    // The shard stops (as a crash or a reset would) after the change is stored, before any delivery.
    await armFault(watched, "abortBeforeDelivery");
    const socket = await connect(watched, await tokenFor(watched, 5), 5);
    socket.send("ping");
    await sleep(500);
    for (const w of watchers) {
      await w.settle();
      expect(w.entriesFor(watched)).toEqual([{ userID: watched, status: "offline", seq: 0 }]);
    }

    // Anything that starts the shard again (here a status read) resumes the fan-out.
    const restartedAt = Date.now();
    expect((await onlineStatus([watched]))[0]).toMatchObject({ status: "online" });
    for (const w of watchers) {
      expect(await w.nextEntry(watched, (e) => e.status === "online", 2_000)).toEqual({
        userID: watched,
        status: "online",
        platforms: ["Web"],
        seq: 1,
      });
    }
    expect(Date.now() - restartedAt).toBeLessThan(2_000);
    for (const w of watchers) w.close();
    socket.close();
  });
});
