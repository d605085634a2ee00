// Runs with TOKEN_TTL=2s (see vitest.config.ts): as if the server restarted with a lower TTL
// after the tokens issued here directly, with a longer one, were handed out.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueClientToken } from "../../src/tokens";
import { connect, freshUid, post, refusedConnect, register, SECRET, sleep, tokenFor } from "../helpers";

const CURRENT_TTL_MS = 2_000;
const LONG_TTL_SECONDS = 120;

describe("invalidations outlive every token they cover, whatever TOKEN_TTL is now", () => {
  it("keeps refusing a force-logged-out token issued under a longer TTL after the current TTL has passed", async () => {
    const uid = freshUid();
    await register(uid);
    const { token } = await issueClientToken(env, uid, 1, LONG_TTL_SECONDS);
    expect((await post("/auth/force_logout", { secret: SECRET, uid, platform: 1 })).body.errCode).toBe(0);
    expect((await refusedConnect({ sendID: uid, token, platformID: 1 })).body.errCode).toBe(702);

    await sleep(CURRENT_TTL_MS + 500);
    const later = await refusedConnect({ sendID: uid, token, platformID: 1 });
    expect(later.status).toBe(401);
    expect(later.body.errCode).toBe(702);

    // Tokens issued after the call still work.
    (await connect(uid, await tokenFor(uid, 1), 1)).close();
  });

  it("keeps refusing a kicked token until its own expiry, past the current TTL", async () => {
    const uid = freshUid();
    const { token } = await issueClientToken(env, uid, 2, LONG_TTL_SECONDS);
    const kicked = await connect(uid, token, 2);
    const replacement = await connect(uid, (await issueClientToken(env, uid, 2, LONG_TTL_SECONDS)).token, 2);
    await kicked.closedWithin(2_000);
    replacement.close();

    await sleep(CURRENT_TTL_MS + 500);
    expect((await refusedConnect({ sendID: uid, token, platformID: 2 })).body.errCode).toBe(702);
  });
});
