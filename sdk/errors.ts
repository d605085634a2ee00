import type { KnownErrCode } from "../protocol/index.js";

/** The server answered with a non-zero errCode (or not with the envelope at all). */
export class ImApiError extends Error {
  override readonly name = "ImApiError";

  constructor(
    /** The envelope's errCode; the HTTP status when the answer was not an envelope (e.g. a proxy's 502 page). */
    readonly errCode: KnownErrCode | number,
    /** The HTTP status of the answer. */
    readonly status: number,
    /** The envelope's errMsg. */
    readonly errMsg: string,
    /** The route that answered, e.g. "/auth/user_token". */
    readonly route: string,
  ) {
    super(`${route}: ${status}/${errCode} ${errMsg}`);
  }

  /** True for the errCode given, e.g. `error.is(ErrCode.alreadyRegistered)`. */
  is(code: KnownErrCode): boolean {
    return this.errCode === code;
  }
}

/** The request got no answer: connection failed, timed out, or the answer could not be read. */
export class ImNetworkError extends Error {
  override readonly name = "ImNetworkError";

  constructor(
    readonly route: string,
    /** How many times the request was sent. */
    readonly attempts: number,
    /**
     * True when the request may have reached the server and taken effect even
     * though no answer arrived. Always true after a send; see registerOrGetToken.
     */
    readonly outcomeUnknown: boolean,
    options: { cause: unknown },
  ) {
    super(`${route}: no answer after ${attempts} attempt(s): ${describeCause(options.cause)}`, options);
  }
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** Narrowing helper: `if (isImApiError(e, ErrCode.notRegistered)) …`. */
export function isImApiError(error: unknown, code?: KnownErrCode): error is ImApiError {
  return error instanceof ImApiError && (code === undefined || error.errCode === code);
}
