import { describe, expect, it } from "vitest";
import { simulateShard } from "../../bench/simulation/shard";
import { DeadlineSchedule } from "../../src/presence/deadlines";
import { OnlineRoster } from "../../src/presence/roster";
import { OFFLINE_GRACE_MS, planVerification, verifyTiming } from "../../src/presence/verification";

describe("DeadlineSchedule", () => {
  const at = (fromMs: number, byMs = fromMs + 5) => ({ fromMs, byMs, trustUntilMs: byMs + 1_500 });
  const keys = (taken: [string, unknown][]) => taken.map(([key]) => key);

  it("takes users whose window has opened, each once, earliest first and up to the limit", () => {
    const schedule = new DeadlineSchedule<ReturnType<typeof at>>();
    schedule.set("c", at(30));
    schedule.set("a", at(10));
    schedule.set("b", at(20));
    schedule.set("a", at(25)); // rescheduled: its old items must not surface
    expect(schedule.next()).toBe(25); // b's window closes first
    expect(keys(schedule.takeOpen(26, 10))).toEqual(["b", "a"]);
    expect(keys(schedule.takeOpen(100, 10))).toEqual(["c"]);
    expect(schedule.next()).toBeUndefined();

    for (let i = 0; i < 5; i++) schedule.set(`u${i}`, at(i));
    expect(keys(schedule.takeOpen(100, 3))).toEqual(["u0", "u1", "u2"]);
    schedule.delete("u3");
    expect(keys(schedule.takeOpen(100, 3))).toEqual(["u4"]);
  });

  it("sets the next alarm by the earliest closing window, not the earliest opening one", () => {
    const schedule = new DeadlineSchedule<ReturnType<typeof at>>();
    schedule.set("wide", at(0, 100));
    schedule.set("narrow", at(50, 50));
    expect(schedule.next()).toBe(50);
    expect(keys(schedule.takeOpen(50, 10))).toEqual(["wide", "narrow"]);
  });

  it("stays correct when items pile up from many reschedules", () => {
    const schedule = new DeadlineSchedule<ReturnType<typeof at>>();
    for (let round = 0; round < 50; round++) for (let i = 0; i < 100; i++) schedule.set(`u${i}`, at(round * 1000 + i));
    expect(schedule.size).toBe(100);
    expect(keys(schedule.takeOpen(Number.POSITIVE_INFINITY, 1_000))).toEqual(
      Array.from({ length: 100 }, (_, i) => `u${i}`),
    );
  });
});

describe("planVerification", () => {
  const timing = verifyTiming(30_000);

  it("opens the window after the heartbeat deadline and trusts the entry until that deadline + 5 s (docs/protocol.md#heartbeat)", () => {
    const plan = planVerification(
      { epoch: 0, seq: 1, reportedAtMs: 0, platforms: [1], heartbeatDeadlineMs: 30_000, tokenExpiresAtMs: 1e12 },
      timing,
    );
    expect(plan).toEqual({
      fromMs: 30_000 + timing.opensAfterMs,
      byMs: 30_000 + timing.closesAfterMs,
      trustUntilMs: 30_000 + OFFLINE_GRACE_MS,
    });
    expect(timing.opensAfterMs).toBeGreaterThan(0);
    expect(timing.closesAfterMs).toBeLessThan(OFFLINE_GRACE_MS);
  });

  it("verifies at the token's expiry when that comes first", () => {
    const plan = planVerification(
      { epoch: 0, seq: 1, reportedAtMs: 0, platforms: [1], heartbeatDeadlineMs: 30_000, tokenExpiresAtMs: 10_000 },
      timing,
    );
    expect(plan).toMatchObject({ fromMs: 10_000, byMs: 10_000 });
  });

  it("has nothing to verify for a user with no live platform", () => {
    expect(
      planVerification({ epoch: 0, seq: 2, reportedAtMs: 0, platforms: [], lastSeenMs: 5 }, timing),
    ).toBeUndefined();
  });
});

