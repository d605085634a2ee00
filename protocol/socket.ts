/** The heartbeat: the client sends exactly this text, the server answers PONG without waking the user's object. */
export const PING = "ping";
export const PONG = "pong";

/** Close codes the server sends on a session socket. */
export const CloseCode = {
  kicked: 4001,
  loggedOut: 4002,
  heartbeatTimeout: 4003,
  tokenExpired: 4004,
  /** The account was deleted (docs/api.md#post-managerdelete_user): do not reconnect. */
  accountDeleted: 4005,
  /** The user is banned (docs/api.md#post-managerban_user): the close reason says until when; reconnect after that. */
  banned: 4006,
  /** Policy violation (a standard code): the socket sent more frames than its budget allows. */
  tooManyFrames: 1008,
} as const;

const BANNED_PREFIX = "banned until ";

/** The reason of a 4006 close: `banned until <Unix seconds>`, the ban's end. */
export function bannedCloseReason(untilSeconds: number): string {
  return `${BANNED_PREFIX}${untilSeconds}`;
}

/** The ban's end (Unix seconds) a 4006 close reason names, or undefined when it names none. */
export function banEndOf(reason: string): number | undefined {
  if (!reason.startsWith(BANNED_PREFIX)) return undefined;
  const seconds = reason.slice(BANNED_PREFIX.length);
  return /^\d{1,12}$/.test(seconds) ? Number(seconds) : undefined;
}
