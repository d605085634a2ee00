// Managing users (docs/api.md): profiles, account checks, paging every uid, bans, sessions and
// logging out one device, through HTTP and real sockets. Deletion has a file of its own.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/lib/cursor";
import { connect, freshUid, onlineStatus, post, refusedConnect, register, SECRET, sleep, tokenFor } from "../helpers";
import { sessionStub } from "../presence/helpers";

const ids = (n: number, prefix = freshUid("many")) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe("POST /user/get_user_info", () => {
  it("answers registered users in request order, each once, and leaves unknown uids out", async () => {
    const [a, b] = [freshUid("a"), freshUid("b")];
    await register(a, { name: "Ada", email: "ada@example.com", gender: 2, ex: "{}" });
    await register(b, { name: "Bob", icon: "https://example.com/b.png", mobile: "+1 555", birth: "1990-01-01" });
    const before = Math.floor(Date.now() / 1000);
    const answer = await post("/user/get_user_info", { secret: SECRET, uidList: [b, "nobody-here", a, b] });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      errCode: 0,
      errMsg: "",
      data: [
        {
          uid: b,
          name: "Bob",
          icon: "https://example.com/b.png",
          gender: 0,
          mobile: "+1 555",
          birth: "1990-01-01",
          email: "",
          ex: "",
          createTime: expect.any(Number),
        },
        {
          uid: a,
          name: "Ada",
          icon: "",
          gender: 2,
          mobile: "",
          birth: "",
          email: "ada@example.com",
          ex: "{}",
          createTime: expect.any(Number),
        },
      ],
    });
    const createTime = (answer.body.data as { createTime: number }[])[0]!.createTime;
    expect(Math.abs(createTime - before)).toBeLessThanOrEqual(5);
  });

  it("refuses an empty list, more than 200 uids, and a list that is not one (400 naming the field)", async () => {
    for (const [uidList, rule] of [
      [[], /uidList: must name at least one uid/],
      [ids(201), /uidList: at most 200 uids/],
      ["abc", /uidList: must be an array of uids/],
      [null, /uidList: must be an array of uids, not null/],
    ] as const) {
      const answer = await post("/user/get_user_info", { secret: SECRET, uidList });
      expect(answer.status).toBe(400);
      expect(answer.body.errMsg).toMatch(rule);
    }
  });
});

describe("POST /user/update_user_info", () => {
  it("sets the fields given, clears one given as an empty string, and leaves the others as they were", async () => {
    const uid = freshUid();
    await register(uid, { name: "Before", email: "old@example.com", mobile: "123" });
    const answer = await post("/user/update_user_info", { secret: SECRET, uid, name: "After", email: "" });
    expect(answer.body).toEqual({ errCode: 0, errMsg: "" });
    const [user] = (await post("/user/get_user_info", { secret: SECRET, uidList: [uid] })).body.data as {
      name: string;
      email: string;
      mobile: string;
    }[];
    expect(user).toMatchObject({ name: "After", email: "", mobile: "123" });
  });

  it("lands both of two concurrent updates of different fields", async () => {
    const uid = freshUid();
    await register(uid);
    for (let round = 0; round < 5; round++) {
      const [one, two] = await Promise.all([
        post("/user/update_user_info", { secret: SECRET, uid, name: `name-${round}` }),
        post("/user/update_user_info", { secret: SECRET, uid, ex: `ex-${round}` }),
      ]);
      expect([one.body.errCode, two.body.errCode]).toEqual([0, 0]);
      const [user] = (await post("/user/get_user_info", { secret: SECRET, uidList: [uid] })).body.data as object[];
      expect(user).toMatchObject({ name: `name-${round}`, ex: `ex-${round}` });
    }
  });

  it("refuses no field to change, a field that breaks its rule, and null; an unknown uid is 404/602", async () => {
    const uid = freshUid();
    await register(uid);
    const noField = await post("/user/update_user_info", { secret: SECRET, uid });
    expect(noField.status).toBe(400);
    expect(noField.body.errMsg).toMatch(/at least one of name, icon, gender, mobile, birth, email, ex/);
    const tooLong = await post("/user/update_user_info", { secret: SECRET, uid, name: "x".repeat(65) });
    expect(tooLong.body).toMatchObject({ errCode: 400, errMsg: "name: at most 64 characters" });
    const badGender = await post("/user/update_user_info", { secret: SECRET, uid, gender: 3 });
    expect(badGender.status).toBe(400);
    const nulled = await post("/user/update_user_info", { secret: SECRET, uid, name: null });
    expect(nulled.status).toBe(400);
    const unknown = await post("/user/update_user_info", { secret: SECRET, uid: freshUid("ghost"), name: "x" });
    expect([unknown.status, unknown.body.errCode]).toEqual([404, 602]);
  });
});

