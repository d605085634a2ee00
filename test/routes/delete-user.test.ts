// POST /manager/delete_user: erasure, not hiding (docs/api.md#post-managerdelete_user,
// docs/security.md#your-users-data), through HTTP and real sockets. This project runs three shards.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config";
import type { PresenceShard } from "../../src/presence/shard";
import {
  connect,
  freshUid,
  onlineStatus,
  post,
  refusedConnect,
  register,
  SECRET,
  sleep,
  type TestSocket,
  tokenFor,
} from "../helpers";
import { objectTables, sessionStub, shardStub } from "../presence/helpers";
import { shardWatchers, storedSubscriptions, WatchingSocket } from "../presence/subscription-helpers";

async function deleteUsers(deleteUidList: string[]) {
  return post("/manager/delete_user", { secret: SECRET, deleteUidList });
}

/** Every shard of the current layout, as the worker addresses them. */
function allShards(): DurableObjectStub<PresenceShard>[] {
  const count = readSettings(env).presenceShards;
  return Array.from({ length: count }, (_, i) =>
    env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(`presence-${i}-of-${count}`)),
  );
}

/** Every text value and number stored in every table of an object's SQLite, flattened. */
async function storedValues(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const tables = objectTables(sql);
    return tables.map((table) => JSON.stringify(sql.exec(`SELECT * FROM "${table}"`).toArray())).join("\n");
  });
}

/** Every value of every table of D1, flattened. */
async function d1Values(): Promise<string> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  const dumps = await Promise.all(
    results.map(async ({ name }) => JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)),
  );
  return dumps.join("\n");
}

describe("delete_user: the answer already reflects the deletion", () => {
  it("leaves the user out of get_user_info and get_all_users_uid; account_check says unregistered; user_token 602; offline with no lastSeen", async () => {
    const uid = freshUid("del");
    await register(uid);
    const socket = await connect(uid, await tokenFor(uid, 1), 1);
    socket.send("ping");
    socket.close();
    await socket.closed;
    await expect.poll(async () => (await onlineStatus([uid]))[0]?.lastSeen).toEqual(expect.any(Number));

    const answer = await deleteUsers([uid, "never-registered-uid"]);
    expect(answer.body).toEqual({ errCode: 0, errMsg: "", failedUidList: ["never-registered-uid"] });
    expect((await post("/user/get_user_info", { secret: SECRET, uidList: [uid] })).body.data).toEqual([]);
    expect((await post("/manager/account_check", { secret: SECRET, userIDList: [uid] })).body.result).toEqual([
      { userID: uid, accountStatus: "unregistered" },
    ]);
    const all = (await post("/manager/get_all_users_uid", { secret: SECRET })).body.uidList as string[];
    expect(all).not.toContain(uid);
    expect((await post("/auth/user_token", { secret: SECRET, uid, platform: 1 })).body.errCode).toBe(602);
    expect(await onlineStatus([uid])).toEqual([{ userID: uid, status: "offline" }]);
  });

  it("puts the uid in failedUidList when it is deleted a second time", async () => {
    const uid = freshUid("twice");
    await register(uid);
    expect((await deleteUsers([uid])).body.failedUidList).toEqual([]);
    expect((await deleteUsers([uid])).body.failedUidList).toEqual([uid]);
  });

  it("refuses lists that are empty or longer than 100 (400)", async () => {
    expect((await deleteUsers([])).status).toBe(400);
    const many = Array.from({ length: 101 }, (_, i) => `x-${i}`);
    expect((await deleteUsers(many)).body).toMatchObject({ errCode: 400, errMsg: "deleteUidList: at most 100 uids" });
  });
});

