import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { connectQuery } from "../../src/schemas";
import { insertUser } from "../../src/storage/users";
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

// The rules' wording, as registration's 400 names them (docs/security.md#uid-rules).
const RULE = {
  control: "must not contain control characters (Unicode Cc)",
  format: "must not contain format characters (Unicode Cf: zero-width, joiners, bidi controls, BOM)",
  whiteSpace:
    "must not contain white space (Unicode White_Space: spaces of any width, NBSP, U+3000, line and paragraph separators)",
  ignorable:
    "must not contain default-ignorable characters (Unicode Default_Ignorable_Code_Point: fillers, variation selectors, U+034F)",
  nfkc: "must be unchanged by NFKC (no fullwidth, mathematical, ligature or other compatibility forms, no decomposed letters)",
};

const registerAnswer = (uid: string) => post("/auth/user_register", { secret: SECRET, platform: 1, uid, name: "n" });

describe("look-alike uids at registration", () => {
  // [what, the uid (a fresh suffix is added), the rule it breaks first]
  const refused: [string, string, string][] = [
    ["a tab", "tab\tx", RULE.control],
    ["a NUL", "nul\u0000x", RULE.control],
    ["an ESC", "esc\u001Bx", RULE.control],
    ["a zero-width space U+200B", "ab\u200Bc", RULE.format],
    ["a zero-width joiner U+200D", "ab\u200Dc", RULE.format],
    ["a family emoji (joined with U+200D)", "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}", RULE.format],
    ["a right-to-left override U+202E", "evil\u202Etxt.exe", RULE.format],
    ["a byte order mark U+FEFF", "\uFEFFbom", RULE.format],
    ["a soft hyphen U+00AD", "soft\u00ADhyphen", RULE.format],
    ["a space", "ali ce", RULE.whiteSpace],
    ["a no-break space U+00A0", "ali\u00A0ce", RULE.whiteSpace],
    ["an ideographic space U+3000", "ali\u3000ce", RULE.whiteSpace],
    ["an en quad U+2000", "ali\u2000ce", RULE.whiteSpace],
    ["a hair space U+200A", "ali\u200Ace", RULE.whiteSpace],
    ["a line separator U+2028", "line\u2028sep", RULE.whiteSpace],
    ["a paragraph separator U+2029", "para\u2029sep", RULE.whiteSpace],
    ["a Hangul filler U+3164", "ali\u3164ce", RULE.ignorable],
    ["a Hangul choseong filler U+115F", "ali\u115Fce", RULE.ignorable],
    ["a halfwidth Hangul filler U+FFA0", "ali\uFFA0ce", RULE.ignorable],
    ["a combining grapheme joiner U+034F", "ali\u034Fce", RULE.ignorable],
    ["a variation selector U+FE0F", "heart\u2764\uFE0F", RULE.ignorable],
    ["fullwidth letters", "\uFF41\uFF4C\uFF49\uFF43\uFF45", RULE.nfkc],
    ["mathematical bold letters", "\u{1D41A}\u{1D425}\u{1D422}\u{1D41C}\u{1D41E}", RULE.nfkc],
    ["the fi ligature U+FB01", "\uFB01le", RULE.nfkc],
    ["a superscript two", "x\u00B2", RULE.nfkc],
    ["a circled digit", "\u2460alice", RULE.nfkc],
    ["the Kelvin sign U+212A", "\u212Aelvin", RULE.nfkc],
    ["a decomposed é (NFD)", "caf\u0065\u0301", RULE.nfkc],
  ];
  for (const [what, base, rule] of refused) {
    it(`refuses a uid with ${what} with 400 naming the rule`, async () => {
      const answer = await registerAnswer(`${base}-${freshUid()}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ errCode: 400, errMsg: `uid: ${rule}` });
    });
  }

  it("refuses a trailing space, so that 'alice ' cannot pass for 'alice'", async () => {
    const answer = await registerAnswer(`${freshUid()} `);
    expect(answer.body).toEqual({ errCode: 400, errMsg: `uid: ${RULE.whiteSpace}` });
  });

  const accepted: [string, string][] = [
    ["CJK", "张三"],
    ["Hangul syllables", "한국"],
    ["an emoji", "😀"],
    ["composed (NFC) accents", "caf\u00e9-Zo\u00eb-Jos\u00e9-\u00c5ngstr\u00f6m"],
    ["hyphen, underscore and dot", "a-b_c.d"],
    ["Cyrillic and Greek", "\u0430\u043b\u0438\u0441\u0430-\u03b1"],
  ];
  for (const [what, base] of accepted) {
    it(`registers a uid with ${what}`, async () => {
      const answer = await registerAnswer(`${base}-${freshUid()}`);
      expect(answer.body.errCode, JSON.stringify(answer.body)).toBe(0);
    });
  }

  it("keeps ids opaque on the other routes: one registration would refuse is simply unknown (602/offline), not a 400", async () => {
    for (const lookAlike of [
      `${freshUid()} `,
      `\uFF41${freshUid()}`,
      `ali\u3164${freshUid()}`,
      `caf\u0065\u0301\u200B-${freshUid()}`,
    ]) {
      for (const path of ["/auth/user_token", "/auth/force_logout"]) {
        const answer = await post(path, { secret: SECRET, platform: 1, uid: lookAlike });
        expect(answer.status, `${path} ${JSON.stringify(lookAlike)}`).toBe(404);
        expect(answer.body.errCode).toBe(602);
      }
      expect(await onlineStatus([lookAlike])).toEqual([{ userID: lookAlike, status: "offline" }]);
    }
  });

  it("keeps an id registered before these rules working: it gets tokens, reads online, and is logged out", async () => {
    // Written straight to D1, as a registration under the earlier rules left it.
    const uid = `${freshUid("legacy")} `;
    const profile = { name: "legacy", icon: "", gender: 0, mobile: "", birth: "", email: "", ex: "" };
    expect(await insertUser(env.DB, { uid, ...profile, registeredPlatform: 1, createdAtMs: Date.now() })).toBe(true);
    const token = await post("/auth/user_token", { secret: SECRET, platform: 1, uid });
    expect(token.body.errCode).toBe(0);
    expect(await onlineStatus([uid])).toEqual([{ userID: uid, status: "offline" }]);
    expect((await post("/auth/force_logout", { secret: SECRET, platform: 1, uid })).body.errCode).toBe(0);
  });
});
