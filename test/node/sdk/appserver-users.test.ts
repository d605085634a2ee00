/// <reference types="node" />
// The AppServer SDK's user management against the real worker: profiles, account checks, paging
// every uid, deletion, bans, sessions and logging out one session. Every call is a real one.
import { describe, expect, it } from "vitest";
import { ErrCode, ImApiError, ImNetworkError, Platform } from "../../../sdk/appserver";
import { connect } from "../../../sdk/client";
import { appServer, eventually, freshUid, recordEvents, workerUrl } from "../helpers";
import { fastRetry, scriptedFetch } from "./scripted-fetch";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Code-point order, the order get_all_users_uid pages in (UTF-16 order differs above U+FFFF). */
function byCodePoint(a: string, b: string): number {
  const [x, y] = [[...a].map((c) => c.codePointAt(0) ?? 0), [...b].map((c) => c.codePointAt(0) ?? 0)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return x.length - y.length;
}

async function registered(count: number, prefix = "user"): Promise<string[]> {
  const uids = Array.from({ length: count }, () => freshUid(prefix));
  for (const uid of uids) await appServer().registerUser({ uid, platform: Platform.Web, name: `name of ${uid}` });
  return uids;
}

describe("AppServerClient: profiles", () => {
  it("getUserInfo answers the registered users' profiles in request order, each once, without unknown uids", async () => {
    const client = appServer();
    const [ada, bob] = [freshUid("ada"), freshUid("bob")];
    const before = nowSeconds();
    await client.registerUser({ uid: ada, platform: Platform.Web, name: "Ada", gender: 2, email: "ada@example.com" });
    await client.registerUser({ uid: bob, platform: Platform.IOS, name: "Bob", mobile: "+1 555", ex: "{}" });
    const users = await client.getUserInfo([bob, "nobody-here", ada, bob]);
    expect(users).toEqual([
      {
        uid: bob,
        name: "Bob",
        icon: "",
        gender: 0,
        mobile: "+1 555",
        birth: "",
        email: "",
        ex: "{}",
        createTime: expect.any(Number),
      },
      {
        uid: ada,
        name: "Ada",
        icon: "",
        gender: 2,
        mobile: "",
        birth: "",
        email: "ada@example.com",
        ex: "",
        createTime: expect.any(Number),
      },
    ]);
    for (const user of users) expect(user.createTime).toBeGreaterThanOrEqual(before - 5);
    expect(await client.getUserInfo([])).toEqual([]);
  });

  it("getUserInfo splits more than 200 uids into batches and answers each user once, in first-asked order", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const [first, second] = await registered(2, "info");
    // 430 distinct ids: 3 batches. The two users sit in different batches, each asked twice.
    const uids = Array.from({ length: 430 }, (_, i) => `nobody-${i}`);
    uids.splice(5, 0, second as string);
    uids.splice(300, 0, first as string, second as string);
    uids.push(first as string);
    const users = await client.getUserInfo(uids);
    expect(tracked.calls).toEqual(Array(3).fill("/user/get_user_info"));
    expect(users.map((user) => user.uid)).toEqual([second, first]);
  });

  it("updateUserInfo sets the fields given, clears one given empty, keeps the rest; an unknown uid is 602", async () => {
    const client = appServer();
    const uid = freshUid();
    await client.registerUser({ uid, platform: Platform.Web, name: "Before", email: "old@example.com", mobile: "123" });
    await client.updateUserInfo({ uid, name: "After", email: "", gender: 1 });
    const [user] = await client.getUserInfo([uid]);
    expect(user).toMatchObject({ name: "After", email: "", mobile: "123", gender: 1 });
    const unknown = await client.updateUserInfo({ uid: freshUid("ghost"), name: "x" }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ImApiError);
    expect(unknown).toMatchObject({ errCode: ErrCode.notRegistered, status: 404, route: "/user/update_user_info" });
  });

  it("updateUserInfo is retried after a lost answer: the repeat sets the same values again", async () => {
    const lost = scriptedFetch((_, call) => (call === 1 ? "fail-after" : "pass"));
    const uid = freshUid();
    await appServer().registerUser({ uid, platform: Platform.Web, name: "n" });
    await appServer({ fetch: lost.fetch, retry: fastRetry }).updateUserInfo({ uid, ex: '{"plan":"pro"}' });
    expect(lost.calls).toEqual(["/user/update_user_info", "/user/update_user_info"]);
    expect((await appServer().getUserInfo([uid]))[0]?.ex).toBe('{"plan":"pro"}');
  });
});

