import type { PlatformEvent, PlatformId, PresenceEvent, PresenceEventReason, StateEvent } from "../../protocol";
import { platformMask, platformName, platformsOfMask } from "../platforms";
import type { HeldOffline, PresenceSettings, StoredPresence } from "../storage/user-presence";

/** Why a platform's last session ended, and when. */
export interface Ending {
  reason: Exclude<PresenceEventReason, "connect">;
  atMs: number;
}

export interface ChangeInput {
  uid: string;
  stored: StoredPresence;
  /** The platforms live right now. */
  live: readonly PlatformId[];
  /** Of those, the ones whose every live session is in the background. */
  background: readonly PlatformId[];
  /** What the user sets about its own presence, after this event (unchanged: `stored.settings`). */
  settings: PresenceSettings;
  /** What ended sessions during this event, by platform; a platform that vanished without one ended by "close". */
  endings: ReadonlyMap<PlatformId, Ending>;
  nowMs: number;
  /** Webhooks on, with their flap grace; undefined: no events are built at all. */
  webhooks?: { graceMs: number };
  newId: () => string;
}

export interface ChangeResult {
  stored: StoredPresence;
  /** Events to deliver now (they are in `stored.outbox` too). */
  events: PresenceEvent[];
  changed: boolean;
}

/**
 * What a change of the user's presence means: the next stored state (one
 * row), and the webhook events it produces (docs/webhooks.md). Every platform
 * that changes takes the next `seq`, and so does a change of the user's state
 * (background, invisibility, custom status), with one `state` event; `seq`
 * only grows. With a grace, an offline is held instead of sent; the platform
 * coming back within it cancels both events, and an expired hold is sent by
 * flushHeld with a fresh `seq`. A change of background alone is held the same
 * way (docs/webhooks.md#the-grace). Events list the platforms a receiver
 * believes live: held ones too.
 */
export function applyChange(input: ChangeInput): ChangeResult {
  const { stored, nowMs, webhooks } = input;
  const before = stored.platforms;
  const after = platformMask(input.live);
  const background = platformMask(input.background) & after;
  // A platform that goes keeps no background flag: that is the offline's news, not a change of state.
  const stateChanged = background !== (stored.background & after) || !sameSettings(input.settings, stored.settings);
  if (before === after && !stateChanged) return { stored, events: [], changed: false };

  let seq = stored.seq;
  let held = [...stored.held];
  const events: PresenceEvent[] = [];
  // What receivers believe live: the platforms before this change, and the ones whose offline is held.
  let believed = before | platformMask(held.map((h) => h.platform));
  const emit = (platform: PlatformId, type: PlatformEvent["type"], reason: PresenceEventReason, time: number) =>
    events.push(event(input, { platform, type, reason, time, seq, believed }));

  for (const platform of platformsOfMask(before & ~after)) {
    seq++;
    const ending = input.endings.get(platform) ?? { reason: "close", atMs: nowMs };
    if (!webhooks) continue;
    if (webhooks.graceMs > 0) {
      held.push({ platform, reason: ending.reason, atMs: ending.atMs, dueMs: nowMs + webhooks.graceMs });
    } else {
      believed &= ~(1 << platform);
      emit(platform, "offline", ending.reason, ending.atMs);
    }
  }
  for (const platform of platformsOfMask(after & ~before)) {
    seq++;
    if (!webhooks) continue;
    if (held.some((h) => h.platform === platform)) {
      held = held.filter((h) => h.platform !== platform); // back within the grace: no offline, no online
    } else {
      believed |= 1 << platform;
      emit(platform, "online", "connect", nowMs);
    }
  }

  let settings = input.settings;
  let heldBackground = stored.heldBackground;
  if (stateChanged) {
    seq++;
    // Going invisible: watchers see the user as of this change.
    if (settings.invisible && !stored.settings.invisible)
      settings = { ...settings, invisible: { ...settings.invisible, seq } };
    if (webhooks) {
      // With a grace, a change of background alone is held like an offline: a flip undone within it
      // sends nothing. Any other change of state is sent at once, with the whole state, background included.
      const heard = heldBackground?.heard ?? stored.background;
      if (webhooks.graceMs > 0 && sameSettings(input.settings, stored.settings)) {
        heldBackground =
          background === (heard & after)
            ? undefined
            : { heard, dueMs: heldBackground?.dueMs ?? nowMs + webhooks.graceMs, atMs: nowMs };
      } else {
        heldBackground = undefined;
        events.push(stateEvent(input, { seq, time: nowMs, platforms: believed, background, settings }));
      }
    }
  }

  const lastSeenMs = after === 0 && before !== 0 ? lastEnding(before, input.endings, nowMs) : stored.lastSeenMs;
  return {
    stored: {
      ...stored,
      seq,
      platforms: after,
      background,
      settings,
      lastSeenMs,
      held,
      heldBackground,
      outbox: appendToOutbox(stored.outbox, events),
    },
    events,
    changed: true,
  };
}

