import { describe, expect, it } from "vitest";
import type { PlatformId, PresenceEvent } from "../../protocol";
import { platformMask } from "../../src/platforms";
import { applyChange, type Ending, flushHeld, MAX_UNSENT_EVENTS, nextHeldDue } from "../../src/presence/changes";
import { NEVER_ONLINE, type PresenceSettings, type StoredPresence } from "../../src/storage/user-presence";

const NEVER = NEVER_ONLINE;
let ids = 0;
const base = { uid: "u", newId: () => `e${++ids}` };
/** A change of the live platforms; the user's state (background, settings) stays as stored unless given. */
const change = (
  stored: StoredPresence,
  live: PlatformId[],
  nowMs: number,
  graceMs?: number,
  endings = new Map<PlatformId, Ending>(),
  state: { background?: PlatformId[]; settings?: PresenceSettings } = {},
) =>
  applyChange({
    ...base,
    stored,
    live,
    background: state.background ?? [],
    settings: state.settings ?? stored.settings,
    endings,
    nowMs,
    webhooks: graceMs === undefined ? undefined : { graceMs },
  });
const brief = (r: { events: PresenceEvent[] }) =>
  r.events.map((e) =>
    e.type === "state"
      ? `${e.seq} state [${e.platforms.join(",")}] bg [${e.background.join(",")}] ${e.invisible ? "invisible " : ""}${JSON.stringify(e.customStatus)}`
      : `${e.seq} ${e.type} ${e.platform} ${e.reason} [${e.platforms.join(",")}]`,
  );

describe("applyChange", () => {
  it("gives each platform that changed the next seq, and lists the platforms live after it", () => {
    const a = change(NEVER, [1, 5], 1_000, 0);
    expect(brief(a)).toEqual(["1 online IOS connect [IOS]", "2 online Web connect [IOS,Web]"]);
    const b = change(a.stored, [5, 7], 2_000, 0, new Map([[1, { reason: "logged_out", atMs: 1_900 }]]));
    expect(brief(b)).toEqual(["3 offline IOS logged_out [Web]", "4 online Linux connect [Web,Linux]"]);
    expect(b.events[0]?.time).toBe(1_900);
    expect(b.stored.outbox).toHaveLength(4);
  });

  it(`keeps at most ${MAX_UNSENT_EVENTS} unsent events, the newest, so the state row stays small while the queue refuses them`, () => {
    let stored = NEVER;
    for (let i = 0; i < MAX_UNSENT_EVENTS; i++)
      stored = change(change(stored, [1], i * 10, 0).stored, [], i * 10 + 5, 0).stored;
    expect(stored.outbox).toHaveLength(MAX_UNSENT_EVENTS);
    const last = change(stored, [3], 99_000, 0);
    expect(last.stored.outbox).toHaveLength(MAX_UNSENT_EVENTS);
    expect(last.stored.outbox.at(-1)).toMatchObject({
      type: "online",
      platform: "Windows",
      seq: 2 * MAX_UNSENT_EVENTS + 1,
    });
    expect(last.stored.outbox[0]?.seq).toBe(MAX_UNSENT_EVENTS + 2);
    expect(JSON.stringify(last.stored.outbox).length).toBeLessThan(500_000);
  });

  it("changes nothing, and writes nothing, when the live platforms are the same", () => {
    const a = change(NEVER, [2], 1_000, 0);
    expect(change(a.stored, [2], 2_000, 0)).toEqual({ stored: a.stored, events: [], changed: false });
  });

  it("records lastSeen as the moment the last session ended, only when no platform is left", () => {
    const a = change(NEVER, [1, 2], 1_000, 0);
    const b = change(a.stored, [2], 2_000, 0);
    expect(b.stored.lastSeenMs).toBeUndefined();
    const c = change(b.stored, [], 9_000, 0, new Map([[2, { reason: "heartbeat_timeout", atMs: 8_000 }]]));
    expect(c.stored.lastSeenMs).toBe(8_000);
    expect(brief(c)).toEqual(["4 offline Android heartbeat_timeout []"]);
  });

  it("without webhooks, keeps seq and lastSeen but builds no event", () => {
    const a = change(NEVER, [1], 1_000);
    const b = change(a.stored, [], 2_000);
    expect([a.events, b.events, b.stored.outbox]).toEqual([[], [], []]);
    expect(b.stored).toMatchObject({ seq: 2, platforms: 0, lastSeenMs: 2_000 });
  });
});