describe("AppServerClient: account checks and every uid", () => {
  it("accountCheck answers each id in order, duplicates kept, in batches of 100", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const [uid] = await registered(1, "check");
    const ids = Array.from({ length: 250 }, (_, i) => ([0, 100, 249].includes(i) ? (uid as string) : `nobody-${i}`));
    const result = await client.accountCheck(ids);
    expect(tracked.calls).toEqual(Array(3).fill("/manager/account_check"));
    expect(result.map((entry) => entry.userID)).toEqual(ids);
    for (const [i, entry] of result.entries()) {
      expect(entry.accountStatus, `entry ${i}`).toBe(ids[i] === uid ? "registered" : "unregistered");
    }
    expect(await client.accountCheck([])).toEqual([]);
  });

  it("getAllUsersUid answers one page and a nextCursor, none on the last page; a malformed cursor is a 400", async () => {
    const client = appServer();
    await registered(3, "page");
    const page = await client.getAllUsersUid({ limit: 2 });
    expect(page.uidList).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));
    const next = await client.getAllUsersUid({ cursor: page.nextCursor, limit: 2 });
    expect(byCodePoint(page.uidList[1] as string, next.uidList[0] as string)).toBeLessThan(0);

    const everything: string[] = [];
    let answer = await client.getAllUsersUid({ limit: 50 });
    everything.push(...answer.uidList);
    while (answer.nextCursor !== undefined) {
      answer = await client.getAllUsersUid({ cursor: answer.nextCursor, limit: 50 });
      everything.push(...answer.uidList);
    }
    expect(answer).not.toHaveProperty("nextCursor");
    expect(everything).toEqual(expect.arrayContaining([...page.uidList, ...next.uidList]));

    await expect(client.getAllUsersUid({ cursor: "not a cursor" })).rejects.toMatchObject({
      errCode: ErrCode.badRequest,
      status: 400,
    });
    await expect(client.getAllUsersUid({ limit: 1001 })).rejects.toMatchObject({ errCode: 400 });
  });

  it("allUserIds follows nextCursor across pages: every user registered throughout comes once, in order, while users are added", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const prefix = freshUid("iter");
    // Code points whose UTF-16 order differs from their code-point order: U+E000 sorts before U+1F600.
    const throughout = [`${prefix}-a`, `${prefix}-\u{1F600}`, `${prefix}-\uE000`, `${prefix}-B`, `${prefix}-中`];
    for (const uid of throughout) await client.registerUser({ uid, platform: Platform.Web, name: "n" });
    const added: string[] = [];
    const seen: string[] = [];
    for await (const uid of client.allUserIds({ pageSize: 7 })) {
      seen.push(uid);
      // Users registered while the loop runs: "0…" sorts behind the cursor, "~…" ahead of it.
      if (seen.length % 10 === 0 && added.length < 6) {
        const late = `${added.length % 2 === 0 ? "0" : "~"}-${prefix}-added-${added.length}`;
        await client.registerUser({ uid: late, platform: Platform.Web, name: "late" });
        added.push(late);
      }
    }
    expect(added.length).toBeGreaterThan(0);
    expect(tracked.calls.filter((route) => route === "/manager/get_all_users_uid").length).toBeGreaterThan(1);
    for (const uid of throughout)
      expect(
        seen.filter((s) => s === uid),
        uid,
      ).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort(byCodePoint));
    expect(seen.filter((uid) => throughout.includes(uid))).toEqual([...throughout].sort(byCodePoint));
  });

  it("allUserIds fetches a page only when the loop asks for more", async () => {
    const tracked = scriptedFetch(() => "pass");
    await registered(3, "lazy");
    for await (const _ of appServer({ fetch: tracked.fetch }).allUserIds({ pageSize: 2 })) break;
    expect(tracked.calls).toEqual(["/manager/get_all_users_uid"]);
  });
});