/** Whether two settings say the same: invisible or not, and the same custom status. */
function sameSettings(a: PresenceSettings, b: PresenceSettings): boolean {
  return (
    (a.invisible === undefined) === (b.invisible === undefined) &&
    a.customStatus?.text === b.customStatus?.text &&
    a.customStatus?.expiresAtMs === b.customStatus?.expiresAtMs
  );
}

function stateEvent(
  input: Pick<ChangeInput, "uid" | "newId">,
  state: { seq: number; time: number; platforms: number; background: number; settings: PresenceSettings },
): StateEvent {
  const { customStatus } = state.settings;
  return {
    id: input.newId(),
    type: "state",
    userID: input.uid,
    platforms: platformsOfMask(state.platforms).map(platformName),
    background: platformsOfMask(state.background).map(platformName),
    invisible: state.settings.invisible !== undefined,
    customStatus: customStatus ? { text: customStatus.text, ...expiry(customStatus.expiresAtMs) } : null,
    seq: state.seq,
    time: state.time,
  };
}

/** A custom status's expiry as clients read it, in Unix seconds. */
export function expiry(expiresAtMs: number | undefined): { expiresAt?: number } {
  return expiresAtMs === undefined ? {} : { expiresAt: Math.round(expiresAtMs / 1000) };
}

/**
 * Sends what was held for the webhook grace and has run out: each offline
 * with the next `seq`, then a held change of background, if the background
 * still differs from what receivers heard, as one `state` event with the next.
 */
export function flushHeld(input: Pick<ChangeInput, "uid" | "stored" | "nowMs" | "newId">): {
  stored: StoredPresence;
  events: PresenceEvent[];
} {
  const { stored, nowMs } = input;
  const due = stored.held.filter((h) => h.dueMs <= nowMs).sort((a, b) => a.atMs - b.atMs);
  const backgroundDue =
    stored.heldBackground && stored.heldBackground.dueMs <= nowMs ? stored.heldBackground : undefined;
  if (due.length === 0 && !backgroundDue) return { stored, events: [] };
  let seq = stored.seq;
  let held = stored.held;
  const events: PresenceEvent[] = [];
  const believedNow = () => stored.platforms | platformMask(held.map((h) => h.platform));
  for (const hold of due) {
    held = held.filter((h) => h !== hold);
    seq++;
    events.push(
      event(input, {
        platform: hold.platform,
        type: "offline",
        reason: hold.reason,
        time: hold.atMs,
        seq,
        believed: believedNow(),
      }),
    );
  }
  if (backgroundDue && stored.background !== (backgroundDue.heard & stored.platforms)) {
    seq++;
    events.push(
      stateEvent(input, {
        seq,
        time: backgroundDue.atMs,
        platforms: believedNow(),
        background: stored.background,
        settings: stored.settings,
      }),
    );
  }
  const { heldBackground, ...rest } = stored;
  const next = backgroundDue ? rest : stored;
  return { stored: { ...next, seq, held, outbox: appendToOutbox(stored.outbox, events) }, events };
}

/**
 * Unsent events a user's object keeps, at most. They live in its one state
 * row, which must stay far under the 2 MB a row may hold (an event is under
 * 1 KB); past this, while the queue refuses them for hours, the oldest go:
 * each event carries the user's whole state, so the newest still tell it.
 */
export const MAX_UNSENT_EVENTS = 500;

function appendToOutbox(outbox: readonly PresenceEvent[], events: readonly PresenceEvent[]): PresenceEvent[] {
  return [...outbox, ...events].slice(-MAX_UNSENT_EVENTS);
}

/** When the next held event (an offline, a change of background) is due, if any. */
export function nextHeldDue(stored: StoredPresence): number | undefined {
  const due = [
    ...stored.held.map((h: HeldOffline) => h.dueMs),
    ...(stored.heldBackground ? [stored.heldBackground.dueMs] : []),
  ];
  return due.length ? Math.min(...due) : undefined;
}

/** The moment the user's last live session ended: the latest ending among the platforms that went. */
function lastEnding(before: number, endings: ReadonlyMap<PlatformId, Ending>, nowMs: number): number {
  return Math.max(...platformsOfMask(before).map((p) => endings.get(p)?.atMs ?? nowMs));
}

function event(
  input: Pick<ChangeInput, "uid" | "newId" | "stored">,
  change: {
    platform: PlatformId;
    type: PlatformEvent["type"];
    reason: PresenceEventReason;
    time: number;
    seq: number;
    believed: number;
  },
): PlatformEvent {
  return {
    id: input.newId(),
    type: change.type,
    userID: input.uid,
    platformID: change.platform,
    platform: platformName(change.platform),
    reason: change.reason,
    platforms: platformsOfMask(change.believed).map(platformName),
    seq: change.seq,
    time: change.time,
    // The AppServer sees the truth, and that watchers see the user offline meanwhile.
    ...(input.stored.settings.invisible ? { invisible: true as const } : {}),
  };
}
