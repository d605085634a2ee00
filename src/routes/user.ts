import { readSettings } from "../config";
import { recordMetric } from "../metrics";
import { validate } from "../middleware/validate";
import { platformName } from "../platforms";
import { readPresence } from "../presence/shards";
import { onlineStatusBody } from "../schemas";
import { ok } from "./answer";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

/** POST /user/get_users_online_status (docs/api.md#post-userget_users_online_status). */
export const onlineStatus = factory.createHandlers(appServerRequest, validate("json", onlineStatusBody), async (c) => {
  const { userIDList } = c.req.valid("json");
  const started = Date.now();
  const known = await readPresence(c.env, userIDList, readSettings(c.env).presenceShards);
  // One entry per requested id, in request order, duplicates kept.
  const successResult = userIDList.map((userID) => {
    const presence = known.get(userID);
    if (presence && "platforms" in presence) {
      return {
        userID,
        status: "online" as const,
        detailPlatformStatus: presence.platforms.map((p) => ({ platform: platformName(p), status: "online" as const })),
      };
    }
    // lastSeen only for a user who has been online (docs/api.md#post-userget_users_online_status).
    return presence
      ? { userID, status: "offline" as const, lastSeen: presence.lastSeenMs }
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