describe("AppServerClient: deleting users", () => {
  it("deleteUsers erases the users, closes their sessions with 4005 and lists the uids that were not registered", async () => {
    const client = appServer();
    const [gone, alsoGone] = await registered(2, "del");
    const ghost = freshUid("ghost");
    const { token } = await client.getUserToken({ uid: gone as string, platform: Platform.Android });
    const session = connect({ url: workerUrl(), uid: gone as string, token, platform: Platform.Android });
    const events = recordEvents(session);
    await eventually("open", () => events.pong.length > 0);

    const result = await client.deleteUsers([gone as string, ghost, gone as string, alsoGone as string]);
    expect(result).toEqual({ failedUidList: [ghost] });
    expect(await client.getUserInfo([gone as string, alsoGone as string])).toEqual([]);
    expect((await client.accountCheck([gone as string])).map((entry) => entry.accountStatus)).toEqual(["unregistered"]);
    await expect(client.getUserToken({ uid: gone as string, platform: 1 })).rejects.toMatchObject({ errCode: 602 });
    await eventually("closed with 4005", () => events.closed.some((close) => close.code === 4005));
    expect(await client.deleteUsers([gone as string])).toEqual({ failedUidList: [gone] });
    expect(await client.deleteUsers([])).toEqual({ failedUidList: [] });
  });

  it("deleteUsers sends batches of 100, one after another, and lists each unregistered uid once", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const [early, late] = await registered(2, "batch");
    const unknown = Array.from({ length: 150 }, (_, i) => `nobody-del-${i}`);
    const uids = [early as string, ...unknown, late as string, ...unknown.slice(0, 10)];
    const result = await client.deleteUsers(uids);
    expect(tracked.calls).toEqual(Array(2).fill("/manager/delete_user"));
    expect(result.failedUidList).toEqual(unknown);
    expect((await client.accountCheck([early as string, late as string])).map((e) => e.accountStatus)).toEqual([
      "unregistered",
      "unregistered",
    ]);
  });

  it("deleteUsers is retried after a 500 and after a lost answer; after a lost answer the deleted uid reads as not registered", async () => {
    const [first, second] = await registered(2, "retry");
    const busy = scriptedFetch((_, call) =>
      call === 1 ? Response.json({ errCode: 500, errMsg: "internal error" }, { status: 500 }) : "pass",
    );
    expect(await appServer({ fetch: busy.fetch, retry: fastRetry }).deleteUsers([first as string])).toEqual({
      failedUidList: [],
    });
    expect(busy.calls).toHaveLength(2);

    const lost = scriptedFetch((_, call) => (call === 1 ? "fail-after" : "pass"));
    const result = await appServer({ fetch: lost.fetch, retry: fastRetry }).deleteUsers([second as string]);
    expect(lost.calls).toHaveLength(2);
    // The first attempt deleted it; the retry found it not registered.
    expect(result).toEqual({ failedUidList: [second] });
    expect((await appServer().accountCheck([second as string]))[0]?.accountStatus).toBe("unregistered");
  });
});

