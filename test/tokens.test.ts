import { env } from "cloudflare:test";
import { base64url, decodeProtectedHeader, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import type { WorkerEnv as Env } from "../src/config";
import { issueClientToken, TokenError, verifyClientToken } from "../src/tokens";
import { handMadeToken, headerOf, withTrailingBitsSet } from "./hand-made-tokens";

const KEY_A = "key-a-0123456789abcdef0123456789abcdef";
const KEY_B = "key-b-0123456789abcdef0123456789abcdef";
const withKeys = (current: string, previous?: string): Env => ({
  ...env,
  TOKEN_SIGNING_KEY: current,
  TOKEN_SIGNING_KEY_PREVIOUS: previous,
});
const expected = { uid: "alice", platform: 1 as const };

async function refusal(envWithKeys: Env, token: string, binding = expected): Promise<number> {
  try {
    await verifyClientToken(envWithKeys, token, binding);
  } catch (error) {
    if (error instanceof TokenError) return error.errCode;
    throw error;
  }
  throw new Error("token was accepted");
}

describe("client tokens", () => {
  it("binds uid and platform, and carries exp equal to expiredTime and a kid", async () => {
    const issued = await issueClientToken(withKeys(KEY_A), "alice", 1, 3600);
    const claims = await verifyClientToken(withKeys(KEY_A), issued.token, expected);
    expect(claims).toMatchObject({ uid: "alice", platform: 1, expiresAt: issued.expiredTime });
    expect(decodeProtectedHeader(issued.token)).toMatchObject({ alg: "HS256", typ: "JWT", kid: expect.any(String) });
  });

  it("keeps accepting the previous key after a rotation, and refuses a key that was rotated out", async () => {
    const signedWithA = (await issueClientToken(withKeys(KEY_A), "alice", 1, 3600)).token;
    await expect(verifyClientToken(withKeys(KEY_B, KEY_A), signedWithA, expected)).resolves.toMatchObject({
      uid: "alice",
    });
    expect(await refusal(withKeys(KEY_B), signedWithA)).toBe(705);
    // New tokens are signed with the current key only.
    const signedWithB = (await issueClientToken(withKeys(KEY_B, KEY_A), "alice", 1, 3600)).token;
    expect(decodeProtectedHeader(signedWithB).kid).not.toBe(decodeProtectedHeader(signedWithA).kid);
  });

  it("refuses alg none", async () => {
    const unsecured = new UnsecuredJWT({ plt: 1, ims: Date.now() })
      .setIssuer("imserver-edge")
      .setSubject("alice")
      .setJti("x")
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime("1h")
      .encode();
    expect(await refusal(withKeys(KEY_A), unsecured)).toBe(705);
  });

  it("refuses a tampered payload", async () => {
    const [header, payload, signature] = (await issueClientToken(withKeys(KEY_A), "alice", 1, 3600)).token.split(".");
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
    const tampered = base64url.encode(JSON.stringify({ ...claims, sub: "mallory" }));
    expect(await refusal(withKeys(KEY_A), `${header}.${tampered}.${signature}`, { uid: "mallory", platform: 1 })).toBe(
      705,
    );
  });

  it("refuses a wrong kid even when the signature is right", async () => {
    const token = await handMadeToken({ alg: "HS256", kid: "not-our-key" }, KEY_A);
    expect(await refusal(withKeys(KEY_A), token)).toBe(705);
  });

  it("refuses another algorithm signed with the right key", async () => {
    const good = await issueClientToken(withKeys(KEY_A), "alice", 1, 3600);
    const token = await handMadeToken({ alg: "HS512", kid: decodeProtectedHeader(good.token).kid! }, KEY_A);
    expect(await refusal(withKeys(KEY_A), token)).toBe(705);
  });

  it("maps expiry and not-yet-valid to 701 and 704", async () => {
    const expired = await issueClientToken(withKeys(KEY_A), "alice", 1, 60, Date.now() - 120_000);
    expect(await refusal(withKeys(KEY_A), expired.token)).toBe(701);
    const early = await issueClientToken(withKeys(KEY_A), "alice", 1, 60, Date.now() + 120_000);
    expect(await refusal(withKeys(KEY_A), early.token)).toBe(704);
  });

  it("refuses an iat more than 60 s in the future with 704, and allows a little clock skew", async () => {
    const header = headerOf((await issueClientToken(withKeys(KEY_A), "alice", 1, 60)).token);
    const now = Math.floor(Date.now() / 1000);
    const farAhead = await handMadeToken(header, KEY_A, { iat: now + 120, nbf: now - 1 });
    expect(await refusal(withKeys(KEY_A), farAhead)).toBe(704);
    const slightlyAhead = await handMadeToken(header, KEY_A, { iat: now + 30, nbf: now - 1 });
    await expect(verifyClientToken(withKeys(KEY_A), slightlyAhead, expected)).resolves.toMatchObject({ uid: "alice" });
  });

  it("refuses a token without nbf, exp or iat with 705, not 704", async () => {
    const header = headerOf((await issueClientToken(withKeys(KEY_A), "alice", 1, 60)).token);
    for (const claim of ["nbf", "exp", "iat"] as const) {
      expect(await refusal(withKeys(KEY_A), await handMadeToken(header, KEY_A, { [claim]: undefined })), claim).toBe(
        705,
      );
    }
  });

  it("refuses every other spelling of a valid token with 703", async () => {
    const { token } = await issueClientToken(withKeys(KEY_A), "alice", 1, 3600);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const respellings = [
      `${token}=`,
      `${header}.${payload}=.${signature}`,
      `${header}.${payload}.${signature.slice(0, 10)} ${signature.slice(10)}`,
      ` ${token}`,
      `${header}.${payload}.${signature.replace(/-/g, "+").replace(/_/g, "/")}${/[-_]/.test(signature) ? "" : "+"}`,
      withTrailingBitsSet(token),
      `${token}.`,
    ];
    for (const respelled of respellings) expect(await refusal(withKeys(KEY_A), respelled), respelled).toBe(703);
    await expect(verifyClientToken(withKeys(KEY_A), token, expected)).resolves.toMatchObject({ uid: "alice" });
  });
});
