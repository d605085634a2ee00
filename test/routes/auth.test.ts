import { env } from "cloudflare:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { findUser } from "../../src/storage/users";
import { connect, freshUid, post, register, SECRET } from "../helpers";

const SEVEN_DAYS = 7 * 24 * 3600;

function registerBody(uid: string, fields: Record<string, unknown> = {}) {
  return { secret: SECRET, platform: 1, uid, name: "张三", ...fields };
}

describe("POST /auth/user_register", () => {
  it("stores the user with every profile field and answers with a token for (uid, platform)", async () => {
    const uid = freshUid();
    const before = Date.now();
    const profile = {
      icon: "https://oss.example/head.png",
      gender: 1,
      mobile: "+852-12345678",
      birth: "1998.12.15",
      email: "x@example.com",
      ex: '{"level":3}',
    };
    const answer = await post("/auth/user_register", registerBody(uid, { platform: 2, ...profile }));

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ errCode: 0, errMsg: "", data: { uid } });
    const data = answer.body.data as { token: string; expiredTime: number };
    const nowSeconds = Math.floor(Date.now() / 1000);
    expect(data.expiredTime).toBeGreaterThanOrEqual(Math.floor(before / 1000) + SEVEN_DAYS);
    expect(data.expiredTime).toBeLessThanOrEqual(nowSeconds + SEVEN_DAYS);

    const claims = decodeJwt(data.token);
    expect(claims).toMatchObject({ sub: uid, plt: 2, exp: data.expiredTime });
    expect(decodeProtectedHeader(data.token)).toMatchObject({ alg: "HS256", kid: expect.any(String) });

    const stored = await findUser(env.DB, uid);
    expect(stored).toMatchObject({ uid, name: "张三", ...profile, registeredPlatform: 2 });
    expect(stored!.createdAtMs).toBeGreaterThanOrEqual(before);
    expect(stored!.createdAtMs).toBeLessThanOrEqual(Date.now());
  });

  it("defaults the optional fields and accepts an empty name", async () => {
    const uid = freshUid();
    await register(uid, { name: "" });
    expect(await findUser(env.DB, uid)).toMatchObject({
      name: "",
      icon: "",
      gender: 0,
      mobile: "",
      birth: "",
      email: "",
      ex: "",
    });
  });

  it("refuses a uid that exists with 409/601 and leaves the stored profile exactly as it was", async () => {
    const uid = freshUid();
    await register(uid, { name: "first", email: "first@example.com" });
    const before = await findUser(env.DB, uid);

    const again = await post(
      "/auth/user_register",
      registerBody(uid, { name: "second", email: "second@example.com", gender: 2 }),
    );
    expect(again.status).toBe(409);
    expect(again.body.errCode).toBe(601);
    expect(again.body.errMsg).toMatch(/already registered/);
    expect(await findUser(env.DB, uid)).toEqual(before);
  });

  it("lets exactly one of many concurrent registers of one uid win", async () => {
    const uid = freshUid("race");
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post("/auth/user_register", registerBody(uid, { name: `racer-${i}` }))),
    );
    const codes = answers.map((a) => a.body.errCode);
    expect(codes.filter((c) => c === 0)).toHaveLength(1);
    expect(codes.filter((c) => c === 601)).toHaveLength(11);
    const winner = answers.findIndex((a) => a.body.errCode === 0);
    expect((await findUser(env.DB, uid))?.name).toBe(`racer-${winner}`);
  });

  it("counts characters as code points and icon as UTF-8 bytes", async () => {
    const cjk64 = "张".repeat(64);
    const ok = await post(
      "/auth/user_register",
      registerBody(`${freshUid()}-ok`, { name: cjk64, icon: "图".repeat(341) }),
    );
    expect(ok.body.errCode).toBe(0); // 64 characters (192 bytes) of name; 1023 bytes of icon

    const emojiUid = "😀".repeat(64); // 64 code points, 128 UTF-16 units
    expect((await post("/auth/user_register", registerBody(emojiUid))).body.errCode).toBe(0);

    const tooLongName = await post("/auth/user_register", registerBody(freshUid(), { name: "张".repeat(65) }));
    expect(tooLongName.status).toBe(400);
    expect(tooLongName.body.errMsg).toBe("name: at most 64 characters");

    const iconBytes = await post("/auth/user_register", registerBody(freshUid(), { icon: "图".repeat(342) })); // 1026 bytes
    expect(iconBytes.status).toBe(400);
    expect(iconBytes.body.errMsg).toBe("icon: at most 1024 bytes (UTF-8)");
  });

  const limits: [field: string, max: number][] = [
    ["uid", 64],
    ["name", 64],
    ["mobile", 32],
    ["birth", 16],
    ["email", 64],
    ["ex", 1024],
    ["operationID", 64],
  ];
  for (const [field, max] of limits) {
    it(`accepts ${field} at ${max} characters and refuses ${max + 1}`, async () => {
      const at = field === "uid" ? `${freshUid()}`.padEnd(max, "x") : "é".repeat(max);
      const over = field === "uid" ? `${at}x` : `${at}é`;
      const uidAt = field === "uid" ? at : freshUid();
      expect((await post("/auth/user_register", registerBody(uidAt, { [field]: at }))).body.errCode).toBe(0);
      const refused = await post("/auth/user_register", registerBody(freshUid(), { [field]: over }));
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ errCode: 400, errMsg: `${field}: at most ${max} characters` });
    });
  }

  const badValues: [field: string, value: unknown, message: RegExp][] = [
    ["platform", "1", /^platform: must be an integer, not a string/],
    ["platform", 0, /^platform: must be 1–7/],
    ["platform", 8, /^platform: must be 1–7/],
    ["platform", 1.5, /^platform: must be an integer/],
    ["platform", null, /^platform: must be an integer, not null/],
    ["uid", "", /^uid: must not be empty/],
    ["uid", 42, /^uid: must be a string, not a number/],
    ["uid", "bad\u0007uid", /^uid: must not contain control characters/],
    ["uid", "tab\there", /^uid: must not contain control characters/],
    ["name", null, /^name: must be a string, not null/],
    ["gender", 3, /^gender: must be 0 \(unknown\), 1 \(male\) or 2 \(female\)/],
    ["gender", "1", /^gender: must be an integer/],
    ["gender", null, /^gender: must be an integer, not null/],
    ["icon", null, /^icon: must be a string, not null/],
    ["email", ["a"], /^email: must be a string, not an array/],
    ["ex", {}, /^ex: must be a string, not a object/],
    ["operationID", 7, /^operationID: must be a string/],
  ];
  for (const [field, value, message] of badValues) {
    it(`refuses ${field}=${JSON.stringify(value)} with 400 naming the field, and writes nothing`, async () => {
      const uid = freshUid();
      const answer = await post(
        "/auth/user_register",
        registerBody(field === "uid" ? (value as string) : uid, { [field]: value }),
      );
      expect(answer.status).toBe(400);
      expect(answer.body.errCode).toBe(400);
      expect(answer.body.errMsg).toMatch(message);
      expect(await findUser(env.DB, uid)).toBeNull();
    });
  }

  for (const field of ["platform", "uid", "name"]) {
    it(`refuses a body without ${field}`, async () => {
      const body: Record<string, unknown> = registerBody(freshUid());
      delete body[field];
      const answer = await post("/auth/user_register", body);
      expect(answer.status).toBe(400);
      expect(answer.body.errMsg).toBe(`${field}: is required`);
    });
  }

  it("ignores unknown extra fields", async () => {
    const uid = freshUid();
    const answer = await post(
      "/auth/user_register",
      registerBody(uid, { nickname: "x", level: 9, nested: { a: [1] } }),
    );
    expect(answer.body.errCode).toBe(0);
  });
});