describe("AppServerClient: bans", () => {
  it("banUser with a Date: user_token throws 603 naming the end, getUserInfo shows bannedUntil and banReason; liftBan ends it", async () => {
    const client = appServer();
    const [uid] = (await registered(1, "ban")) as [string];
    const end = new Date(Date.now() + 3_600_500);
    const until = Math.ceil(end.getTime() / 1000);
    await client.banUser({ uid, until: end, reason: "spam" });
    const refused = await client.getUserToken({ uid, platform: Platform.Web }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImApiError);
    expect(refused).toMatchObject({ errCode: ErrCode.banned, status: 403 });
    expect((refused as ImApiError).errMsg).toContain(String(until));
    expect((await client.getUserInfo([uid]))[0]).toMatchObject({ bannedUntil: until, banReason: "spam" });

    await client.liftBan({ uid });
    expect((await client.getUserToken({ uid, platform: Platform.Web })).uid).toBe(uid);
    expect((await client.getUserInfo([uid]))[0]).not.toHaveProperty("bannedUntil");
    expect((await client.getUserInfo([uid]))[0]).not.toHaveProperty("banReason");
  });

  it("banUser with Unix seconds; 0 lifts; a repeat changes nothing; an unknown uid is 602; an invalid Date throws before sending", async () => {
    const tracked = scriptedFetch(() => "pass");
    const client = appServer({ fetch: tracked.fetch });
    const [uid] = (await registered(1, "ban")) as [string];
    const until = nowSeconds() + 600;
    await client.banUser({ uid, until });
    await client.banUser({ uid, until });
    expect((await client.getUserInfo([uid]))[0]?.bannedUntil).toBe(until);
    await client.banUser({ uid, until: 0 });
    expect((await client.getUserInfo([uid]))[0]).not.toHaveProperty("bannedUntil");
    await expect(client.banUser({ uid: freshUid("ghost"), until })).rejects.toMatchObject({
      errCode: ErrCode.notRegistered,
      status: 404,
    });
    const calls = tracked.calls.length;
    await expect(client.banUser({ uid, until: new Date(Number.NaN) })).rejects.toThrow(RangeError);
    expect(tracked.calls).toHaveLength(calls);
    // A reason over 128 characters is the server's 400.
    await expect(client.banUser({ uid, until, reason: "x".repeat(129) })).rejects.toMatchObject({ errCode: 400 });
  });

  it("banUser is retried after a lost answer", async () => {
    const lost = scriptedFetch((_, call) => (call === 1 ? "fail-after" : "pass"));
    const [uid] = (await registered(1, "ban")) as [string];
    const until = nowSeconds() + 600;
    await appServer({ fetch: lost.fetch, retry: fastRetry }).banUser({ uid, until });
    expect(lost.calls).toHaveLength(2);
    expect((await appServer().getUserInfo([uid]))[0]?.bannedUntil).toBe(until);
  });
});

describe("AppServerClient: sessions", () => {
  it("getUserSessions lists the open sessions; forceLogout with a connID ends that one only", async () => {
    const client = appServer();
    const [uid] = (await registered(1, "sess")) as [string];
    const open = async (platform: 1 | 5) => {
      const { token } = await client.getUserToken({ uid, platform });
      const session = connect({ url: workerUrl(), uid, token, platform });
      const events = recordEvents(session);
      await eventually(`open on ${platform}`, () => events.pong.length > 0);
      return { session, events };
    };
    const phone = await open(Platform.IOS);
    const web = await open(Platform.Web);
    try {
      const sessions = await client.getUserSessions({ uid });
      expect(sessions.map((s) => [s.platformID, s.platform]).sort()).toEqual([
        [1, "IOS"],
        [5, "Web"],
      ]);
      for (const s of sessions) {
        expect(s.connID).toEqual(expect.any(String));
        expect(s.lastActiveAt).toBeGreaterThanOrEqual(s.connectedAt);
        expect(Math.abs(s.connectedAt - Date.now())).toBeLessThan(60_000);
      }
      const webSession = sessions.find((s) => s.platform === "Web");
      if (!webSession) throw new Error("no Web session listed");

      const wrong = await client
        .forceLogout({ uid, platform: Platform.Web, connID: "no-such-conn" })
        .catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ImApiError);
      expect(wrong).toMatchObject({ errCode: ErrCode.noSuchSession, status: 404 });

      await client.forceLogout({ uid, platform: Platform.Web, connID: webSession.connID });
      await eventually("web logged out", () => web.events.kicked.length === 1);
      expect(web.events.kicked[0]).toMatchObject({ code: 4002, reason: "logged_out" });
      await eventually("one session left", async () => (await client.getUserSessions({ uid })).length === 1);
      expect((await client.getUserSessions({ uid })).map((s) => s.platform)).toEqual(["IOS"]);
      expect(phone.session.state).toBe("open");
    } finally {
      phone.session.close();
      web.session.close();
    }
    await expect(client.getUserSessions({ uid: freshUid("ghost") })).rejects.toMatchObject({ errCode: 602 });
  });

  it("never retries forceLogout with a connID: after a lost answer a repeat would be 604", async () => {
    const lost = scriptedFetch(() => "fail-after");
    const [uid] = (await registered(1, "sess")) as [string];
    const error = await appServer({ fetch: lost.fetch, retry: fastRetry })
      .forceLogout({ uid, platform: Platform.Web, connID: "whatever" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImNetworkError);
    expect(error).toMatchObject({ attempts: 1 });
    expect(lost.calls).toEqual(["/auth/force_logout"]);
  });
});
