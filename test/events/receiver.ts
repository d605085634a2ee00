import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { PlatformEvent, PresenceEvent, PresenceEventBody, StateEvent } from "../../protocol";
import { sleep } from "../helpers";

/** A delivery as the receiver worker recorded it. */
export interface Delivery {
  signature: string | null;
  body: string;
  status: number;
  at: number;
}

function receiver(): Fetcher {
  if (!env.RECEIVER) throw new Error("no RECEIVER binding: run this file in a webhooks project");
  return env.RECEIVER;
}

export async function deliveries(): Promise<Delivery[]> {
  return (await receiver().fetch("http://receiver.test/_received")).json();
}

/** The next deliveries that carry an event of `uid` are answered with these statuses (then 200 again). */
export async function respondWith(uid: string, statuses: number[]): Promise<void> {
  await receiver().fetch("http://receiver.test/_respond", {
    method: "POST",
    body: JSON.stringify({ statuses, when: uid }),
  });
}

/** Every event delivered for one user, in the order received (retries included). */
export async function eventsOf(uid: string, { acceptedOnly = true } = {}): Promise<PresenceEvent[]> {
  return (await deliveries())
    .filter((d) => !acceptedOnly || d.status === 200)
    .flatMap((d) => (JSON.parse(d.body) as PresenceEventBody).events)
    .filter((e) => e.userID === uid);
}

/** Waits until the user's accepted events satisfy `done`, and returns them. */
export async function waitForEvents(
  uid: string,
  done: (events: PresenceEvent[]) => boolean,
  withinMs = 8_000,
): Promise<PresenceEvent[]> {
  const deadline = Date.now() + withinMs;
  let events = await eventsOf(uid);
  while (!done(events) && Date.now() < deadline) {
    await sleep(100);
    events = await eventsOf(uid);
  }
  expect(done(events), JSON.stringify(events)).toBe(true);
  return events;
}

/** The platform events only: online and offline, not state. */
export function platformEvents(events: readonly PresenceEvent[]): PlatformEvent[] {
  return events.filter((e): e is PlatformEvent => e.type !== "state");
}

/** The state events only. */
export function stateEvents(events: readonly PresenceEvent[]): StateEvent[] {
  return events.filter((e): e is StateEvent => e.type === "state");
}

/**
 * What a receiver acts on, in seq order: type/platform/reason/platforms of
 * each platform event; platforms/background/invisible/custom status of each
 * state event.
 */
export function summary(events: readonly PresenceEvent[]): string[] {
  return [...events]
    .sort((a, b) => a.seq - b.seq)
    .map((e) =>
      e.type === "state"
        ? `state [${e.platforms.join(",")}] background [${e.background.join(",")}]${e.invisible ? " invisible" : ""}${
            e.customStatus ? ` "${e.customStatus.text}"` : ""
          }`
        : `${e.type} ${e.platform} ${e.reason} [${e.platforms.join(",")}]`,
    );
}
