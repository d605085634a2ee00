import { every } from "hono/combine";
import { requireAppSecret } from "../middleware/app-secret";
import { requireConfigured } from "../middleware/configured";
import { jsonObjectBody, limitBody } from "../middleware/json-body";

/** What every AppServer route runs before its schema: size, JSON object, then the secret; settings first. */
export const appServerRequest = every(requireConfigured, limitBody, jsonObjectBody, requireAppSecret);
