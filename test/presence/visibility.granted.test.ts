// Who may see whom (docs/security.md#who-may-see-whom), with PRESENCE_VISIBILITY=granted and three
// shards, through real sockets: grants, and what a watcher without one gets.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config";
import type { PresenceShard } from "../../src/presence/shard";
import { connect, freshUid, post, register, SECRET, sleep, tokenFor } from "../helpers";
import { shardStub } from "./helpers";
import { online, WatchingSocket } from "./subscription-helpers";

async function grant(uid: string, change: { add?: string[]; remove?: string[] }) {
  return post("/manager/set_presence_grants", { secret: SECRET, uid, ...change });
}

async function grantsOf(uid: string, limit?: number): Promise<string[]> {
  const all: string[] = [];
  let cursor: string | undefined;
  do {
    const answer = await post("/manager/get_presence_grants", {
      secret: SECRET,
      uid,
      ...(limit ? { limit } : {}),
      ...(cursor ? { cursor } : {}),
    });
    expect(answer.body.errCode, JSON.stringify(answer.body)).toBe(0);
    all.push(...(answer.body.userIDList as string[]));
    cursor = answer.body.nextCursor as string | undefined;
  } while (cursor);
  return all;
}

describe("granted mode: a watcher without a grant", () => {
  it("gets exactly the entry an unknown uid gets, field for field, and no deltas", async () => {
    const hidden = freshUid("hidden");
    const unknown = freshUid("never");
    const phone = await online(hidden, 1);
    phone.close();
    await phone.closed;
    await sleep(100);
    await online(hidden, 5);
    const watcher = await WatchingSocket.open();
    const [hiddenEntry, unknownEntry] = await watcher.subscribe([hidden, unknown]);
    expect(hiddenEntry).toEqual({ userID: hidden, status: "offline", seq: 0 });
    expect(unknownEntry).toEqual({ userID: unknown, status: "offline", seq: 0 });
    expect(Object.keys(hiddenEntry!).sort()).toEqual(Object.keys(unknownEntry!).sort());

    await online(hidden, 2);
    await sleep(500);
    await watcher.settle();
    expect(watcher.entriesFor(hidden)).toEqual([hiddenEntry]);
    watcher.close();
  });

  it("costs the shard exactly the work an unknown uid costs, grants to others or not: the same statements, none reading the user", async () => {
    const hidden = freshUid("hidden");
    await online(hidden, 1);
    const watcher = freshUid("watcher");
    // The hidden user has granted someone else: its grantees are in the shard's memory, which must not
    // make its answer any different (or any faster) from an unknown uid's.
    expect((await grant(hidden, { add: [freshUid("friend")] })).body.errCode).toBe(0);
    // An unknown uid held by the same shard as the hidden one.
    const count = readSettings(env).presenceShards;
    const { presenceShardName } = await import("../../src/presence/shards");
    let unknown = freshUid("never");
    while (presenceShardName(unknown, count) !== presenceShardName(hidden, count)) unknown = freshUid("never");
    const statements = await runInDurableObject(shardStub(hidden), async (instance: PresenceShard, state) => {
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      const seen: string[] = [];
      sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
        seen.push(query.replace(/\s+/g, " ").trim());
        return exec(query, ...bindings);
      }) as typeof sql.exec;
      try {
        const runs: string[][] = [];
        for (const uid of [hidden, unknown]) {
          seen.length = 0;
          expect(instance.watch(watcher, [uid])).toEqual([expect.objectContaining({ status: "offline", seq: 0 })]);
          runs.push([...seen]);
        }
        return runs;
      } finally {
        sql.exec = exec;
      }
    });
    expect(statements[0]).toEqual(statements[1]);
    expect(statements[0]!.some((q) => q.includes("FROM grants"))).toBe(true);
    expect(statements[0]!.some((q) => q.includes("online_users") || q.includes("offline_users"))).toBe(false);
  });
});

