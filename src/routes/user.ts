import { readSettings } from "../config";
import { ApiError } from "../errors";
import { recordMetric } from "../metrics";
import { validate } from "../middleware/validate";
import { platformName } from "../platforms";
import { isUnexpired } from "../presence/entries";
import { readPresence } from "../presence/shards";
import { userSession } from "../presence/user-sessions";
import { getUserInfoBody, onlineStatusBody, setCustomStatusBody, updateUserInfoBody } from "../schemas";
import { findUsers, type StoredUser, updateProfile, userExists } from "../storage/users";
import { ok } from "./answer";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

/** POST /user/get_users_online_status (docs/api.md#post-userget_users_online_status). */
export const onlineStatus = factory.createHandlers(appServerRequest, validate("json", onlineStatusBody), async (c) => {
  const { userIDList } = c.req.valid("json");
  const started = Date.now();
  const known = await readPresence(c.env, userIDList, readSettings(c.env).presenceShards);
  // One entry per requested id, in request order, duplicates kept.
  const now = Date.now();
  // One entry per requested id, in request order, duplicates kept.
  const successResult = userIDList.map((userID) => {
    const presence = known.get(userID);
    // The AppServer sees the truth: grants and invisibility are for watchers (docs/security.md#who-may-see-whom),
    // so an invisible user's custom status shows here too.
    const { invisible, background = [], customStatus } = presence?.details ?? {};
    const said = {
      ...(customStatus && isUnexpired(customStatus, now) ? { customStatus } : {}),
      ...(invisible ? { invisible: true as const } : {}),
    };
    if (presence && "platforms" in presence) {
      return {
        userID,
        status: "online" as const,
        detailPlatformStatus: presence.platforms.map((p) => ({
          platform: platformName(p),
          status: "online" as const,
          // OpenIM v3's name: the AppServer decides on push notifications from it.
          isBackground: background.includes(p),
        })),
        ...said,
      };
    }
    // lastSeen only for a user who has been online (docs/api.md#post-userget_users_online_status).
    return presence
      ? {
          userID,
          status: "offline" as const,
          ...(presence.lastSeenMs === undefined ? {} : { lastSeen: presence.lastSeenMs }),
          ...said,
        }
      : { userID, status: "offline" as const };
  });
  recordMetric(c.env, {
    kind: "status_read",
    outcome: "ok",
    latencyMs: Date.now() - started,
    values: [userIDList.length, successResult.filter((entry) => entry.status === "online").length],
  });
  return ok(c, { successResult });
});

/** A user as get_user_info answers it: the profile, createTime in Unix seconds, and a ban in force. */
function userInfo(user: StoredUser, nowMs: number) {
  const { uid, name, icon, gender, mobile, birth, email, ex, createdAtMs, bannedUntil, banReason } = user;
  return {
    uid,
    name,
    icon,
    gender,
    mobile,
    birth,
    email,
    ex,
    createTime: Math.floor(createdAtMs / 1000),
    ...(bannedUntil !== undefined && bannedUntil * 1000 > nowMs ? { bannedUntil, banReason: banReason ?? "" } : {}),
  };
}

/** POST /user/get_user_info (docs/api.md#post-userget_user_info): registered uids, in request order, each once. */
export const getUserInfo = factory.createHandlers(appServerRequest, validate("json", getUserInfoBody), async (c) => {
  const { uidList } = c.req.valid("json");
  const found = new Map((await findUsers(c.env.DB, uidList)).map((user) => [user.uid, user]));
  const now = Date.now();
  const data = [...new Set(uidList)].flatMap((uid) => {
    const user = found.get(uid);
    return user ? [userInfo(user, now)] : [];
  });
  return ok(c, { data });
});

/** POST /user/update_user_info (docs/api.md#post-userupdate_user_info): the fields given, and only those. */
export const updateUserInfo = factory.createHandlers(
  appServerRequest,
  validate("json", updateUserInfoBody),
  async (c) => {
    const { uid, name, icon, gender, mobile, birth, email, ex } = c.req.valid("json");
    if (!(await updateProfile(c.env.DB, uid, { name, icon, gender, mobile, birth, email, ex }))) {
      throw ApiError.notRegistered(uid);
    }
    return ok(c);
  },
);

/**
 * POST /user/set_custom_status (docs/api.md#post-userset_custom_status): the
 * user's object sets it as a `set` frame would, and its shard and webhooks
 * hear of it as of any change.
 */
export const setCustomStatus = factory.createHandlers(
  appServerRequest,
  validate("json", setCustomStatusBody),
  async (c) => {
    const { uid, customStatus } = c.req.valid("json");
    if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
    await userSession(c.env, uid).setCustomStatus(customStatus);
    return ok(c);
  },
);
