import { describe, expect, it } from "vitest";
import { connectQuery } from "../../src/schemas";
import { freshUid, onlineStatus, post, SECRET } from "../helpers";

const LONE_SURROGATE = "uid: must be well-formed Unicode (no lone surrogates)";

describe("uids that are not well-formed UTF-16 (lone surrogates)", () => {
  const uid = `ls\ud800x-${freshUid()}`;

  for (const [path, body] of [
    ["/auth/user_register", { secret: SECRET, platform: 1, uid, name: "n" }],
    ["/auth/user_token", { secret: SECRET, platform: 1, uid }],
    ["/auth/force_logout", { secret: SECRET, platform: 1, uid }],
  ] as const) {
    it(`are refused by ${path} with 400 naming the rule`, async () => {
      const answer = await post(path, body);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ errCode: 400, errMsg: LONE_SURROGATE });
    });
  }

  it("are refused in a status list with 400 naming the entry", async () => {
    const answer = await post("/user/get_users_online_status", { secret: SECRET, userIDList: ["ok", "\udc00"] });
    expect(answer.status).toBe(400);
    expect(answer.body.errMsg).toBe("userIDList.1: must be well-formed Unicode (no lone surrogates)");
  });

  it("are refused as the connect query's sendID", () => {
    const parsed = connectQuery.safeParse({ sendID: uid, token: "t", platformID: "1" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual(["must be well-formed Unicode (no lone surrogates)"]);
  });

  it("are told apart from a surrogate pair, which is one character", async () => {
    const emoji = `😀-${freshUid()}`;
    expect(
      (await post("/auth/user_register", { secret: SECRET, platform: 1, uid: emoji, name: "n" })).body.errCode,
    ).toBe(0);
  });
});

describe("look-alike uids at registration", () => {
  const refused: [string, string, string][] = [
    [
      "zero-width space U+200B",
      "ab\u200Bc",
      "must not contain invisible format characters or line/paragraph separators (Unicode Cf, Zl, Zp)",
    ],
    [
      "right-to-left override U+202E",
      "evil\u202Etxt.exe",
      "must not contain invisible format characters or line/paragraph separators (Unicode Cf, Zl, Zp)",
    ],
    [
      "byte order mark U+FEFF",
      "\uFEFFbom",
      "must not contain invisible format characters or line/paragraph separators (Unicode Cf, Zl, Zp)",
    ],
    [
      "line separator U+2028",
      "line\u2028sep",
      "must not contain invisible format characters or line/paragraph separators (Unicode Cf, Zl, Zp)",
    ],
    [
      "paragraph separator U+2029",
      "para\u2029sep",
      "must not contain invisible format characters or line/paragraph separators (Unicode Cf, Zl, Zp)",
    ],
    ["decomposed é (NFD)", "caf\u0065\u0301", "must be NFC-normalized Unicode"],
  ];
  for (const [what, base, rule] of refused) {
    it(`refuses a uid with a ${what} with 400 naming the rule`, async () => {
      const answer = await post("/auth/user_register", {
        secret: SECRET,
        platform: 1,
        uid: `${base}-${freshUid()}`,
        name: "n",
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ errCode: 400, errMsg: `uid: ${rule}` });
    });
  }

  it("accepts the composed (NFC) spelling of the same id", async () => {
    const answer = await post("/auth/user_register", {
      secret: SECRET,
      platform: 1,
      uid: `caf\u00e9-${freshUid()}`,
      name: "n",
    });
    expect(answer.body.errCode).toBe(0);
  });

  it("keeps ids opaque on the other routes: one that could never be registered is simply unknown", async () => {
    const lookAlike = `caf\u0065\u0301\u200B-${freshUid()}`;
    expect((await post("/auth/user_token", { secret: SECRET, platform: 1, uid: lookAlike })).body.errCode).toBe(602);
    expect((await post("/auth/force_logout", { secret: SECRET, platform: 1, uid: lookAlike })).body.errCode).toBe(602);
    expect(await onlineStatus([lookAlike])).toEqual([{ userID: lookAlike, status: "offline" }]);
  });
});
