import type { CustomStatus } from "../../../protocol";

/**
 * A custom status editor's inputs: the text, and an optional expiry, either a
 * moment (a datetime-local input, the page's local time, to the second) or
 * "in N minutes". Used by a console session's row (the client SDK's
 * setCustomStatus, a `set` frame) and by the AppServer's panel (set_custom_status).
 */
export interface CustomStatusInputs {
  text: HTMLInputElement;
  until: HTMLInputElement;
  minutes: HTMLInputElement;
}

/** One way to say the expiry at a time: typing a moment clears the minutes, and the other way round. */
export function oneExpiryAtATime({ until, minutes }: CustomStatusInputs): void {
  until.addEventListener("input", () => {
    if (until.value) minutes.value = "";
  });
  minutes.addEventListener("input", () => {
    if (minutes.value) until.value = "";
  });
}

/**
 * The status the inputs say, or why there is none. Only the expiry's input is
 * read here; the rules (the text's length, an expiry in the future and at
 * most 30 days ahead) are the server's. A session's row shows the client SDK's
 * refusal by those rules before anything is sent, or the server's error frame;
 * the AppServer's panel shows the server's refusal.
 */
export function readCustomStatus({ text, until, minutes }: CustomStatusInputs): CustomStatus | { problem: string } {
  if (minutes.value) {
    const n = Number(minutes.value);
    if (!Number.isFinite(n)) return { problem: `"${minutes.value}" is not a number of minutes` };
    return { text: text.value, expiresAt: Math.round(Date.now() / 1000 + n * 60) };
  }
  if (until.value) {
    // A datetime-local value is the page's local time.
    const ms = new Date(until.value).getTime();
    if (!Number.isFinite(ms)) return { problem: `"${until.value}" is not a moment` };
    return { text: text.value, expiresAt: Math.ceil(ms / 1000) };
  }
  return { text: text.value };
}

export function isProblem(value: CustomStatus | { problem: string }): value is { problem: string } {
  return "problem" in value;
}