describe("granted mode: grants", () => {
  it("a grant takes effect on a live subscription within 2 s (the real entry, then deltas); a removal likewise (an unknown's entry, then nothing)", async () => {
    const owner = freshUid("owner");
    await online(owner, 1);
    const watcher = await WatchingSocket.open();
    expect(await watcher.subscribe([owner])).toEqual([{ userID: owner, status: "offline", seq: 0 }]);

    expect((await grant(owner, { add: [watcher.uid] })).body).toEqual({ errCode: 0, errMsg: "" });
    expect(await watcher.nextEntry(owner, (e) => e.status === "online", 2_000)).toMatchObject({
      status: "online",
      platforms: ["IOS"],
      seq: 1,
    });
    await online(owner, 5);
    expect(await watcher.nextEntry(owner, (e) => e.seq === 2, 2_000)).toMatchObject({ platforms: ["IOS", "Web"] });

    expect((await grant(owner, { remove: [watcher.uid] })).body.errCode).toBe(0);
    expect(await watcher.nextEntry(owner, (e) => e.seq === 0, 2_000)).toEqual({
      userID: owner,
      status: "offline",
      seq: 0,
    });
    await online(owner, 2);
    await sleep(500);
    await watcher.settle();
    expect(watcher.entriesFor(owner).at(-1)).toEqual({ userID: owner, status: "offline", seq: 0 });
    watcher.close();
  });

  it("a user always sees itself, and a grant to another watcher reaches only that one", async () => {
    const owner = freshUid("owner");
    await online(owner, 1);
    const self = await WatchingSocket.reopen(owner, 5);
    expect(await self.subscribe([owner])).toMatchObject([{ status: "online", platforms: ["IOS", "Web"] }]);
    const [granted, other] = await Promise.all([WatchingSocket.open(), WatchingSocket.open()]);
    for (const w of [granted, other]) await w.subscribe([owner]);
    await grant(owner, { add: [granted.uid] });
    await granted.nextEntry(owner, (e) => e.status === "online", 2_000);
    await sleep(300);
    await other.settle();
    expect(other.entriesFor(owner)).toEqual([{ userID: owner, status: "offline", seq: 0 }]);
    for (const w of [self, granted, other]) w.close();
  });

  it("get_presence_grants pages them in code-point order; more than 10,000 is a 400 that changes nothing", async () => {
    const owner = freshUid("owner");
    await register(owner);
    const batch = (n: number) => Array.from({ length: 1_000 }, (_, i) => `g${n}-${String(i).padStart(4, "0")}`);
    for (let n = 0; n < 10; n++) expect((await grant(owner, { add: batch(n) })).body.errCode).toBe(0);
    const refused = await grant(owner, { add: ["one-too-many"] });
    expect(refused.status).toBe(400);
    expect(refused.body.errMsg).toMatch(/at most 10000 grants.*nothing changed/);
    // Adding and removing in one call is counted after both.
    expect((await grant(owner, { add: ["swap-in"], remove: ["g0-0000"] })).body.errCode).toBe(0);
    const all = await grantsOf(owner, 1_000);
    expect(all).toHaveLength(10_000);
    expect(all).toContain("swap-in");
    expect(all).not.toContain("g0-0000");
    expect(all).not.toContain("one-too-many");
    expect(all).toEqual([...all].sort());
  }, 60_000);

  it("refuses an unknown uid (404/602), an id both added and removed, and nothing to change (400)", async () => {
    const unknown = await grant(freshUid("ghost"), { add: ["x"] });
    expect([unknown.status, unknown.body.errCode]).toEqual([404, 602]);
    const owner = freshUid("owner");
    await register(owner);
    expect((await grant(owner, { add: ["a"], remove: ["a"] })).body.errMsg).toMatch(/both added and removed/);
    expect((await grant(owner, {})).status).toBe(400);
    expect((await grant(owner, { add: [] })).status).toBe(400);
  });

  it("a deleted user's grants are erased, whichever way they point", async () => {
    const [a, b] = [freshUid("a"), freshUid("b")];
    await register(a);
    await register(b);
    await grant(a, { add: [b] });
    await grant(b, { add: [a] });
    expect(await grantsOf(a)).toEqual([b]);
    expect((await post("/manager/delete_user", { secret: SECRET, deleteUidList: [b] })).body.failedUidList).toEqual([]);
    expect(await grantsOf(a)).toEqual([]);
    const count = readSettings(env).presenceShards;
    for (let i = 0; i < count; i++) {
      const shard = env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`presence-${i}-of-${count}`));
      const rows = await runInDurableObject(
        shard,
        (_i, state) =>
          state.storage.sql
            .exec<{ n: number }>("SELECT count(*) AS n FROM grants WHERE owner = ?1 OR grantee = ?1", b)
            .one().n,
      );
      expect(rows).toBe(0);
    }
    // Registered again, the uid starts with no grants either way.
    await register(b);
    expect(await grantsOf(b)).toEqual([]);
  });
});

describe("granted mode: the AppServer sees the truth", () => {
  it("the status route ignores grants", async () => {
    const uid = freshUid();
    await register(uid);
    const socket = await connect(uid, await tokenFor(uid, 3), 3);
    socket.send("ping");
    const answer = await post("/user/get_users_online_status", { secret: SECRET, userIDList: [uid] });
    expect(answer.body.successResult).toEqual([
      {
        userID: uid,
        status: "online",
        detailPlatformStatus: [{ platform: "Windows", status: "online", isBackground: false }],
      },
    ]);
    socket.close();
  });
});

describe("granted mode: what presence says (background, custom status)", () => {
  it("reaches only granted watchers: the others get the unknown entry, then nothing, whatever changes", async () => {
    const uid = freshUid("said");
    const phone = await WatchingSocket.open(uid, 1);
    await phone.settle();
    const [friend, stranger] = [await WatchingSocket.open(), await WatchingSocket.open()];
    expect((await grant(uid, { add: [friend.uid] })).body.errCode).toBe(0);
    await friend.subscribe([uid]);
    const [unknown] = await stranger.subscribe([uid]);
    expect(unknown).toEqual({ userID: uid, status: "offline", seq: 0 });

    phone.send({ type: "set", background: true, customStatus: { text: "Commuting" } });
    expect(await friend.nextEntry(uid, (e) => "customStatus" in e)).toMatchObject({
      status: "online",
      background: ["IOS"],
      customStatus: { text: "Commuting" },
    });
    expect(await post("/user/set_custom_status", { secret: SECRET, uid, customStatus: null })).toMatchObject({
      status: 200,
    });
    await friend.nextEntry(uid, (e) => !("customStatus" in e));
    await sleep(300);
    await stranger.settle();
    expect(stranger.entriesFor(uid)).toEqual([unknown]);
    for (const s of [phone, friend, stranger]) s.close();
  });
});