describe("OnlineRoster", () => {
  it("tells watchers of a change of platforms or of going offline, not of a seq alone", () => {
    const timing = verifyTiming(30_000);
    const roster = new OnlineRoster(timing);
    const at = (seq: number, platforms: (1 | 5)[], t: number) => ({
      epoch: 0,
      seq,
      reportedAtMs: t,
      platforms,
      heartbeatDeadlineMs: t + 30_000,
    });
    expect(roster.apply("u", at(1, [1], 0), undefined, "publish").changed).toEqual({
      uid: "u",
      epoch: 0,
      seq: 1,
      platforms: [1],
    });
    expect(roster.apply("u", at(2, [1, 5], 1), undefined, "publish").changed).toEqual({
      uid: "u",
      epoch: 0,
      seq: 2,
      platforms: [1, 5],
    });
    expect(roster.apply("u", at(3, [1, 5], 2), undefined, "verify").changed).toBeUndefined();
    expect(
      roster.apply("u", { epoch: 0, seq: 4, reportedAtMs: 3, platforms: [], lastSeenMs: 3 }, undefined, "verify")
        .changed,
    ).toEqual({
      uid: "u",
      epoch: 0,
      seq: 4,
      lastSeenMs: 3,
    });
  });

  const timing = verifyTiming(30_000);
  const online = (seq: number, at: number) => ({
    epoch: 0,
    seq,
    reportedAtMs: at,
    platforms: [1 as const],
    heartbeatDeadlineMs: at + 30_000,
  });

  it("ignores a report older than the one it holds, by seq and then by time", () => {
    const roster = new OnlineRoster(timing);
    expect(roster.apply("u", online(1, 0), undefined, "verify").write).toEqual({
      kind: "online",
      user: {
        uid: "u",
        epoch: 0,
        seq: 1,
        platforms: 2,
        reportedAtMs: 0,
        // The row keeps the plan, so a wake resumes this user without asking it.
        plan: {
          fromMs: 30_000 + timing.opensAfterMs,
          byMs: 30_000 + timing.closesAfterMs,
          trustUntilMs: 30_000 + OFFLINE_GRACE_MS,
        },
      },
    });
    expect(
      roster.apply("u", { epoch: 0, seq: 2, reportedAtMs: 5, platforms: [], lastSeenMs: 5 }, undefined, "verify").write,
    ).toEqual({
      kind: "offline",
      user: { uid: "u", epoch: 0, seq: 2, lastSeenMs: 5 },
    });
    // A verify answered before the close lands after it: it must not bring the user back.
    expect(roster.apply("u", online(1, 3), { uid: "u", epoch: 0, seq: 2, lastSeenMs: 5 }, "verify")).toEqual({});
    expect(roster.live(["u"], 6)).toEqual([]);

    roster.apply("v", online(1, 10), undefined, "verify");
    expect(roster.apply("v", { ...online(1, 4), heartbeatDeadlineMs: 100 }, undefined, "verify")).toEqual({});
    expect(roster.nextDue()).toBe(10 + 30_000 + timing.closesAfterMs);
  });

  it("writes nothing for a verify's answer that changes nothing, but refreshes the row for a publish", () => {
    const roster = new OnlineRoster(timing);
    roster.apply("u", online(1, 0), undefined, "verify");
    const unchanged = roster.apply("u", online(1, 20_000), undefined, "verify");
    expect(unchanged.write).toBeUndefined();
    expect(unchanged.changed).toBeUndefined();
    expect(unchanged.current).toMatchObject({ uid: "u", seq: 1 });
    expect(roster.apply("u", online(1, 25_000), undefined, "publish").write).toMatchObject({
      kind: "online",
      user: { reportedAtMs: 25_000 },
    });
  });

  it("saves its schedule only when the next verify is far enough off for the shard to hibernate, and only after a change", () => {
    const roster = new OnlineRoster(timing);
    roster.apply("u", online(1, 0), undefined, "publish");
    const due = 30_000 + timing.closesAfterMs;
    expect(roster.snapshotIfGoingIdle(due - timing.idleAfterMs + 1)).toBeUndefined();
    expect(roster.snapshotIfGoingIdle(due - timing.idleAfterMs)).toEqual([
      {
        uid: "u",
        epoch: 0,
        seq: 1,
        reportedAtMs: 0,
        plan: { fromMs: 30_000 + timing.opensAfterMs, byMs: due, trustUntilMs: 30_000 + OFFLINE_GRACE_MS },
      },
    ]);
    expect(roster.snapshotIfGoingIdle(0)).toBeUndefined(); // nothing changed since
  });

  /** The row a publish of `online(seq, at)` writes, as the table reads it back. */
  const rowOf = (uid: string, seq: number, at: number) => {
    const write = new OnlineRoster(timing).apply(uid, online(seq, at), undefined, "publish").write;
    if (write?.kind !== "online") throw new Error("a publish of live platforms writes its row");
    return write.user;
  };

  it("resumes each user after a wake from its newest saved plan, the snapshot's or its row's, verifying no one early", () => {
    // "verified" got a verify's answer at 20 s (no row write) that the snapshot kept; "published" published
    // again at 25 s, after the snapshot was taken; "changed" went to seq 2 by a verify that wrote its row.
    const before = new OnlineRoster(timing);
    for (const uid of ["verified", "published", "changed"]) before.apply(uid, online(1, 0), undefined, "publish");
    before.apply("verified", online(1, 20_000), undefined, "verify");
    const snapshot = before.snapshot();
    const now = 26_000;
    const after = new OnlineRoster(timing);
    after.restore(
      [rowOf("verified", 1, 0), rowOf("published", 1, 25_000), rowOf("changed", 2, 22_000)],
      snapshot,
      now,
      now + 30_000,
    );
    // Nobody is verified before its own window: no catch-up at all.
    expect(after.takeDue(now + 20_000, 100)).toEqual([]);
    expect(after.nextDue()).toBe(50_000 + timing.closesAfterMs);
    expect(after.takeDue(50_000 + timing.opensAfterMs, 100)).toEqual(["verified"]);
    expect(after.takeDue(55_000 + timing.closesAfterMs, 100)).toEqual(["changed", "published"]);
    // Each trusted as its plan says, not as the fallback does.
    const trusted = (uid: string, atMs: number) => after.live([uid], atMs).length === 1;
    expect(trusted("verified", 50_000 + OFFLINE_GRACE_MS - 1)).toBe(true);
    expect(trusted("verified", 50_000 + OFFLINE_GRACE_MS)).toBe(false);
    expect(trusted("published", 55_000 + OFFLINE_GRACE_MS - 1)).toBe(true);
    expect(after.live(["changed"], now)).toEqual([{ uid: "changed", epoch: 0, seq: 2, platforms: [1] }]);
  });

  it("verifies within a moment, after a wake, a user with no plan or an overdue one, trusting it until the fallback", () => {
    const now = 40_000;
    const overdue = rowOf("overdue", 1, 0); // its window closed at 33.5 s: the alarm is just firing
    const { plan: _, ...planless } = rowOf("planless", 1, 30_000); // a row written before schema v3
    const after = new OnlineRoster(timing);
    after.restore([rowOf("kept", 1, 30_000), overdue, planless], [], now, now + 30_000);
    expect(after.takeDue(now, 100)).toEqual([]);
    expect(after.takeDue(now + timing.opensAfterMs + timing.closesAfterMs, 100).sort()).toEqual([
      "overdue",
      "planless",
    ]);
    expect(after.live(["overdue", "planless"], now + 30_000 - 1)).toHaveLength(2);
    expect(after.nextDue()).toBe(60_000 + timing.closesAfterMs);
  });

  it("after the runtime itself was down, trusts no saved plan: everyone reads offline until verified, at once", () => {
    const now = 26_000;
    const after = new OnlineRoster(timing);
    after.restoreAfterOutage([rowOf("a", 1, 25_000), rowOf("b", 1, 20_000)], now);
    expect(after.live(["a", "b"], now)).toEqual([]);
    expect(after.takeDue(now + timing.opensAfterMs + timing.closesAfterMs, 100).sort()).toEqual(["a", "b"]);
  });
});