describe("state changes (background, invisibility, custom status)", () => {
  const none = new Map<PlatformId, Ending>();

  it("takes the next seq and makes one state event with the whole state after it", () => {
    const a = change(NEVER, [1, 5], 1_000, 0);
    const b = change(a.stored, [1, 5], 2_000, 0, none, { background: [1] });
    expect(brief(b)).toEqual(["3 state [IOS,Web] bg [IOS] null"]);
    const status = { text: "In a meeting", expiresAtMs: 9_000_000 };
    const c = change(b.stored, [1, 5], 3_000, 0, none, { background: [1], settings: { customStatus: status } });
    expect(brief(c)).toEqual(['4 state [IOS,Web] bg [IOS] {"text":"In a meeting","expiresAt":9000}']);
    expect(c.stored).toMatchObject({ seq: 4, background: platformMask([1]), settings: { customStatus: status } });
  });

  it("changes nothing when the state is the same, and gives going invisible the change's own seq", () => {
    const a = change(NEVER, [2], 1_000, 0, none, { background: [2] });
    expect(change(a.stored, [2], 2_000, 0, none, { background: [2] }).changed).toBe(false);
    const invisible = { invisible: { sinceMs: 3_000, seq: 0 } };
    const b = change(a.stored, [2], 3_000, 0, none, { background: [2], settings: invisible });
    expect(brief(b)).toEqual([`${a.stored.seq + 1} state [Android] bg [Android] invisible null`]);
    expect(b.stored.settings.invisible?.seq).toBe(a.stored.seq + 1);
  });

  it("does not count a platform that goes as a change of background: its offline says it", () => {
    const a = change(NEVER, [1, 5], 1_000, 0, none, { background: [1] });
    const b = change(a.stored, [5], 2_000, 0);
    expect(brief(b)).toEqual([`${a.stored.seq + 1} offline IOS close [Web]`]);
    expect(b.stored.background).toBe(0);
  });

  it("without webhooks, still takes a seq and stores the state", () => {
    const a = change(NEVER, [1], 1_000);
    const b = change(a.stored, [1], 2_000, undefined, none, { settings: { customStatus: { text: "hi" } } });
    expect(b).toMatchObject({
      changed: true,
      events: [],
      stored: { seq: 2, settings: { customStatus: { text: "hi" } } },
    });
  });
});

