/// <reference types="node" />
// The AppServer SDK's presence grants against real workers: the shared one (PRESENCE_VISIBILITY
// `everyone`, where grants are kept but change nothing) for the calls themselves, and one of this
// file's own with `granted`, where a grant decides what a watching client sees.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AppServerClient, ErrCode, ImApiError, Platform } from "../../../sdk/appserver";
import { connect, type WatchedUser } from "../../../sdk/client";
import { appServer, eventually, freshUid, recordEvents, sleep } from "../helpers";
import { type RunningWorker, startWorker } from "../wrangler-dev";
import { fastRetry, scriptedFetch } from "./scripted-fetch";

async function registered(client: AppServerClient, prefix: string): Promise<string> {
  const uid = freshUid(prefix);
  await client.registerUser({ uid, platform: Platform.Web, name: "n" });
  return uid;
}

async function grantsOf(client: AppServerClient, uid: string): Promise<string[]> {
  const all: string[] = [];
  for await (const grantee of client.allPresenceGrantees({ uid })) all.push(grantee);
  return all;
}

describe("AppServerClient: presence grants", () => {
  it("setPresenceGrants adds and removes; getPresenceGrants answers them in code-point order; a repeat changes nothing", async () => {
    const client = appServer();
    const owner = await registered(client, "owner");
    // The uids granted need not be registered.
    await client.setPresenceGrants({ uid: owner, add: ["carol", "ada", "bob"] });
    expect(await client.getPresenceGrants({ uid: owner })).toEqual({ userIDList: ["ada", "bob", "carol"] });

    await client.setPresenceGrants({ uid: owner, add: ["ada", "dave"], remove: ["bob", "nobody"] });
    expect((await client.getPresenceGrants({ uid: owner })).userIDList).toEqual(["ada", "carol", "dave"]);
    await client.setPresenceGrants({ uid: owner, remove: ["carol"] });
    await client.setPresenceGrants({ uid: owner, remove: ["carol"] });
    expect(await grantsOf(client, owner)).toEqual(["ada", "dave"]);
  });

  it("an unknown uid is 602 for both calls; a uid both added and removed is a 400 that changes nothing", async () => {
    const client = appServer();
    const ghost = freshUid("ghost");
    await expect(client.setPresenceGrants({ uid: ghost, add: ["x"] })).rejects.toMatchObject({
      errCode: ErrCode.notRegistered,
      status: 404,
      route: "/manager/set_presence_grants",
    });
    await expect(client.getPresenceGrants({ uid: ghost })).rejects.toMatchObject({
      errCode: ErrCode.notRegistered,
      route: "/manager/get_presence_grants",
    });

    const owner = await registered(client, "owner");
    await client.setPresenceGrants({ uid: owner, add: ["kept"] });
    const refused = await client
      .setPresenceGrants({ uid: owner, add: ["both", "new"], remove: ["both"] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImApiError);
    expect(refused).toMatchObject({ errCode: ErrCode.badRequest, status: 400 });
    expect((await client.getPresenceGrants({ uid: owner })).userIDList).toEqual(["kept"]);
    // A cursor that is not one of the server's is a 400 too.
    await expect(client.getPresenceGrants({ uid: owner, cursor: "not-a-cursor" })).rejects.toMatchObject({
      errCode: ErrCode.badRequest,
    });
  });

  it("getPresenceGrants pages with nextCursor, none on the last page; allPresenceGrantees follows it, a page per request", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const owner = await registered(client, "owner");
    const grantees = ["e", "a", "d", "b", "c"];
    await client.setPresenceGrants({ uid: owner, add: grantees });

    const first = await client.getPresenceGrants({ uid: owner, limit: 2 });
    expect(first).toEqual({ userIDList: ["a", "b"], nextCursor: expect.any(String) });
    const second = await client.getPresenceGrants({ uid: owner, limit: 2, cursor: first.nextCursor });
    expect(second.userIDList).toEqual(["c", "d"]);
    const last = await client.getPresenceGrants({ uid: owner, limit: 2, cursor: second.nextCursor });
    expect(last).toEqual({ userIDList: ["e"] });

    tracked.calls.length = 0;
    const all: string[] = [];
    for await (const grantee of client.allPresenceGrantees({ uid: owner, pageSize: 2 })) all.push(grantee);
    expect(all).toEqual(["a", "b", "c", "d", "e"]);
    expect(tracked.calls).toEqual(Array(3).fill("/manager/get_presence_grants"));

    // The iterator asks for the next page only when the loop wants more.
    tracked.calls.length = 0;
    for await (const grantee of client.allPresenceGrantees({ uid: owner, pageSize: 2 })) {
      expect(grantee).toBe("a");
      break;
    }
    expect(tracked.calls).toHaveLength(1);
    // A user with no grants: one empty page.
    expect(await grantsOf(client, await registered(client, "lonely"))).toEqual([]);
  });

  it("both are retried: a set after a lost answer lands where the first attempt did, a read after a 500", async () => {
    const owner = await registered(appServer(), "owner");
    const lost = scriptedFetch((_, call) => (call === 1 ? "fail-after" : "pass"));
    await appServer({ fetch: lost.fetch, retry: fastRetry }).setPresenceGrants({
      uid: owner,
      add: ["ada", "bob"],
    });
    expect(lost.calls).toEqual(["/manager/set_presence_grants", "/manager/set_presence_grants"]);
    expect((await appServer().getPresenceGrants({ uid: owner })).userIDList).toEqual(["ada", "bob"]);

    const failing = scriptedFetch((_, call) =>
      call === 1 ? Response.json({ errCode: 500, errMsg: "internal error" }, { status: 500 }) : "pass",
    );
    const page = await appServer({ fetch: failing.fetch, retry: fastRetry }).getPresenceGrants({ uid: owner });
    expect(page.userIDList).toEqual(["ada", "bob"]);
    expect(failing.calls).toEqual(["/manager/get_presence_grants", "/manager/get_presence_grants"]);
  });
});

