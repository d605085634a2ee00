/// <reference types="node" />
import { inject } from "vitest";
import { AppServerClient, type AppServerClientOptions } from "../../sdk/appserver";
import type { ClientSession, SessionEvent, SessionEvents } from "../../sdk/client";

export const workerUrl = (): string => inject("workerUrl");

export function appServer(options: Partial<AppServerClientOptions> = {}): AppServerClient {
  return new AppServerClient({ baseUrl: workerUrl(), secret: inject("imSecret"), ...options });
}

let counter = 0;
export function freshUid(prefix = "node"): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns true, failing with `what` after `withinMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  withinMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(50);
  }
}

/** Everything a session emitted, in order. */
export function recordEvents(session: ClientSession) {
  const events: { [E in SessionEvent]: SessionEvents[E][] } = {
    open: [],
    pong: [],
    message: [],
    kicked: [],
    banned: [],
    closed: [],
    error: [],
  };
  for (const name of Object.keys(events) as SessionEvent[]) {
    session.on(name, (event) => (events[name] as unknown[]).push(event));
  }
  return events;
}

/** The platform names the status route reports for `uid`. */
export async function onlinePlatformsOf(client: AppServerClient, uid: string): Promise<string[]> {
  const [entry] = await client.getUsersOnlineStatus([uid]);
  return entry?.status === "online" ? entry.detailPlatformStatus.map((p) => p.platform) : [];
}
