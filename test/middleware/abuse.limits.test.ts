// Runs with both limiters at 3 per minute (see vitest.config.ts).
import { describe, expect, it } from "vitest";
import { connect, freshUid, post, refusedConnect, register, SECRET, tokenFor } from "../helpers";

const from = (ip: string) => ({ "CF-Connecting-IP": ip });

const failSecret = (headers: Record<string, string>) =>
  post("/auth/user_token", { secret: "wrong-guess", uid: "u", platform: 1 }, headers);
const rightSecret = (headers: Record<string, string>) =>
  post("/user/get_users_online_status", { secret: SECRET, userIDList: [] }, headers);

describe("failed-secret limit (3 a minute here)", () => {
  it("answers failures past the limit with 429 and Retry-After, and never refuses the right secret", async () => {
    const sharedAddress = from("198.51.100.7");
    for (let i = 0; i < 3; i++) expect((await failSecret(sharedAddress)).status).toBe(401);

    const limited = await failSecret(sharedAddress);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ errCode: 429, errMsg: expect.stringMatching(/too many/) });
    expect(limited.headers.get("Retry-After")).toBe("60");

    // An AppServer behind the same address keeps being served while the guesser is throttled.
    for (let i = 0; i < 3; i++) {
      expect((await rightSecret(sharedAddress)).status).toBe(200);
      expect((await failSecret(sharedAddress)).status).toBe(429);
    }
  });

  it("counts failures per calling Worker zone (CF-Worker), not per the address Workers share", async () => {
    const workersAddress = "2a06:98c0:3600::103";
    const attacker = { ...from(workersAddress), "CF-Worker": "attacker.example" };
    const neighbour = { ...from(workersAddress), "CF-Worker": "appserver.example" };
    for (let i = 0; i < 3; i++) expect((await failSecret(attacker)).status).toBe(401);
    expect((await failSecret(attacker)).status).toBe(429);

    // The neighbouring zone's own typo is still a plain 401: its allowance is its own.
    expect((await failSecret(neighbour)).status).toBe(401);
    expect((await rightSecret(neighbour)).status).toBe(200);
  });
});

describe("socket handshakes (3 a minute per token here)", () => {
  it("refuses a token's handshakes past its budget with 429 and Retry-After; the user's other tokens still connect", async () => {
    const uid = freshUid();
    await register(uid);
    const looping = await tokenFor(uid, 1);
    for (let i = 0; i < 3; i++) (await connect(uid, looping, 1)).close();
    const refused = await refusedConnect({ sendID: uid, token: looping, platformID: 1 });
    expect(refused.status).toBe(429);
    expect(refused.body.errCode).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("60");

    (await connect(uid, await tokenFor(uid, 1), 1)).close();
  });

  it("never lets retired tokens use up the user's allowance: force-logged-out and kicked tokens, then fresh tokens on two platforms", async () => {
    const uid = freshUid("locked");
    await register(uid);
    const loggedOut = await tokenFor(uid, 1);
    expect((await post("/auth/force_logout", { secret: SECRET, uid, platform: 1 })).body.errCode).toBe(0);

    const kicked = await tokenFor(uid, 2);
    const kickedSocket = await connect(uid, kicked, 2);
    const replacement = await connect(uid, await tokenFor(uid, 2), 2);
    await kickedSocket.closedWithin(2_000);

    // An old client retrying, or an attacker replaying: refused as retired (702), then throttled (429).
    for (const token of [loggedOut, kicked]) {
      const platformID = token === loggedOut ? 1 : 2;
      const codes = [];
      for (let i = 0; i < 12; i++) codes.push((await refusedConnect({ sendID: uid, token, platformID })).body.errCode);
      expect(new Set(codes)).toEqual(new Set([702, 429]));
    }

    const ios = await connect(uid, await tokenFor(uid, 1), 1);
    const web = await connect(uid, await tokenFor(uid, 5), 5);
    for (const socket of [ios, web]) {
      socket.send("ping");
      expect(await socket.message(0)).toBe("pong");
      socket.close();
    }
    replacement.close();
  });

  it("does not count refused tokens against the uid", async () => {
    const uid = freshUid();
    await register(uid);
    for (let i = 0; i < 5; i++) {
      expect((await refusedConnect({ sendID: uid, token: "forged.token.here", platformID: 1 })).status).toBe(401);
    }
    (await connect(uid, await tokenFor(uid, 1), 1)).close();
  });
});

describe("a configured body limit (MAX_BODY_BYTES=2048 here)", () => {
  it("answers 413 past it, whether or not the client sends Content-Length", async () => {
    const { SELF } = await import("cloudflare:test");
    const body = JSON.stringify({ secret: SECRET, userIDList: [], pad: "x".repeat(3_000) });
    expect((await post("/user/get_users_online_status", body)).status).toBe(413);

    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const response = await SELF.fetch("http://im.test/user/get_users_online_status", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: streamed,
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errCode: 413 });

    const small = await post("/user/get_users_online_status", { secret: SECRET, userIDList: [] }, from("203.0.113.9"));
    expect(small.status).toBe(200);
  });
});
