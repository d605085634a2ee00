import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueClientToken } from "../src/tokens";
import { handMadeToken, headerOf, withTrailingBitsSet } from "./hand-made-tokens";
import { connect, freshUid, refusedConnect, register } from "./helpers";

const DAY = 86_400;

/** The handshake is refused with 401 and the token code `errCode`. */
async function expectTokenRefused(uid: string, token: string, errCode: number, platformID = 1): Promise<void> {
  const answer = await refusedConnect({ sendID: uid, token, platformID });
  expect(answer.status, token).toBe(401);
  expect(answer.body.errCode, token).toBe(errCode);
}

describe("WebSocket handshake at / and /ws", () => {
  for (const path of ["/", "/ws"]) {
    it(`accepts a valid token at ${path} and answers ping with pong`, async () => {
      const uid = freshUid();
      const { token } = await register(uid);
      const socket = await connect(uid, token, 1, path);
      socket.send("ping");
      expect(await socket.message(0)).toBe("pong");
      socket.close();
    });
  }

  const missing: [string, Record<string, string>][] = [
    ["sendID", { token: "t", platformID: "1" }],
    ["token", { sendID: "u", platformID: "1" }],
    ["platformID", { sendID: "u", token: "t" }],
  ];
  for (const [param, params] of missing) {
    it(`refuses a connect without ${param} with a plain 400 envelope`, async () => {
      const answer = await refusedConnect(params);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({ errCode: 400, errMsg: `${param}: is required` });
    });
  }

  for (const platformID of ["0", "8", "1.0", "web", "", " 1"]) {
    it(`refuses platformID=${JSON.stringify(platformID)} with 400`, async () => {
      const answer = await refusedConnect({ sendID: "u", token: "t", platformID });
      expect(answer.status).toBe(400);
      expect(answer.body.errMsg).toMatch(/^platformID: /);
    });
  }

  it("refuses a malformed token with 401/703", async () => {
    for (const token of ["garbage", "a.b.c", "%%%.%%%.%%%", "only.two"]) {
      await expectTokenRefused("u", token, 703);
    }
  });

  it("refuses an expired token with 401/701", async () => {
    const uid = freshUid();
    const { token } = await issueClientToken(env, uid, 1, DAY, Date.now() - 2 * DAY * 1000);
    await expectTokenRefused(uid, token, 701);
  });

  it("refuses a token that is not active yet with 401/704", async () => {
    const uid = freshUid();
    const { token } = await issueClientToken(env, uid, 1, DAY, Date.now() + 3_600_000);
    await expectTokenRefused(uid, token, 704);
  });

  it("refuses a token issued more than 60 s in the future with 401/704, whatever its nbf says", async () => {
    const uid = freshUid();
    const header = headerOf((await issueClientToken(env, uid, 1, DAY)).token);
    const now = Math.floor(Date.now() / 1000);
    const token = await handMadeToken(header, env.TOKEN_SIGNING_KEY!, {
      sub: uid,
      iat: now + 3_600,
      nbf: now - 10,
      exp: now + DAY,
    });
    await expectTokenRefused(uid, token, 704);
  });

  it("refuses a token without nbf or exp with 401/705", async () => {
    const uid = freshUid();
    const header = headerOf((await issueClientToken(env, uid, 1, DAY)).token);
    for (const claim of ["nbf", "exp"]) {
      const token = await handMadeToken(header, env.TOKEN_SIGNING_KEY!, { sub: uid, [claim]: undefined });
      await expectTokenRefused(uid, token, 705);
    }
  });

  it("refuses a padded, spaced or otherwise re-spelled token with 401/703; the token as issued connects", async () => {
    const uid = freshUid();
    const { token } = await register(uid);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    for (const respelled of [
      `${token}=`,
      `${header}.${payload}.${signature.slice(0, 8)} ${signature.slice(8)}`,
      withTrailingBitsSet(token),
    ]) {
      await expectTokenRefused(uid, respelled, 703);
    }
    (await connect(uid, token, 1)).close();
  });

  it("refuses a token bound to another uid or platform with 401/705", async () => {
    const uid = freshUid();
    const { token } = await register(uid, { platform: 1 });
    await expectTokenRefused(`${uid}-other`, token, 705);
    await expectTokenRefused(uid, token, 705, 2);
  });

  it("refuses a token signed with the AppServer secret with 401/705", async () => {
    const uid = freshUid();
    const forged = await handMadeToken({ alg: "HS256" }, env.IM_SECRET!, { sub: uid, jti: "forged" });
    await expectTokenRefused(uid, forged, 705);
  });

  it("never lets a refused token reach the user's Durable Object", async () => {
    const uid = freshUid();
    const { listDurableObjectIds } = await import("cloudflare:test");
    const before = (await listDurableObjectIds(env.USER_SESSIONS)).length;
    await refusedConnect({ sendID: uid, token: "garbage", platformID: 1 });
    expect((await listDurableObjectIds(env.USER_SESSIONS)).length).toBe(before);
  });
});