describe("delete_user: sessions, watchers and tokens", () => {
  it("closes the user's sockets with 4005, resets its watchers (offline, no lastSeen, seq 0) and ends its own subscriptions", async () => {
    const uid = freshUid("del");
    const other = freshUid("other");
    await register(other);
    const phone = await WatchingSocket.open(uid, 1);
    const web = await WatchingSocket.reopen(uid, 5);
    for (const s of [phone, web]) s.send("ping");
    await phone.subscribe([other]);
    const watcher = await WatchingSocket.open();
    expect(await watcher.subscribe([uid])).toMatchObject([{ status: "online", platforms: ["IOS", "Web"] }]);
    expect(await shardWatchers(other)).toHaveProperty(uid);

    await deleteUsers([uid]);
    const closes = await Promise.all([phone.socket.closedWithin(2_000), web.socket.closedWithin(2_000)]);
    expect(closes.map((c) => c.code)).toEqual([4005, 4005]);
    expect(await watcher.nextEntry(uid, (e) => e.seq === 0, 2_000)).toEqual({
      userID: uid,
      status: "offline",
      seq: 0,
    });
    expect(await shardWatchers(other)).not.toHaveProperty(uid);
    expect(await storedSubscriptions(uid)).toEqual([]);
    watcher.close();
  });

  it("refuses every token issued before the deletion for good, also after the uid is registered again; the new user's tokens work and its seq starts at 1", async () => {
    const uid = freshUid("again");
    const { token: oldToken } = await register(uid);
    const oldSocket = await connect(uid, oldToken, 1);
    oldSocket.send("ping");
    const watcher = await WatchingSocket.open();
    await watcher.subscribe([uid]);
    await deleteUsers([uid]);
    await oldSocket.closedWithin(2_000);
    expect((await refusedConnect({ sendID: uid, token: oldToken, platformID: 1 })).body.errCode).toBe(702);

    const { token: newToken } = await register(uid, { name: "a new person" });
    expect((await refusedConnect({ sendID: uid, token: oldToken, platformID: 1 })).body.errCode).toBe(702);
    const fresh = await connect(uid, newToken, 1);
    fresh.send("ping");
    // The watcher still watches the uid: it sees the new user, starting again from seq 1.
    expect(await watcher.nextEntry(uid, (e) => e.status === "online", 2_000)).toEqual({
      userID: uid,
      status: "online",
      platforms: ["IOS"],
      seq: 1,
    });
    expect((await onlineStatus([uid]))[0]?.status).toBe("online");
    fresh.close();
    watcher.close();
  });
});

describe("delete_user: a deletion interrupted part-way", () => {
  it("is finished by a retry: the uid is not reported as failed, and everything is erased", async () => {
    const uid = freshUid("retry");
    const { token } = await register(uid);
    const socket = await connect(uid, token, 1);
    socket.send("ping");
    await expect.poll(async () => (await onlineStatus([uid]))[0]?.status).toBe("online");
    for (const shard of allShards())
      await runInDurableObject(shard, (instance: PresenceShard) => instance.faults.arm("erase"));

    const failed = await deleteUsers([uid]);
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ errCode: 500, errMsg: "internal error" });
    // Step 1 (D1) and step 2 (the user's object) happened; the shard still has the user.
    expect((await post("/auth/user_token", { secret: SECRET, uid, platform: 1 })).body.errCode).toBe(602);
    expect((await socket.closedWithin(2_000)).code).toBe(4005);
    const pending = await env.DB.prepare("SELECT uid FROM pending_deletions WHERE uid = ?").bind(uid).first();
    expect(pending).toEqual({ uid });
    for (const shard of allShards())
      await runInDurableObject(shard, (instance: PresenceShard) => instance.faults.tripped("erase"));

    const retried = await deleteUsers([uid]);
    expect(retried.body).toEqual({ errCode: 0, errMsg: "", failedUidList: [] });
    expect(await onlineStatus([uid])).toEqual([{ userID: uid, status: "offline" }]);
    expect(await env.DB.prepare("SELECT uid FROM pending_deletions WHERE uid = ?").bind(uid).first()).toBeNull();
    expect((await deleteUsers([uid])).body.failedUidList).toEqual([uid]);
  });

  it("is finished by a register of the uid, before the new user exists", async () => {
    const uid = freshUid("reg");
    const socket = await connect(uid, (await register(uid)).token, 1);
    socket.send("ping");
    socket.close();
    await expect.poll(async () => (await onlineStatus([uid]))[0]?.lastSeen).toEqual(expect.any(Number));
    await runInDurableObject(shardStub(uid), (instance: PresenceShard) => instance.faults.arm("erase"));
    expect((await deleteUsers([uid])).status).toBe(500);

    expect((await register(uid, { name: "second" })).uid).toBe(uid);
    expect(await onlineStatus([uid])).toEqual([{ userID: uid, status: "offline" }]);
    expect(await env.DB.prepare("SELECT uid FROM pending_deletions WHERE uid = ?").bind(uid).first()).toBeNull();
  });
});

