/** Every errCode the service answers with (docs/api.md#errors, docs/protocol.md#refusals): the HTTP envelope's and the socket frames'. */
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
  /** The user is banned (user_token); the errMsg says until when. */
  banned: 603,
  /** force_logout named a connID the user has no open session with. */
  noSuchSession: 604,
  tokenExpired: 701,
  tokenInvalidated: 702,
  tokenMalformed: 703,
  tokenNotActiveYet: 704,
  tokenUnknown: 705,
  /** A handshake of a banned user. */
  tokenUserBanned: 706,
} as const;

export type KnownErrCode = (typeof ErrCode)[keyof typeof ErrCode];
