import { readSettings } from "../config";
import { ok } from "./answer";
import { validate } from "../middleware/validate";
import { platformName } from "../platforms";
import { livePlatformsOf } from "../presence/online-status";
import { onlineStatusBody } from "../schemas";
import { factory } from "./factory";
import { appServerRequest } from "./guards";

/** POST /user/get_users_online_status (SPEC §4). */
export const onlineStatus = factory.createHandlers(appServerRequest, validate("json", onlineStatusBody), async (c) => {
  const { userIDList } = c.req.valid("json");
  const live = await livePlatformsOf(c.env, userIDList, readSettings(c.env).presenceShards);
  // One entry per requested id, in request order, duplicates kept.
  const successResult = userIDList.map((userID) => {
    const platforms = live.get(userID);
    if (!platforms?.length) return { userID, status: "offline" as const };
    return {
      userID,
      status: "online" as const,
      detailPlatformStatus: platforms.map((p) => ({ platform: platformName(p), status: "online" as const })),
    };
  });
  return ok(c, { successResult });
});