describe("the webhook grace and background", () => {
  const none = new Map<PlatformId, Ending>();
  const grace = 3_000;

  it("sends nothing for a flip undone within the grace", () => {
    const a = change(NEVER, [1], 1_000, grace);
    const away = change(a.stored, [1], 2_000, grace, none, { background: [1] });
    expect(away.events).toEqual([]);
    expect(away.stored.heldBackground).toEqual({ heard: 0, dueMs: 5_000, atMs: 2_000 });
    expect(nextHeldDue(away.stored)).toBe(5_000);
    const back = change(away.stored, [1], 3_000, grace);
    expect(back.events).toEqual([]);
    expect(back.stored.heldBackground).toBeUndefined();
    expect(back.stored.seq).toBe(a.stored.seq + 2);
    expect(flushHeld({ ...base, stored: back.stored, nowMs: 9_000 }).events).toEqual([]);
  });

  it("sends one state event when the grace runs out, with the state then and the time of the last change", () => {
    const a = change(NEVER, [1, 5], 1_000, grace);
    const away = change(a.stored, [1, 5], 2_000, grace, none, { background: [1] });
    const more = change(away.stored, [1, 5], 2_500, grace, none, { background: [1, 5] });
    expect(more.events).toEqual([]);
    expect(more.stored.heldBackground).toEqual({ heard: 0, dueMs: 5_000, atMs: 2_500 });
    expect(flushHeld({ ...base, stored: more.stored, nowMs: 4_999 }).events).toEqual([]);
    const flushed = flushHeld({ ...base, stored: more.stored, nowMs: 5_000 });
    expect(brief(flushed)).toEqual([`${more.stored.seq + 1} state [IOS,Web] bg [IOS,Web] null`]);
    expect(flushed.events[0]?.time).toBe(2_500);
    expect(flushed.stored.heldBackground).toBeUndefined();
  });

  it("sends any other change of state at once, background included, and ends the hold", () => {
    const a = change(NEVER, [1], 1_000, grace);
    const away = change(a.stored, [1], 2_000, grace, none, { background: [1] });
    const status = change(away.stored, [1], 2_500, grace, none, {
      background: [1],
      settings: { customStatus: { text: "Driving" } },
    });
    expect(brief(status)).toEqual([`${away.stored.seq + 1} state [IOS] bg [IOS] {"text":"Driving"}`]);
    expect(status.stored.heldBackground).toBeUndefined();
  });

  it("sends nothing at the grace's end when the platform in the background went offline meanwhile", () => {
    const a = change(NEVER, [1, 5], 1_000, grace);
    const away = change(a.stored, [1, 5], 2_000, grace, none, { background: [1] });
    const gone = change(away.stored, [5], 2_500, grace);
    const flushed = flushHeld({ ...base, stored: gone.stored, nowMs: 10_000 });
    expect(brief(flushed)).toEqual([`${gone.stored.seq + 1} offline IOS close [Web]`]);
    expect(flushed.stored.heldBackground).toBeUndefined();
  });

  it("without a grace, sends each change of background at once", () => {
    const a = change(NEVER, [1], 1_000, 0);
    expect(brief(change(a.stored, [1], 2_000, 0, none, { background: [1] }))).toEqual([
      `${a.stored.seq + 1} state [IOS] bg [IOS] null`,
    ]);
  });
});

describe("the webhook grace", () => {
  it("holds an offline; the platform coming back within the grace cancels both events", () => {
    const a = change(NEVER, [5], 1_000, 3_000);
    const b = change(a.stored, [], 2_000, 3_000);
    expect(b.events).toEqual([]);
    expect(b.stored.held).toEqual([{ platform: 5, reason: "close", atMs: 2_000, dueMs: 5_000 }]);
    expect(nextHeldDue(b.stored)).toBe(5_000);
    const c = change(b.stored, [5], 3_000, 3_000);
    expect(c.events).toEqual([]);
    expect(c.stored.held).toEqual([]);
    expect(c.stored.seq).toBeGreaterThan(b.stored.seq);
  });

  it("sends a held offline once the grace ran out, with the next seq, the time it happened and the platforms still believed live", () => {
    const a = change(NEVER, [1, 5], 1_000, 3_000);
    const b = change(a.stored, [5], 2_000, 3_000);
    // While IOS is held, receivers still believe it live.
    const c = change(b.stored, [5, 7], 2_500, 3_000);
    expect(brief(c)).toEqual([`${c.stored.seq} online Linux connect [IOS,Web,Linux]`]);
    expect(flushHeld({ ...base, stored: c.stored, nowMs: 4_999 }).events).toEqual([]);
    const flushed = flushHeld({ ...base, stored: c.stored, nowMs: 5_000 });
    expect(brief(flushed)).toEqual([`${c.stored.seq + 1} offline IOS close [Web,Linux]`]);
    expect(flushed.events[0]?.time).toBe(2_000);
    expect(flushed.stored.held).toEqual([]);
  });
});
