import { every } from "hono/combine";
import { requireConfigured } from "../middleware/configured";
import { jsonObjectBody, limitBody } from "../middleware/json-body";
import { requireAppSecret } from "../middleware/app-secret";

/** What every AppServer route runs before its schema: size, JSON object, then the secret; settings first. */
export const appServerRequest = every(requireConfigured, limitBody, jsonObjectBody, requireAppSecret);
