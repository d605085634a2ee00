import type { CustomStatus, PlatformName } from "../../../protocol";
import { unixTime } from "./dom";

/**
 * How the console words what a user says about its presence
 * (docs/protocol.md#your-own-presence), the same in every panel that shows it:
 * the watched users, the AppServer's status lookup and the webhook events.
 */

/** `"In a meeting" until <local time> (<Unix seconds>)`, or the text alone when it does not expire. */
export function describeCustomStatus(status: CustomStatus): string {
  const text = `"${status.text}"`;
  return status.expiresAt === undefined ? text : `${text} until ${unixTime(status.expiresAt)}`;
}

/** Live platforms, each in the background marked so: `Android (background), Web`; "none" when there are none. */
export function describePlatforms(
  platforms: readonly PlatformName[],
  background: readonly PlatformName[] = [],
): string {
  const behind = new Set(background);
  return platforms.map((name) => (behind.has(name) ? `${name} (background)` : name)).join(", ") || "none";
}
