import { ErrCode, type KnownErrCode } from "../../protocol";

export interface ErrorCodeDoc {
  code: KnownErrCode;
  /** The HTTP statuses this code comes with. */
  statuses: number[];
  meaning: string;
}

/**
 * What each code in errors.ts means to a caller. Keyed by the ErrCode names, so
 * a new code that is not described here fails the type check.
 */
const MEANINGS: Record<keyof typeof ErrCode, Omit<ErrorCodeDoc, "code">> = {
  ok: { statuses: [200], meaning: "Success; errMsg is empty." },
  badRequest: {
    statuses: [400, 415, 426],
    meaning:
      "The body is not a JSON object (or not UTF-8, or nested deeper than 16 levels), a field is missing, has the wrong type or breaks a limit (errMsg names the field and the rule). " +
      "415 when Content-Type is not application/json; 426 for a GET on / or /ws without a WebSocket upgrade.",
  },
  notAuthorized: { statuses: [401], meaning: "The secret is missing, empty or wrong. Checked before any other field." },
  notFound: { statuses: [404], meaning: "No such route: a path the OpenAPI document does not list, with any method." },
  methodNotAllowed: {
    statuses: [405],
    meaning: "A known path with the wrong method; the Allow header lists the methods it takes.",
  },
  tooLarge: { statuses: [413], meaning: "The body is larger than MAX_BODY_BYTES (default 64 KiB)." },
  rateLimited: {
    statuses: [429],
    meaning:
      "Too many failed secrets from this caller (a correct secret is never refused), or too many handshakes with one token. The Retry-After header says how many seconds to wait.",
  },
  internal: {
    statuses: [500],
    meaning: "A server fault. When a secret or signing key is not configured, errMsg names the missing setting.",
  },
  alreadyRegistered: {
    statuses: [409],
    meaning: "user_register: the uid is already registered; the stored profile is unchanged.",
  },
  notRegistered: {
    statuses: [404],
    meaning: "user_token, force_logout and every user or manager route that names one uid: the uid is not registered.",
  },
  banned: {
    statuses: [403],
    meaning: "user_token: the user is banned; errMsg says until when (ban_user). The ban ends by itself then.",
  },
  noSuchSession: {
    statuses: [404],
    meaning: "force_logout with a connID: the user has no open session with that connID on that platform.",
  },
  tokenExpired: {
    statuses: [401],
    meaning: "WebSocket handshake: the token has expired. Get a fresh one from the AppServer.",
  },
  tokenInvalidated: {
    statuses: [401],
    meaning:
      "WebSocket handshake: the token was invalidated by a same-platform kick, a force_logout, or the deletion of its user. Also the text frame sent before close 4001.",
  },
  tokenMalformed: { statuses: [401], meaning: "WebSocket handshake: the token is not a well-formed token." },
  tokenNotActiveYet: { statuses: [401], meaning: "WebSocket handshake: the token is not valid yet (clock skew)." },
  tokenUnknown: {
    statuses: [401],
    meaning:
      "WebSocket handshake: any other token failure: bad signature, another uid (sendID) or another platform (platformID).",
  },
  tokenUserBanned: {
    statuses: [401],
    meaning: "WebSocket handshake: the user is banned (ban_user) until the time errMsg names.",
  },
};

export const ERROR_CODE_DOCS: ErrorCodeDoc[] = (Object.keys(ErrCode) as (keyof typeof ErrCode)[]).map((name) => ({
  code: ErrCode[name],
  ...MEANINGS[name],
}));

export function errorCodeDoc(code: KnownErrCode): ErrorCodeDoc {
  const doc = ERROR_CODE_DOCS.find((d) => d.code === code);
  if (!doc) throw new Error(`undocumented errCode ${code}`);
  return doc;
}
