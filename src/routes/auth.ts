import { readSettings } from "../config";
import { ApiError } from "../errors";
import { validate } from "../middleware/validate";
import { userSession } from "../presence/user-sessions";
import { forceLogoutBody, registerUserBody, userTokenBody } from "../schemas";
import { insertUser, userExists } from "../storage/users";
import { issueClientToken } from "../tokens";
import { ok } from "./answer";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

/** POST /auth/user_register (docs/api.md#post-authuser_register). */
export const registerUser = factory.createHandlers(appServerRequest, validate("json", registerUserBody), async (c) => {
  const body = c.req.valid("json");
  // Sign first: a misconfigured key must not leave a user behind with no token.
  const issued = await issueClientToken(c.env, body.uid, body.platform, readSettings(c.env).tokenTtlSeconds);
  const inserted = await insertUser(c.env.DB, {
    uid: body.uid,
    name: body.name,
    icon: body.icon ?? "",
    gender: body.gender ?? 0,
    mobile: body.mobile ?? "",
    birth: body.birth ?? "",
    email: body.email ?? "",
    ex: body.ex ?? "",
    registeredPlatform: body.platform,
    createdAtMs: issued.claims.issuedAtMs,
  });
  if (!inserted) throw ApiError.alreadyRegistered(body.uid);
  return ok(c, { data: { uid: body.uid, token: issued.token, expiredTime: issued.expiredTime } });
});

/** POST /auth/user_token (docs/api.md#post-authuser_token). */
export const userToken = factory.createHandlers(appServerRequest, validate("json", userTokenBody), async (c) => {
  const { uid, platform } = c.req.valid("json");
  if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
  const issued = await issueClientToken(c.env, uid, platform, readSettings(c.env).tokenTtlSeconds);
  return ok(c, { data: { uid, token: issued.token, expiredTime: issued.expiredTime } });
});

/** POST /auth/force_logout (docs/api.md#post-authforce_logout). */
export const forceLogout = factory.createHandlers(appServerRequest, validate("json", forceLogoutBody), async (c) => {
  const { uid, platform } = c.req.valid("json");
  if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
  await userSession(c.env, uid).forceLogout(platform);
  return ok(c);
});
