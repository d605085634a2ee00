import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { readSettings } from "../config";
import { ApiError, ok } from "../errors";
import { validate } from "../middleware/validate";
import type { PlatformId } from "../platforms";
import { forceLogoutBody, registerUserBody, userTokenBody } from "../schemas";
import { insertUser, userExists } from "../storage/users";
import { issueClientToken } from "../tokens";
import { userSession } from "../presence/user-sessions";
import { appServerRequest } from "./guards";

/** POST /auth/user_register, /auth/user_token, /auth/force_logout (SPEC §2, §3, §5b). */
export const authRoutes = new Hono<AppEnv>()
  .post("/user_register", appServerRequest, validate("json", registerUserBody), async (c) => {
    const body = c.req.valid("json");
    const platform = body.platform as PlatformId;
    // Sign first: a misconfigured key must not leave a user behind with no token.
    const issued = await issueClientToken(c.env, body.uid, platform, readSettings(c.env).tokenTtlSeconds);
    const inserted = await insertUser(c.env.DB, {
      uid: body.uid,
      name: body.name,
      icon: body.icon ?? "",
      gender: body.gender ?? 0,
      mobile: body.mobile ?? "",
      birth: body.birth ?? "",
      email: body.email ?? "",
      ex: body.ex ?? "",
      registeredPlatform: platform,
      createdAtMs: issued.claims.issuedAtMs,
    });
    if (!inserted) throw ApiError.alreadyRegistered(body.uid);
    return ok(c, { data: { uid: body.uid, token: issued.token, expiredTime: issued.expiredTime } });
  })
  .post("/user_token", appServerRequest, validate("json", userTokenBody), async (c) => {
    const { uid, platform } = c.req.valid("json");
    if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
    const issued = await issueClientToken(c.env, uid, platform as PlatformId, readSettings(c.env).tokenTtlSeconds);
    return ok(c, { data: { uid, token: issued.token, expiredTime: issued.expiredTime } });
  })
  .post("/force_logout", appServerRequest, validate("json", forceLogoutBody), async (c) => {
    const { uid, platform } = c.req.valid("json");
    if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
    await userSession(c.env, uid).forceLogout(platform as PlatformId);
    return ok(c);
  });
