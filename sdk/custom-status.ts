import { type CustomStatus, MAX_CUSTOM_STATUS_CHARS, MAX_CUSTOM_STATUS_SECONDS } from "../protocol/index.js";

export type { CustomStatus } from "../protocol/index.js";

/**
 * A custom status as the SDKs take it: `expiresAt` may be a Date as well as
 * Unix seconds. A Date is rounded up to the next whole second, so the status
 * lasts at least until that moment (as banUser's `until`).
 */
export interface CustomStatusInput {
  /** 1–128 characters (code points: an emoji is one), no control characters, well-formed Unicode. */
  text: string;
  /** When it clears itself: Unix seconds (an integer) or a Date, in the future and at most 30 days ahead. None: until changed. */
  expiresAt?: number | Date;
}

const CONTROL = /\p{Cc}/u;
/** With the u flag a surrogate matches only when it is not half of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Unix seconds for an expiry: a number as given, a Date rounded up. */
export function expirySeconds(expiresAt: number | Date, what = "expiresAt"): number {
  if (typeof expiresAt === "number") return expiresAt;
  if (!(expiresAt instanceof Date)) throw new TypeError(`${what}: must be Unix seconds or a Date`);
  const ms = expiresAt.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${what}: an invalid Date`);
  return Math.ceil(ms / 1000);
}

/** The status as the wire carries it: a Date turned into Unix seconds, fields other than text and expiresAt left out. */
export function wireCustomStatus(status: CustomStatusInput | null, what = "customStatus"): CustomStatus | null {
  if (status === null) return null;
  if (typeof status !== "object") throw new TypeError(`${what}: must be an object with text (and expiresAt), or null`);
  const { text, expiresAt } = status;
  return expiresAt === undefined ? { text } : { text, expiresAt: expirySeconds(expiresAt, `${what}.expiresAt`) };
}

/**
 * The status checked by the server's rules (docs/protocol.md#your-own-presence),
 * ready to send, or a TypeError (a field of the wrong type) or RangeError (a
 * value the server refuses) that names the rule. `nowMs` is this machine's
 * clock: the server checks the expiry again by its own.
 */
export function checkedCustomStatus(status: CustomStatusInput | null, nowMs: number): CustomStatus | null {
  const wire = wireCustomStatus(status);
  if (wire === null) return null;
  const { text, expiresAt } = wire;
  if (typeof text !== "string") throw new TypeError("customStatus.text: must be a string");
  let chars = 0;
  for (const _ of text) chars++;
  if (chars === 0) throw new RangeError("customStatus.text: must not be empty");
  if (chars > MAX_CUSTOM_STATUS_CHARS)
    throw new RangeError(
      `customStatus.text: at most ${MAX_CUSTOM_STATUS_CHARS} characters (code points), not ${chars}`,
    );
  if (LONE_SURROGATE.test(text))
    throw new RangeError("customStatus.text: must be well-formed Unicode (no lone surrogates)");
  if (CONTROL.test(text)) throw new RangeError("customStatus.text: must not contain control characters (Unicode Cc)");
  if (expiresAt === undefined) return wire;
  if (typeof expiresAt !== "number") throw new TypeError("customStatus.expiresAt: must be Unix seconds or a Date");
  if (!Number.isSafeInteger(expiresAt))
    throw new RangeError(`customStatus.expiresAt: must be an integer (Unix seconds), not ${expiresAt}`);
  if (expiresAt * 1000 <= nowMs) throw new RangeError("customStatus.expiresAt: must be in the future (Unix seconds)");
  if (expiresAt * 1000 > nowMs + MAX_CUSTOM_STATUS_SECONDS * 1000)
    throw new RangeError(`customStatus.expiresAt: must be at most ${MAX_CUSTOM_STATUS_SECONDS / 86_400} days ahead`);
  return wire;
}
