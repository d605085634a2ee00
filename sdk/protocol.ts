/**
 * The facts of the wire protocol, spelled once: error codes, platform names,
 * close codes, the heartbeat text and the status batch limit. The worker
 * (src/errors.ts, src/platforms.ts, src/presence/sockets.ts, src/schemas.ts)
 * and both SDKs import them from here. This module imports nothing, so the
 * SDK build carries no server code into a browser or an AppServer.
 */

export const ErrCode = {
  ok: 0,
  badRequest: 400,
  notAuthorized: 401,
  notFound: 404,
  methodNotAllowed: 405,
  tooLarge: 413,
  rateLimited: 429,
  internal: 500,
  alreadyRegistered: 601,
  notRegistered: 602,
  tokenExpired: 701,
  tokenInvalidated: 702,
  tokenMalformed: 703,
  tokenNotActiveYet: 704,
  tokenUnknown: 705,
} as const;

export type KnownErrCode = (typeof ErrCode)[keyof typeof ErrCode];

export const PLATFORM_NAMES = {
  1: "IOS",
  2: "Android",
  3: "Windows",
  4: "OSX",
  5: "Web",
  6: "MiniWeb",
  7: "Linux",
} as const;

export type PlatformId = keyof typeof PLATFORM_NAMES;
export type PlatformName = (typeof PLATFORM_NAMES)[PlatformId];

/** Platform ids by name: `Platform.Web` is 5. */
export const Platform = {
  IOS: 1,
  Android: 2,
  Windows: 3,
  OSX: 4,
  Web: 5,
  MiniWeb: 6,
  Linux: 7,
} as const satisfies Record<PlatformName, PlatformId>;

/** Close codes the server sends on a session socket. */
export const CloseCode = {
  kicked: 4001,
  loggedOut: 4002,
  heartbeatTimeout: 4003,
  tokenExpired: 4004,
  /** Policy violation (standard code): the socket sent more frames than its budget allows. */
  tooManyFrames: 1008,
} as const;

/** The most uids one get_users_online_status call may carry. */
export const MAX_UIDS_PER_STATUS_QUERY = 200;

export const PING = "ping";
export const PONG = "pong";