describe("delete_user racing a register of the same uid", () => {
  it("ends consistently whichever wins: a deleted user, or a new one whose presence and tokens are intact", async () => {
    for (let round = 0; round < 6; round++) {
      const uid = freshUid("race");
      const { token: oldToken } = await register(uid);
      const old = await connect(uid, oldToken, 1);
      old.send("ping");
      const [deleted, registered] = await Promise.all([
        deleteUsers([uid]),
        post("/auth/user_register", { secret: SECRET, platform: 5, uid, name: "racer" }),
      ]);
      expect(deleted.body.errCode).toBe(0);
      await old.closedWithin(2_000);
      expect((await refusedConnect({ sendID: uid, token: oldToken, platformID: 1 })).body.errCode).toBe(702);
      const exists = (await post("/manager/account_check", { secret: SECRET, userIDList: [uid] })).body.result as {
        accountStatus: string;
      }[];
      if (registered.body.errCode === 0) {
        // The register came after the deletion began: a new user, whom nothing of the deletion touches.
        expect(exists[0]?.accountStatus).toBe("registered");
        const fresh = await connect(uid, (registered.body.data as { token: string }).token, 5);
        fresh.send("ping");
        await sleep(100);
        expect((await onlineStatus([uid]))[0]?.status).toBe("online");
        fresh.close();
      } else {
        // The register came first and found the user: the deletion then took it.
        expect(registered.body.errCode).toBe(601);
        expect(exists[0]?.accountStatus).toBe("unregistered");
      }
    }
  });
});

describe("delete_user: erasure from every store", () => {
  it("leaves no row in D1 or in any Durable Object's SQLite holding the profile values or lastSeen (which were there before)", async () => {
    const uid = freshUid("gdpr");
    const marker = `zq${Date.now().toString(36)}x`;
    const profile = {
      name: `Name-${marker}`,
      mobile: `+99${marker.length}${Date.now() % 100000}`,
      email: `${marker}@example.com`,
      ex: `ex-${marker}`,
      icon: `https://example.com/${marker}.png`,
      birth: "1970-01-01",
    };
    await register(uid, profile);
    const other = freshUid("friend");
    await register(other);
    const watcher = await WatchingSocket.reopen(uid, 5);
    watcher.send("ping");
    await watcher.subscribe([other]);
    const socket: TestSocket = await connect(uid, await tokenFor(uid, 1), 1);
    socket.send("ping");
    socket.close();
    await socket.closed;
    watcher.close();
    await watcher.socket.closed;
    await expect.poll(async () => (await onlineStatus([uid]))[0]?.lastSeen).toEqual(expect.any(Number));
    const lastSeen = String((await onlineStatus([uid]))[0]?.lastSeen);
    await post("/auth/force_logout", { secret: SECRET, uid, platform: 2 }); // an invalidation row

    const stores = async () => ({
      d1: await d1Values(),
      user: await storedValues(sessionStub(uid)),
      shards: (await Promise.all(allShards().map(storedValues))).join("\n"),
    });
    const before = await stores();
    expect(before.d1).toContain(profile.email);
    expect(before.d1).toContain(profile.mobile);
    expect(before.shards).toContain(lastSeen);
    expect(before.user).toContain(lastSeen);

    expect((await deleteUsers([uid])).body.failedUidList).toEqual([]);
    const after = await stores();
    for (const value of [...Object.values(profile).filter((v) => v !== "1970-01-01"), marker, lastSeen]) {
      expect(after.d1, `D1 holds ${value}`).not.toContain(value);
      expect(after.user, `the user's object holds ${value}`).not.toContain(value);
      expect(after.shards, `a shard holds ${value}`).not.toContain(value);
    }
    // What the user's object keeps: one row, the moment of the deletion, to refuse the old tokens.
    const left = await runInDurableObject(sessionStub(uid), (_i, state) =>
      ["presence_state", "revoked_tokens", "logout_cutoffs", "watch_lists", "account_state"].map(
        (table) => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n,
      ),
    );
    expect(left).toEqual([0, 0, 0, 0, 1]);
  });
});