describe("AppServerClient: presence grants with PRESENCE_VISIBILITY granted", () => {
  let worker: RunningWorker;
  let client: AppServerClient;

  beforeAll(async () => {
    worker = await startWorker({
      IM_SECRET: inject("imSecret"),
      TOKEN_SIGNING_KEY: "e2e-granted-signing-key-0123456789abcdef0123456789",
      PRESENCE_VISIBILITY: "granted",
      PRESENCE_SHARDS: "3",
    });
    client = new AppServerClient({ baseUrl: worker.url, secret: inject("imSecret") });
  }, 120_000);

  afterAll(() => worker?.stop());

  /** A session of a new user of this worker, open and answered a ping. */
  async function sessionOf(prefix: string) {
    const uid = freshUid(prefix);
    const { token } = await client.registerUser({ uid, platform: Platform.Web, name: "n" });
    const session = connect({ url: worker.url, uid, token, platform: Platform.Web, pingIntervalMs: 5_000 });
    const events = recordEvents(session);
    await eventually(`${uid} open`, () => events.pong.length > 0);
    return { uid, session };
  }

  it("a watcher sees the user only while granted: an unknown user's entry before, the real one after the grant, a reset after its removal", async () => {
    const owner = await sessionOf("owner");
    const watcher = await sessionOf("watcher");
    const heard: WatchedUser[] = [];
    try {
      watcher.session.watch([owner.uid], (user) => void heard.push(user));
      await eventually("snapshot", () => heard.length === 1);
      // Online, but not granted: exactly what an unknown uid reads.
      expect(heard[0]).toEqual({ userID: owner.uid, status: "offline", seq: 0 });

      await client.setPresenceGrants({ uid: owner.uid, add: [watcher.uid] });
      await eventually("the real entry, once granted", () => heard.length === 2, 5_000);
      expect(heard[1]).toEqual({ userID: owner.uid, status: "online", platforms: ["Web"], seq: 1 });
      expect(await grantsOf(client, owner.uid)).toEqual([watcher.uid]);

      await client.setPresenceGrants({ uid: owner.uid, remove: [watcher.uid] });
      await eventually("a reset, once the grant is removed", () => heard.length === 3, 5_000);
      expect(heard[2]).toEqual({ userID: owner.uid, status: "offline", seq: 0 });
      // Hidden again: its changes no longer come.
      owner.session.close();
      await sleep(2_500);
      expect(heard).toHaveLength(3);
      // The AppServer sees the truth whatever the grants.
      expect((await client.getUsersOnlineStatus([owner.uid]))[0]).toMatchObject({ status: "offline" });
    } finally {
      owner.session.close();
      watcher.session.close();
    }
  });
});
