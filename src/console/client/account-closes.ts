import { CloseCode, ErrCode } from "../../../protocol";
import { isImApiError } from "../../../sdk/appserver";
import { unixTime } from "./dom";

/**
 * What a close that ended the account's sessions says in a row, or undefined
 * for any other close. The SDK ends a session closed with 4005 (deleted) by
 * itself; after 4006 (banned) it waits until the ban's end and reconnects. The
 * console stops the session after either, and says why.
 */
export function accountClose(code: number, reason: string): string | undefined {
  if (code === CloseCode.accountDeleted) return `closed ${code} (account deleted)`;
  if (code === CloseCode.banned) return `closed ${code} (${describeBan(reason)})`;
  return undefined;
}

/** The 4006 close reason, `banned until <Unix seconds>`, with the moment in local time too. */
function describeBan(reason: string): string {
  const until = /^banned until (\d+)$/.exec(reason)?.[1];
  return until === undefined ? reason || "banned" : `banned until ${unixTime(Number(until))}`;
}

/** A token request refused for the account itself: not registered (602, e.g. deleted) or banned (603). */
export function isAccountRefusal(error: unknown): boolean {
  return isImApiError(error, ErrCode.notRegistered) || isImApiError(error, ErrCode.banned);
}
