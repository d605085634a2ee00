import { finishDeletions } from "../accounts/deletion";
import { readSettings, requireSigningKeys } from "../config";
import { ApiError } from "../errors";
import { validate } from "../middleware/validate";
import { userSession } from "../presence/user-sessions";
import { forceLogoutBody, registerUserBody, userTokenBody } from "../schemas";
import { findUser, insertUser, pendingDeletion, userExists } from "../storage/users";
import { issueClientToken } from "../tokens";
import { ok } from "./answer";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

/** POST /auth/user_register (docs/api.md#post-authuser_register). */
export const registerUser = factory.createHandlers(appServerRequest, validate("json", registerUserBody), async (c) => {
  const body = c.req.valid("json");
  // Checked first: a misconfigured key must not leave a user behind with no token.
  requireSigningKeys(c.env);
  const newUser = (createdAtMs: number) => ({
    uid: body.uid,
    name: body.name,
    icon: body.icon ?? "",
    gender: body.gender ?? 0,
    mobile: body.mobile ?? "",
    birth: body.birth ?? "",
    email: body.email ?? "",
    ex: body.ex ?? "",
    registeredPlatform: body.platform,
    createdAtMs,
  });
  let inserted = await insertUser(c.env.DB, newUser(Date.now()));
  if (!inserted) {
    // A uid whose deletion has not finished is erased first: the new user starts with nothing of the old.
    const pending = await pendingDeletion(c.env.DB, body.uid);
    if (!pending) throw ApiError.alreadyRegistered(body.uid);
    await finishDeletions(c.env, [pending]);
    inserted = await insertUser(c.env.DB, newUser(Date.now()));
    if (!inserted) throw ApiError.alreadyRegistered(body.uid);
  }
  // Issued once the user exists, so after any deletion of the uid: no deletion refuses it.
  const issued = await issueClientToken(c.env, body.uid, body.platform, readSettings(c.env).tokenTtlSeconds);
  return ok(c, { data: { uid: body.uid, token: issued.token, expiredTime: issued.expiredTime } });
});

/** POST /auth/user_token (docs/api.md#post-authuser_token). */
export const userToken = factory.createHandlers(appServerRequest, validate("json", userTokenBody), async (c) => {
  const { uid, platform } = c.req.valid("json");
  // Issued before the user is looked up: a deletion that lands in between finds this token older than itself.
  const issued = await issueClientToken(c.env, uid, platform, readSettings(c.env).tokenTtlSeconds);
  const user = await findUser(c.env.DB, uid);
  if (!user) throw ApiError.notRegistered(uid);
  if (user.bannedUntil !== undefined && user.bannedUntil * 1000 > Date.now()) throw ApiError.banned(user.bannedUntil);
  return ok(c, { data: { uid, token: issued.token, expiredTime: issued.expiredTime } });
});

/** POST /auth/force_logout (docs/api.md#post-authforce_logout): a platform, or one session of it. */
export const forceLogout = factory.createHandlers(appServerRequest, validate("json", forceLogoutBody), async (c) => {
  const { uid, platform, connID } = c.req.valid("json");
  if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
  const outcome = await userSession(c.env, uid).forceLogout(platform, connID);
  if (outcome === "no_such_session") throw ApiError.noSuchSession(connID ?? "");
  return ok(c);
});
