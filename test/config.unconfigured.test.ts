// Runs with IM_SECRET and TOKEN_SIGNING_KEY unset (see vitest.config.ts): a deployed worker nobody configured.
import { describe, expect, it } from "vitest";
import { post, refusedConnect } from "./helpers";

describe("a worker deployed without its secrets fails closed", () => {
  for (const path of [
    "/auth/user_register",
    "/auth/user_token",
    "/auth/force_logout",
    "/user/get_users_online_status",
  ]) {
    it(`answers ${path} with 500 naming IM_SECRET, whatever secret is sent`, async () => {
      for (const secret of ["tuoyun", "", "anything"]) {
        const answer = await post(path, { secret, platform: 1, uid: "u", name: "n", userIDList: [] });
        expect(answer.status).toBe(500);
        expect(answer.body).toEqual({ errCode: 500, errMsg: "server misconfigured: IM_SECRET is not set" });
      }
    });
  }

  it("refuses every socket with 500 naming TOKEN_SIGNING_KEY", async () => {
    const answer = await refusedConnect({ sendID: "u", token: "a.b.c", platformID: 1 });
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ errCode: 500, errMsg: "server misconfigured: TOKEN_SIGNING_KEY is not set" });
  });
});
