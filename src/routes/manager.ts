import { deleteUsers } from "../accounts/deletion";
import { readSettings } from "../config";
import { ApiError } from "../errors";
import { encodeCursor } from "../lib/cursor";
import { validate } from "../middleware/validate";
import { presenceShardFor } from "../presence/shards";
import { userSession } from "../presence/user-sessions";
import {
  accountCheckBody,
  banUserBody,
  deleteUserBody,
  getAllUsersUidBody,
  getPresenceGrantsBody,
  getUserSessionsBody,
  LIMITS,
  MAX_GRANTS_PER_USER,
  setPresenceGrantsBody,
} from "../schemas";
import { registeredAmong, setBan, uidsAfter, userExists } from "../storage/users";
import { ok } from "./answer";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

/** POST /manager/account_check (docs/api.md#post-manageraccount_check): one entry per id asked, duplicates kept. */
export const accountCheck = factory.createHandlers(appServerRequest, validate("json", accountCheckBody), async (c) => {
  const { userIDList } = c.req.valid("json");
  const registered = await registeredAmong(c.env.DB, userIDList);
  const result = userIDList.map((userID) => ({
    userID,
    accountStatus: registered.has(userID) ? ("registered" as const) : ("unregistered" as const),
  }));
  return ok(c, { result });
});

/**
 * POST /manager/get_all_users_uid (docs/api.md#post-managerget_all_users_uid):
 * a page of uids in code-point order after the cursor's. Paging by key, not
 * by offset: users added or deleted meanwhile never shift a page.
 */
export const getAllUsersUid = factory.createHandlers(
  appServerRequest,
  validate("json", getAllUsersUidBody),
  async (c) => {
    const { cursor, limit = LIMITS.pageLimit } = c.req.valid("json");
    const uids = await uidsAfter(c.env.DB, cursor, limit);
    const uidList = uids.slice(0, limit);
    const last = uidList.at(-1);
    return ok(c, { uidList, ...(uids.length > limit && last !== undefined ? { nextCursor: encodeCursor(last) } : {}) });
  },
);

/** POST /manager/delete_user (docs/api.md#post-managerdelete_user): erasure, answered once it is complete. */
export const deleteUser = factory.createHandlers(appServerRequest, validate("json", deleteUserBody), async (c) => {
  const { deleteUidList } = c.req.valid("json");
  return ok(c, await deleteUsers(c.env, deleteUidList));
});

/**
 * POST /manager/ban_user (docs/api.md#post-managerban_user). D1 first (what
 * user_token reads), then the user's object (what handshakes read, and where
 * the sessions are): a retry after a failure completes both.
 */
export const banUser = factory.createHandlers(appServerRequest, validate("json", banUserBody), async (c) => {
  const { uid, until, reason = "" } = c.req.valid("json");
  const inForce = until * 1000 > Date.now();
  if (!(await setBan(c.env.DB, uid, inForce ? { untilSeconds: until, reason } : undefined))) {
    throw ApiError.notRegistered(uid);
  }
  await userSession(c.env, uid).ban(inForce ? until * 1000 : 0, reason);
  return ok(c);
});

/** POST /manager/get_user_sessions (docs/api.md#post-managerget_user_sessions): one entry per open session. */
export const getUserSessions = factory.createHandlers(
  appServerRequest,
  validate("json", getUserSessionsBody),
  async (c) => {
    const { uid } = c.req.valid("json");
    if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
    return ok(c, { data: await userSession(c.env, uid).sessions() });
  },
);

/**
 * POST /manager/set_presence_grants (docs/api.md#post-managerset_presence_grants):
 * who may see `uid`'s presence when PRESENCE_VISIBILITY is `granted`. The grants
 * live with the user, in its presence shard, one row each.
 */
export const setPresenceGrants = factory.createHandlers(
  appServerRequest,
  validate("json", setPresenceGrantsBody),
  async (c) => {
    const { uid, add = [], remove = [] } = c.req.valid("json");
    if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
    const shard = presenceShardFor(c.env, uid, readSettings(c.env).presenceShards);
    const outcome = await shard.setGrants(uid, add, remove, MAX_GRANTS_PER_USER);
    if (!outcome.ok) {
      throw ApiError.badRequest(
        `add: a user has at most ${MAX_GRANTS_PER_USER} grants (this would make ${outcome.count}); nothing changed`,
      );
    }
    return ok(c);
  },
);

/** POST /manager/get_presence_grants (docs/api.md#post-managerget_presence_grants): paged as get_all_users_uid. */
export const getPresenceGrants = factory.createHandlers(
  appServerRequest,
  validate("json", getPresenceGrantsBody),
  async (c) => {
    const { uid, cursor, limit = LIMITS.pageLimit } = c.req.valid("json");
    if (!(await userExists(c.env.DB, uid))) throw ApiError.notRegistered(uid);
    const shard = presenceShardFor(c.env, uid, readSettings(c.env).presenceShards);
    const page = await shard.grants(uid, cursor, limit);
    const userIDList = page.slice(0, limit);
    const last = userIDList.at(-1);
    return ok(c, {
      userIDList,
      ...(page.length > limit && last !== undefined ? { nextCursor: encodeCursor(last) } : {}),
    });
  },
);