describe("the shard's verify loop, simulated (default settings: 30 s timeout, clients ping every 10 s)", () => {
  const hour = { heartbeatTimeoutMs: 30_000, pingEveryMs: 10_000, durationMs: 3_600_000 };
  const spread = simulateShard({ ...hour, users: 2_000, silentUsers: 50 });
  // Clients that connected together ping in step, as the bench's do: verifies must not bunch up early.
  const inStep = simulateShard({ ...hour, users: 200, phaseSlots: 10, seed: 7 });
  // A few users: the shard hibernates between alarms and must resume its schedule, not verify everyone early.
  const sparse = simulateShard({ ...hour, users: 3, seed: 3 });

  it("verifies an always-online user once per timeout: 120 an hour, well within 150 (docs/presence.md#what-it-costs)", () => {
    expect(sparse.restores).toBeGreaterThan(100);
    for (const result of [spread, inStep, sparse]) {
      expect(result.verifiesPerUserHour).toBeGreaterThan(110);
      expect(result.verifiesPerUserHour).toBeLessThanOrEqual(125);
    }
  });

  it("keeps its own alarms at least the verify window apart: a fixed cost per shard, whatever the population", () => {
    const { opensAfterMs, closesAfterMs } = verifyTiming(30_000);
    expect(spread.alarmsPerHour).toBeLessThanOrEqual(3_600_000 / (closesAfterMs - opensAfterMs) + 1);
  });

  it("never reads a pinging user offline, and reads a silent one offline within the heartbeat bound (docs/protocol.md#heartbeat)", () => {
    for (const result of [spread, inStep, sparse]) {
      expect(result.pingingReadOffline).toBe(0);
      expect(result.silentOutOfBounds).toBe(0);
    }
  });
});
