import { ErrCode, PLATFORM_NAMES } from "../../protocol";
import { ApiError } from "../errors";
import { recordMetric } from "../metrics";
import { countHandshake } from "../middleware/abuse-limits";
import { requireConfigured } from "../middleware/configured";
import { validate } from "../middleware/validate";
import { SESSION_CLAIMS_HEADER } from "../presence/user-session";
import { userSession } from "../presence/user-sessions";
import { connectQuery } from "../schemas";
import { type ClientTokenClaims, TokenError, verifyClientToken } from "../tokens";
import { factory } from "./factory";

function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

/** RFC 9110 §15.5.22: a 426 names the protocol to upgrade to, and Connection says Upgrade is hop-by-hop (§7.8). */
export const UPGRADE_REQUIRED_HEADERS = { Upgrade: "websocket", Connection: "Upgrade" } as const;

/**
 * GET / and /ws: the client SDK's WebSocket handshake (docs/protocol.md#connecting). The token is
 * fully verified here (signature, expiry, uid/platform binding), so a bad one
 * never reaches a Durable Object; the user's object then checks invalidation
 * and accepts.
 */
export const connect = factory.createHandlers(
  requireConfigured,
  async (c, next) => {
    if (!isWebSocketUpgrade(c.req.raw)) {
      throw new ApiError(426, ErrCode.badRequest, "expected a WebSocket upgrade", UPGRADE_REQUIRED_HEADERS);
    }
    const operationID = c.req.query("operationID");
    if (operationID) c.set("operationID", operationID);
    await next();
  },
  validate("query", connectQuery),
  async (c) => {
    const { sendID, token, platformID } = c.req.valid("query");
    const started = Date.now();
    const record = (outcome: string) =>
      recordMetric(c.env, {
        kind: "connect",
        outcome,
        details: [PLATFORM_NAMES[platformID]],
        latencyMs: Date.now() - started,
      });
    let claims: ClientTokenClaims;
    try {
      claims = await verifyClientToken(c.env, token, { uid: sendID, platform: platformID });
      // Counted per token, and only once its signature is good: neither a stranger nor a retired token
      // can use up the allowance of the user's other tokens.
      await countHandshake(c.env, claims.jti);
    } catch (error) {
      const refusal = error instanceof TokenError ? new ApiError(401, error.errCode, error.message) : error;
      record(refusal instanceof ApiError ? String(refusal.errCode) : "error");
      throw refusal;
    }
    const forwarded = new Request(c.req.url, {
      headers: { Upgrade: "websocket", [SESSION_CLAIMS_HEADER]: JSON.stringify(claims) },
    });
    const response = await userSession(c.env, sendID).fetch(forwarded);
    if (response.status !== 101) c.set("errCode", await errCodeOf(response));
    record(response.status === 101 ? "ok" : String(c.get("errCode") ?? response.status));
    return response;
  },
);

async function errCodeOf(response: Response): Promise<number | undefined> {
  try {
    const body: unknown = await response.clone().json();
    return typeof body === "object" && body !== null && "errCode" in body ? Number(body.errCode) : undefined;
  } catch {
    return undefined;
  }
}
