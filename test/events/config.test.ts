import { describe, expect, it } from "vitest";
import { connectUrl, fetchWithSettings, freshUid, postWithSettings, register, SECRET } from "../helpers";

const URL_ONLY = { PRESENCE_WEBHOOK_URL: "https://hooks.example/presence" };
const GOOD_SECRET = "s".repeat(32);

async function refusals(settings: Record<string, string>) {
  const uid = freshUid();
  const { token } = await register(uid);
  const appServer = await postWithSettings(settings, "/user/get_users_online_status", {
    secret: SECRET,
    userIDList: [uid],
  });
  const handshake = await fetchWithSettings(
    settings,
    connectUrl({ sendID: uid, token, platformID: 1 }).replace("http://im.test", ""),
    {
      headers: { Upgrade: "websocket" },
    },
  );
  return [appServer, handshake].map((a) => ({ status: a.status, errMsg: a.body.errMsg }));
}

describe("webhook settings fail closed (docs/webhooks.md)", () => {
  it("refuses every AppServer call and handshake with 500 naming PRESENCE_WEBHOOK_SECRET when the URL is set without it", async () => {
    for (const answer of await refusals(URL_ONLY)) {
      expect(answer).toEqual({
        status: 500,
        errMsg: "server misconfigured: PRESENCE_WEBHOOK_SECRET is not set (PRESENCE_WEBHOOK_URL is)",
      });
    }
  });

  it("refuses a secret shorter than 32 characters the same way", async () => {
    for (const answer of await refusals({ ...URL_ONLY, PRESENCE_WEBHOOK_SECRET: "short" })) {
      expect(answer.status).toBe(500);
      expect(answer.errMsg).toMatch(/PRESENCE_WEBHOOK_SECRET is shorter than 32 characters/);
    }
  });

  it("names PRESENCE_WEBHOOK_URL when it is not an http(s) URL, or not https outside local dev", async () => {
    for (const answer of await refusals({ PRESENCE_WEBHOOK_URL: "not a url", PRESENCE_WEBHOOK_SECRET: GOOD_SECRET })) {
      expect(answer.errMsg).toMatch(/PRESENCE_WEBHOOK_URL has an invalid value/);
    }
    const deployed = {
      LOCAL_DEV: "",
      IM_SECRET: "a-strong-appserver-secret",
      PRESENCE_WEBHOOK_URL: "http://hooks.example/p",
      PRESENCE_WEBHOOK_SECRET: GOOD_SECRET,
    };
    const answer = await postWithSettings(deployed, "/user/get_users_online_status", {
      secret: deployed.IM_SECRET,
      userIDList: [],
    });
    expect(answer).toMatchObject({
      status: 500,
      body: { errMsg: "server misconfigured: PRESENCE_WEBHOOK_URL must be an https URL" },
    });
  });

  it("serves normally with the URL and a long enough secret", async () => {
    const answer = await postWithSettings(
      { ...URL_ONLY, PRESENCE_WEBHOOK_SECRET: GOOD_SECRET },
      "/user/get_users_online_status",
      {
        secret: SECRET,
        userIDList: [],
      },
    );
    expect(answer.status).toBe(200);
  });
});