describe("the secret is checked first", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["missing", {}],
    ["empty", { secret: "" }],
    ["wrong", { secret: "tuoyun!" }],
    ["a prefix", { secret: "tuoyu" }],
    ["not a string", { secret: 12345 }],
    ["null", { secret: null }],
  ];
  for (const [label, secretField] of cases) {
    it(`answers 401 for a ${label} secret even when every other field is bad`, async () => {
      for (const path of [
        "/auth/user_register",
        "/auth/user_token",
        "/user/get_users_online_status",
        "/auth/force_logout",
      ]) {
        const answer = await post(path, { platform: "x", uid: null, userIDList: 7, ...secretField });
        expect(answer.status, path).toBe(401);
        expect(answer.body, path).toEqual({ errCode: 401, errMsg: "not authorized" });
      }
    });
  }

  it("a register refused at the secret writes nothing", async () => {
    const uid = freshUid();
    expect((await post("/auth/user_register", { secret: "nope", platform: 1, uid, name: "x" })).status).toBe(401);
    expect(await findUser(env.DB, uid)).toBeNull();
  });

  const notObjects = ["[]", "[1,2]", '"text"', "42", "null", "true", "{", "", "{'a':1}"];
  for (const body of notObjects) {
    it(`answers 400 for a body that is not a JSON object (${JSON.stringify(body)}), before the secret`, async () => {
      const answer = await post("/auth/user_register", body);
      expect(answer.status).toBe(400);
      expect(answer.body.errCode).toBe(400);
      expect(answer.body.errMsg).toMatch(/body/);
    });
  }
});

describe("POST /auth/user_token", () => {
  it("gives a fresh token for a registered uid, with the register's data shape", async () => {
    const uid = freshUid();
    const registered = await register(uid);
    const answer = await post("/auth/user_token", { secret: SECRET, platform: 5, uid, operationID: "op-1" });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      errCode: 0,
      errMsg: "",
      data: { uid, token: expect.any(String), expiredTime: expect.any(Number) },
    });
    const data = answer.body.data as { token: string; expiredTime: number };
    expect(data.token).not.toBe(registered.token);
    expect(decodeJwt(data.token)).toMatchObject({ sub: uid, plt: 5, exp: data.expiredTime });
  });

  it("answers 404/602 for a uid that is not registered", async () => {
    const answer = await post("/auth/user_token", { secret: SECRET, platform: 1, uid: freshUid("ghost") });
    expect(answer.status).toBe(404);
    expect(answer.body.errCode).toBe(602);
    expect(answer.body.errMsg).toMatch(/not registered/);
  });

  it("does not invalidate older tokens by itself", async () => {
    const uid = freshUid();
    const first = await register(uid);
    await post("/auth/user_token", { secret: SECRET, platform: 1, uid });
    const socket = await connect(uid, first.token, 1);
    socket.close();
  });

  it("applies the same field rules", async () => {
    expect((await post("/auth/user_token", { secret: SECRET, platform: "1", uid: "a" })).body.errMsg).toMatch(
      /^platform:/,
    );
    expect((await post("/auth/user_token", { secret: SECRET, platform: 1, uid: "x".repeat(65) })).body.errMsg).toBe(
      "uid: at most 64 characters",
    );
    expect((await post("/auth/user_token", { secret: SECRET, platform: 1 })).body.errMsg).toBe("uid: is required");
  });
});