describe("POST /manager/account_check", () => {
  it("answers registered or unregistered for each id asked, in order, duplicates kept", async () => {
    const uid = freshUid();
    await register(uid);
    const answer = await post("/manager/account_check", { secret: SECRET, userIDList: [uid, "nobody", uid] });
    expect(answer.body).toEqual({
      errCode: 0,
      errMsg: "",
      result: [
        { userID: uid, accountStatus: "registered" },
        { userID: "nobody", accountStatus: "unregistered" },
        { userID: uid, accountStatus: "registered" },
      ],
    });
    const tooMany = await post("/manager/account_check", { secret: SECRET, userIDList: ids(101) });
    expect(tooMany.body).toMatchObject({ errCode: 400, errMsg: "userIDList: at most 100 uids" });
  });
});

describe("POST /manager/get_all_users_uid", () => {
  async function allPages(limit: number, during?: (page: number) => Promise<void>): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; ; page++) {
      const answer = await post("/manager/get_all_users_uid", { secret: SECRET, limit, ...(cursor ? { cursor } : {}) });
      expect(answer.body.errCode, JSON.stringify(answer.body)).toBe(0);
      const { uidList, nextCursor } = answer.body as unknown as { uidList: string[]; nextCursor?: string };
      expect(uidList.length).toBeLessThanOrEqual(limit);
      seen.push(...uidList);
      await during?.(page);
      if (nextCursor === undefined) return seen;
      cursor = nextCursor;
    }
  }

  it("pages every user registered throughout exactly once, in code-point order, while users are added", async () => {
    const prefix = freshUid("page");
    // Code points that UTF-16 order would sort differently: U+E000 after U+1F600 in UTF-16, before it by code point.
    const throughout = [`${prefix}-a`, `${prefix}-\u{1F600}`, `${prefix}-\uE000`, `${prefix}-B`, `${prefix}-中`];
    for (const uid of throughout) await register(uid);
    const added: string[] = [];
    const seen = await allPages(7, async (page) => {
      if (page % 3 !== 0) return;
      const uid = `${prefix}-added-${page}`;
      await register(uid);
      added.push(uid);
    });
    for (const uid of throughout)
      expect(
        seen.filter((s) => s === uid),
        uid,
      ).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
    const byCodePoint = (a: string, b: string) => {
      const [x, y] = [[...a].map((c) => c.codePointAt(0)!), [...b].map((c) => c.codePointAt(0)!)];
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    expect(seen).toEqual([...seen].sort(byCodePoint));
    const mine = seen.filter((uid) => throughout.includes(uid));
    expect(mine).toEqual([...throughout].sort(byCodePoint));
  });

  it("answers the last page without nextCursor, and a malformed cursor or limit with 400", async () => {
    const all = await post("/manager/get_all_users_uid", { secret: SECRET });
    expect(all.body.errCode).toBe(0);
    const list = all.body.uidList as string[];
    const last = await post("/manager/get_all_users_uid", {
      secret: SECRET,
      cursor: encodeCursor(list.at(-1)!),
    });
    expect(last.body).toEqual({ errCode: 0, errMsg: "", uidList: [] });
    for (const body of [
      { cursor: "not a cursor" },
      { cursor: "c1.!!" },
      { cursor: "" },
      { cursor: 5 },
      { limit: 0 },
      { limit: 1001 },
      { limit: 1.5 },
    ]) {
      const answer = await post("/manager/get_all_users_uid", { secret: SECRET, ...body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("POST /manager/ban_user", () => {
  it("refuses tokens (403/603) and handshakes (401/706), closes open sessions with 4006, and keeps the profile", async () => {
    const uid = freshUid();
    const { token } = await register(uid, { name: "Mallory" });
    const socket = await connect(uid, token, 1);
    socket.send("ping");
    const until = Math.floor(Date.now() / 1000) + 3600;
    const ban = await post("/manager/ban_user", { secret: SECRET, uid, until, reason: "spam" });
    expect(ban.body).toEqual({ errCode: 0, errMsg: "" });
    expect(await socket.closedWithin(2_000)).toEqual({ code: 4006, reason: `banned until ${until}` });

    const refusedToken = await post("/auth/user_token", { secret: SECRET, uid, platform: 1 });
    expect([refusedToken.status, refusedToken.body.errCode]).toEqual([403, 603]);
    expect(refusedToken.body.errMsg).toContain(String(until));
    const handshake = await refusedConnect({ sendID: uid, token, platformID: 1 });
    expect([handshake.status, handshake.body.errCode]).toEqual([401, 706]);
    expect((await onlineStatus([uid]))[0]?.status).toBe("offline");

    expect((await post("/auth/user_register", { secret: SECRET, platform: 1, uid, name: "again" })).body.errCode).toBe(
      601,
    );
    const [info] = (await post("/user/get_user_info", { secret: SECRET, uidList: [uid] })).body.data as object[];
    expect(info).toMatchObject({ name: "Mallory", bannedUntil: until, banReason: "spam" });
  });

  it("ends by itself at `until`, with no call and no alarm; a ban lifted with 0 ends at once", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    const until = Math.ceil(Date.now() / 1000) + 2;
    expect((await post("/manager/ban_user", { secret: SECRET, uid, until })).body.errCode).toBe(0);
    expect((await refusedConnect({ sendID: uid, token, platformID: 1 })).body.errCode).toBe(706);
    // Nothing is scheduled for the end of the ban: every check compares it with the clock.
    expect(await runInDurableObject(sessionStub(uid), (_i, state) => state.storage.getAlarm())).toBeNull();
    await sleep(until * 1000 - Date.now() + 100);
    const socket = await connect(uid, token, 1);
    socket.send("ping");
    expect((await post("/auth/user_token", { secret: SECRET, uid, platform: 1 })).body.errCode).toBe(0);
    const [info] = (await post("/user/get_user_info", { secret: SECRET, uidList: [uid] })).body.data as object[];
    expect(info).not.toHaveProperty("bannedUntil");
    socket.close();

    const again = Math.floor(Date.now() / 1000) + 3600;
    expect((await post("/manager/ban_user", { secret: SECRET, uid, until: again })).body.errCode).toBe(0);
    expect((await post("/manager/ban_user", { secret: SECRET, uid, until: 0 })).body.errCode).toBe(0);
    expect((await post("/auth/user_token", { secret: SECRET, uid, platform: 5 })).body.errCode).toBe(0);
    (await connect(uid, await tokenFor(uid, 5), 5)).close();
  });

  it("refuses an unknown uid (404/602) and a bad until or reason (400)", async () => {
    const unknown = await post("/manager/ban_user", { secret: SECRET, uid: freshUid("ghost"), until: 1 });
    expect([unknown.status, unknown.body.errCode]).toEqual([404, 602]);
    const uid = freshUid();
    await register(uid);
    for (const body of [{ until: -1 }, { until: "1" }, { until: 1, reason: "x".repeat(129) }, {}]) {
      expect((await post("/manager/ban_user", { secret: SECRET, uid, ...body })).status, JSON.stringify(body)).toBe(
        400,
      );
    }
  });
});

describe("sessions: POST /manager/get_user_sessions and force_logout of one connID", () => {
  it("lists one entry per open session, with its last frame (pings included)", async () => {
    const uid = freshUid();
    await register(uid);
    const phone = await connect(uid, await tokenFor(uid, 1), 1);
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    const answer = await post("/manager/get_user_sessions", { secret: SECRET, uid });
    const sessions = answer.body.data as {
      connID: string;
      platformID: number;
      platform: string;
      connectedAt: number;
      lastActiveAt: number;
    }[];
    expect(sessions.map((s) => [s.platformID, s.platform])).toEqual([
      [1, "IOS"],
      [5, "Web"],
    ]);
    expect(new Set(sessions.map((s) => s.connID)).size).toBe(2);
    await sleep(50);
    web.send("ping");
    await web.message(0);
    const later = (await post("/manager/get_user_sessions", { secret: SECRET, uid })).body.data as typeof sessions;
    const webLater = later.find((s) => s.platform === "Web")!;
    expect(webLater.lastActiveAt).toBeGreaterThan(sessions[1]!.lastActiveAt);
    expect(webLater.connectedAt).toBe(sessions[1]!.connectedAt);
    phone.close();
    web.close();
    const unknown = await post("/manager/get_user_sessions", { secret: SECRET, uid: freshUid("ghost") });
    expect([unknown.status, unknown.body.errCode]).toEqual([404, 602]);
  });

  it("force_logout with a connID closes that session only (4002) and invalidates only its token", async () => {
    const uid = freshUid();
    await register(uid, { platform: 5 });
    const [tabToken, otherToken] = [await tokenFor(uid, 5), await tokenFor(uid, 1)];
    const tab = await connect(uid, tabToken, 5);
    const other = await connect(uid, otherToken, 1);
    const sessions = (await post("/manager/get_user_sessions", { secret: SECRET, uid })).body.data as {
      connID: string;
      platformID: number;
    }[];
    const tabSession = sessions.find((s) => s.platformID === 5)!;

    const wrongPlatform = await post("/auth/force_logout", {
      secret: SECRET,
      uid,
      platform: 1,
      connID: tabSession.connID,
    });
    expect([wrongPlatform.status, wrongPlatform.body.errCode]).toEqual([404, 604]);
    const unknown = await post("/auth/force_logout", { secret: SECRET, uid, platform: 5, connID: "no-such-conn" });
    expect([unknown.status, unknown.body.errCode]).toEqual([404, 604]);

    const done = await post("/auth/force_logout", { secret: SECRET, uid, platform: 5, connID: tabSession.connID });
    expect(done.body).toEqual({ errCode: 0, errMsg: "" });
    expect((await tab.closedWithin(2_000)).code).toBe(4002);
    expect((await refusedConnect({ sendID: uid, token: tabToken, platformID: 5 })).body.errCode).toBe(702);
    // A fresh Web token works: only that one token was retired, not the platform.
    (await connect(uid, await tokenFor(uid, 5), 5)).close();
    other.send("ping");
    expect(await other.message(0)).toBe("pong");
    expect((await onlineStatus([uid]))[0]?.detailPlatformStatus).toEqual([
      { platform: "IOS", status: "online", isBackground: false },
    ]);
    other.close();
  });
});

describe("the user's D1 row and its object agree", () => {
  it("a user banned in D1 is banned in its object, whichever call comes first after", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    await post("/manager/ban_user", { secret: SECRET, uid, until: Math.floor(Date.now() / 1000) + 60 });
    const row = await env.DB.prepare("SELECT banned_until FROM users WHERE uid = ?").bind(uid).first();
    expect(row).toMatchObject({ banned_until: expect.any(Number) });
    expect((await refusedConnect({ sendID: uid, token, platformID: 1 })).body.errCode).toBe(706);
  });
});
