import { every } from "hono/combine";
import { jsonObjectBody, limitBody } from "../middleware/json-body";
import { requireAppSecret } from "../middleware/app-secret";

/** What every AppServer route runs before its schema: size, JSON object, then the secret. */
export const appServerRequest = every(limitBody, jsonObjectBody, requireAppSecret);
