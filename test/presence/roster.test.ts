import { describe, expect, it } from "vitest";
import { simulateShard } from "../../bench/simulation/shard";
import { PresenceRoster } from "../../src/presence/roster";
import { OFFLINE_GRACE_MS, planVerification, verifyTiming } from "../../src/presence/verification";
import { VerifySchedule } from "../../src/presence/verify-schedule";

describe("VerifySchedule", () => {
  it("hands out users in due order, each once, and only up to the limit", () => {
    const schedule = new VerifySchedule();
    schedule.set("c", 30);
    schedule.set("a", 10);
    schedule.set("b", 20);
    schedule.set("a", 25); // rescheduled: its old item must not surface
    expect(schedule.next()).toBe(20);
    expect(schedule.takeDue(26, 10)).toEqual(["b", "a"]);
    expect(schedule.takeDue(100, 10)).toEqual(["c"]);
    expect(schedule.next()).toBeUndefined();

    for (let i = 0; i < 5; i++) schedule.set(`u${i}`, i);
    expect(schedule.takeDue(100, 3)).toEqual(["u0", "u1", "u2"]);
    schedule.delete("u3");
    expect(schedule.takeDue(100, 3)).toEqual(["u4"]);
  });

  it("stays correct when items pile up from many reschedules", () => {
    const schedule = new VerifySchedule();
    for (let round = 0; round < 50; round++) for (let i = 0; i < 100; i++) schedule.set(`u${i}`, round * 1000 + i);
    expect(schedule.size).toBe(100);
    expect(schedule.takeDue(Number.POSITIVE_INFINITY, 1_000)).toEqual(Array.from({ length: 100 }, (_, i) => `u${i}`));
  });
});

describe("planVerification", () => {
  const timing = verifyTiming(30_000);

  it("verifies after the heartbeat deadline and trusts the entry until that deadline + 5 s (SPEC §5)", () => {
    const plan = planVerification({ seq: 1, reportedAtMs: 0, platforms: [1], heartbeatDeadlineMs: 30_000, tokenExpiresAtMs: 1e12 }, timing);
    expect(plan).toEqual({ verifyAtMs: 30_000 + timing.lagMs, trustUntilMs: 30_000 + OFFLINE_GRACE_MS });
  });

  it("verifies at the token's expiry when that comes first", () => {
    const plan = planVerification({ seq: 1, reportedAtMs: 0, platforms: [1], heartbeatDeadlineMs: 30_000, tokenExpiresAtMs: 10_000 }, timing);
    expect(plan?.verifyAtMs).toBe(10_000);
  });

  it("has nothing to verify for a user with no live platform", () => {
    expect(planVerification({ seq: 2, reportedAtMs: 0, platforms: [], lastSeenMs: 5 }, timing)).toBeUndefined();
  });
});

describe("PresenceRoster", () => {
  const timing = verifyTiming(30_000);
  const online = (seq: number, at: number) => ({ seq, reportedAtMs: at, platforms: [1 as const], heartbeatDeadlineMs: at + 30_000 });

  it("ignores a report older than the one it holds, by seq and then by time", () => {
    const roster = new PresenceRoster(timing);
    expect(roster.apply("u", online(1, 0), () => undefined)).toEqual({ kind: "online", seq: 1, platforms: 2 });
    expect(roster.apply("u", { seq: 2, reportedAtMs: 5, platforms: [], lastSeenMs: 5 }, () => undefined)).toEqual({
      kind: "offline",
      seq: 2,
      lastSeenMs: 5,
    });
    // A verify answered before the close lands after it: it must not bring the user back.
    expect(roster.apply("u", online(1, 3), () => 2)).toBeUndefined();
    expect(roster.live(["u"], 6)).toEqual([]);

    roster.apply("v", online(1, 10), () => undefined);
    expect(roster.apply("v", { ...online(1, 4), heartbeatDeadlineMs: 100 }, () => undefined)).toBeUndefined();
    expect(roster.nextDue()).toBe(10 + 30_000 + timing.lagMs);
  });

  it("writes nothing for a report that changes nothing", () => {
    const roster = new PresenceRoster(timing);
    roster.apply("u", online(1, 0), () => undefined);
    expect(roster.apply("u", online(1, 20_000), () => undefined)).toBeUndefined();
  });
});

describe("the shard's verify loop, simulated (default settings: 30 s timeout, clients ping every 10 s)", () => {
  const result = simulateShard({
    users: 2_000,
    heartbeatTimeoutMs: 30_000,
    pingEveryMs: 10_000,
    durationMs: 3_600_000,
    silentUsers: 50,
  });

  it("verifies an always-online user at most 150 times an hour (SPEC §5c)", () => {
    expect(result.verifiesPerUserHour).toBeLessThanOrEqual(150);
    expect(result.verifiesPerUserHour).toBeGreaterThan(100);
  });

  it("keeps its own alarms at least `coalesceMs` apart: a fixed cost per shard, whatever the population", () => {
    expect(result.alarmsPerHour).toBeLessThanOrEqual(3_600_000 / verifyTiming(30_000).coalesceMs + 1);
  });

  it("never reads a pinging user offline, and reads a silent one offline within SPEC's bound", () => {
    expect(result.pingingReadOffline).toBe(0);
    expect(result.silentOutOfBounds).toBe(0);
  });
});
