// Runs without LOCAL_DEV and with the seed's example IM_SECRET (see vitest.config.ts): a careless deployment.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { issueClientToken } from "../src/tokens";
import { connect, freshUid, post, postWithSettings } from "./helpers";

const APPSERVER_ROUTES = [
  "/auth/user_register",
  "/auth/user_token",
  "/auth/force_logout",
  "/user/get_users_online_status",
];
const anyBody = (secret: string) => ({ secret, platform: 1, uid: "u", name: "n", userIDList: [] });

describe("outside local dev, a weak IM_SECRET fails closed like a missing one", () => {
  for (const path of APPSERVER_ROUTES) {
    it(`answers ${path} with 500 naming IM_SECRET when it is the published example, whatever secret is sent`, async () => {
      for (const secret of ["tuoyun", "", "anything"]) {
        const answer = await post(path, anyBody(secret));
        expect(answer.status).toBe(500);
        expect(answer.body).toEqual({
          errCode: 500,
          errMsg: "server misconfigured: IM_SECRET is a published example value",
        });
      }
    });
  }

  it("refuses any case of a published example and any secret shorter than 16 characters", async () => {
    for (const weak of ["TuoYun", "changeme", "Secret"]) {
      const answer = await postWithSettings({ IM_SECRET: weak }, "/user/get_users_online_status", anyBody(weak));
      expect(answer.body, weak).toEqual({
        errCode: 500,
        errMsg: "server misconfigured: IM_SECRET is a published example value",
      });
    }
    const short = "fifteen-chars-x";
    const answer = await postWithSettings({ IM_SECRET: short }, "/user/get_users_online_status", anyBody(short));
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      errCode: 500,
      errMsg: "server misconfigured: IM_SECRET is shorter than 16 characters",
    });
  });

  it("serves with a secret of 16 characters or more", async () => {
    const strong = "sixteen-chars-ok";
    const answer = await postWithSettings({ IM_SECRET: strong }, "/user/get_users_online_status", anyBody(strong));
    expect(answer.status).toBe(200);
    expect(
      (await postWithSettings({ IM_SECRET: strong }, "/user/get_users_online_status", anyBody("tuoyun"))).status,
    ).toBe(401);
  });

  it('allows the short example secret only where LOCAL_DEV is "true"', async () => {
    expect(
      (await postWithSettings({ LOCAL_DEV: "true" }, "/user/get_users_online_status", anyBody("tuoyun"))).status,
    ).toBe(200);
    expect(
      (await postWithSettings({ LOCAL_DEV: "1" }, "/user/get_users_online_status", anyBody("tuoyun"))).status,
    ).toBe(500);
  });

  it("keeps client sessions working: they never use IM_SECRET", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await issueClientToken(env, uid, 1, 60)).token, 1);
    socket.close();
  });
});
