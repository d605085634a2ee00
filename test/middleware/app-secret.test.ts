import { describe, expect, it } from "vitest";
import { freshUid, postWithSettings } from "../helpers";

// As deployed (no LOCAL_DEV), in the middle of a rotation.
const NEW_SECRET = "new-appserver-secret-0123";
const OLD_SECRET = "old-appserver-secret-0123";
const ROTATING = { LOCAL_DEV: "", IM_SECRET: NEW_SECRET, IM_SECRET_PREVIOUS: OLD_SECRET };
const statusQuery = (secret: string) => ({ secret, userIDList: [] });

describe("AppServer secret rotation with IM_SECRET_PREVIOUS", () => {
  it("accepts both the current and the previous secret, and nothing else", async () => {
    for (const secret of [NEW_SECRET, OLD_SECRET]) {
      expect(
        (await postWithSettings(ROTATING, "/user/get_users_online_status", statusQuery(secret))).status,
        secret,
      ).toBe(200);
    }
    for (const secret of ["tuoyun", `${NEW_SECRET}x`, OLD_SECRET.slice(0, -1)]) {
      const answer = await postWithSettings(ROTATING, "/user/get_users_online_status", statusQuery(secret));
      expect(answer.body, secret).toEqual({ errCode: 401, errMsg: "not authorized" });
    }
  });

  it("lets the previous secret register users and issue tokens like the current one", async () => {
    const uid = freshUid();
    const registered = await postWithSettings(ROTATING, "/auth/user_register", {
      secret: OLD_SECRET,
      platform: 1,
      uid,
      name: "n",
    });
    expect(registered.body.errCode).toBe(0);
    const token = await postWithSettings(ROTATING, "/auth/user_token", { secret: NEW_SECRET, platform: 2, uid });
    expect(token.body.errCode).toBe(0);
  });

  it("refuses the previous secret once it is removed", async () => {
    const done = { ...ROTATING, IM_SECRET_PREVIOUS: "" };
    expect((await postWithSettings(done, "/user/get_users_online_status", statusQuery(OLD_SECRET))).status).toBe(401);
    expect((await postWithSettings(done, "/user/get_users_online_status", statusQuery(NEW_SECRET))).status).toBe(200);
  });

  it("holds the previous secret to the same strength rules, naming it", async () => {
    const weak = { ...ROTATING, IM_SECRET_PREVIOUS: "tuoyun" };
    const answer = await postWithSettings(weak, "/user/get_users_online_status", statusQuery(NEW_SECRET));
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      errCode: 500,
      errMsg: "server misconfigured: IM_SECRET_PREVIOUS is a published example value",
    });
  });

  it("refuses a signing key equal to the previous secret", async () => {
    const key = "k".repeat(32);
    const clash = { ...ROTATING, IM_SECRET_PREVIOUS: key, TOKEN_SIGNING_KEY: key };
    const answer = await postWithSettings(clash, "/auth/user_register", {
      secret: NEW_SECRET,
      platform: 1,
      uid: freshUid(),
      name: "n",
    });
    expect(answer.body).toEqual({
      errCode: 500,
      errMsg: "server misconfigured: TOKEN_SIGNING_KEY must differ from IM_SECRET_PREVIOUS",
    });
  });
});
