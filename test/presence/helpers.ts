import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { platformName } from "../../src/platforms";
import { userSession } from "../../src/presence/user-sessions";
import { onlinePlatforms } from "../helpers";

export function sessionStub(uid: string) {
  return userSession(env, uid);
}

/** Open sockets the user's object holds, per platform id. */
export async function openSocketCount(uid: string, platform?: number): Promise<number> {
  return runInDurableObject(sessionStub(uid), (_instance, state) =>
    state.getWebSockets(platform === undefined ? undefined : `platform:${platform}`).filter((ws) => ws.readyState === WebSocket.OPEN)
      .length,
  );
}

/** The presence index (what the status route reads) and the user's own sockets say the same. */
export async function expectIndexAgreesWithSockets(uid: string): Promise<string[]> {
  const fromSockets = (await sessionStub(uid).livePlatforms()).map(platformName);
  const fromIndex = await onlinePlatforms(uid);
  expect(fromIndex).toEqual(fromSockets);
  return fromIndex;
}
