import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ErrCode, type KnownErrCode } from "../protocol";

/** A refusal the caller should see as-is, in the JSON envelope (docs/api.md#errors). */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly errCode: KnownErrCode,
    readonly errMsg: string,
    /** Extra answer headers, e.g. a 429's Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(errMsg);
    this.name = "ApiError";
  }

  static badRequest(errMsg: string): ApiError {
    return new ApiError(400, ErrCode.badRequest, errMsg);
  }
  static notAuthorized(): ApiError {
    return new ApiError(401, ErrCode.notAuthorized, "not authorized");
  }
  static alreadyRegistered(uid: string): ApiError {
    return new ApiError(409, ErrCode.alreadyRegistered, `uid ${JSON.stringify(uid)} is already registered`);
  }
  static notRegistered(uid: string): ApiError {
    return new ApiError(404, ErrCode.notRegistered, `uid ${JSON.stringify(uid)} is not registered`);
  }
  static banned(untilSeconds: number): ApiError {
    return new ApiError(
      403,
      ErrCode.banned,
      `the user is banned until ${new Date(untilSeconds * 1000).toISOString()} (${untilSeconds})`,
    );
  }
  static noSuchSession(connID: string): ApiError {
    return new ApiError(404, ErrCode.noSuchSession, `no open session ${JSON.stringify(connID)} on that platform`);
  }
  static misconfigured(setting: string, problem = "is not set"): ApiError {
    return new ApiError(500, ErrCode.internal, `server misconfigured: ${setting} ${problem}`);
  }
  /** Every 429 says when to come back, in seconds (the SDK waits that long: docs/sdk.md). */
  static rateLimited(what: string, retryAfterSeconds: number): ApiError {
    return new ApiError(429, ErrCode.rateLimited, `too many requests: ${what}`, {
      "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
  static internal(): ApiError {
    return new ApiError(500, ErrCode.internal, "internal error");
  }
}

export type Envelope<Extra extends object = object> = { errCode: number; errMsg: string } & Extra;

export function envelope<Extra extends object>(errCode: number, errMsg: string, extra?: Extra): Envelope<Extra> {
  return { errCode, errMsg, ...(extra as Extra) };
}

/** A JSON answer outside Hono's context (gateway refusals, the Durable Object). */
export function envelopeResponse(status: number, errCode: number, errMsg: string, headers: HeadersInit = {}): Response {
  return Response.json(envelope(errCode, errMsg), { status, headers });
}
