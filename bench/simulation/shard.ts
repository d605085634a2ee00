/**
 * Drives a presence shard's memory (src/presence/roster.ts, the code the
 * PresenceIndex object runs) through virtual time, with simulated users in
 * place of their objects: every user pings on its own phase, and a verify
 * answers what that user's object would. No clock, no I/O: an hour of 100,000
 * users runs in seconds, and the counts are the shard's own decisions.
 */
import { PresenceRoster } from "../../src/presence/roster";
import { MAX_VERIFIES_PER_ALARM, OFFLINE_GRACE_MS, verifyTiming, type PresenceReport } from "../../src/presence/verification";

export interface SimulationOptions {
  users: number;
  heartbeatTimeoutMs: number;
  pingEveryMs: number;
  /** Virtual time simulated, after every user has connected at a random moment in the first ping period. */
  durationMs: number;
  /** These many users stop pinging at a random moment; they must read offline within SPEC's bound. */
  silentUsers?: number;
  /** Deterministic randomness (a seed for a small LCG). */
  seed?: number;
  /** Called around each alarm's work, to measure it (e.g. with process.cpuUsage). */
  onAlarm?: (phase: "start" | "end", verifies: number) => void;
}

export interface SimulationResult {
  alarms: number;
  verifies: number;
  verifiesPerUserHour: number;
  alarmsPerHour: number;
  largestBatch: number;
  /** Reads (one per user per alarm it was verified in) that found a pinging user offline: must be 0. */
  pingingReadOffline: number;
  /** Silent users seen online after their last ping + timeout + 5 s, or offline before their last ping + timeout: must be 0. */
  silentOutOfBounds: number;
}

function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function simulateShard(options: SimulationOptions): SimulationResult {
  const { users, heartbeatTimeoutMs: timeout, pingEveryMs: ping, durationMs } = options;
  const random = lcg(options.seed ?? 42);
  const roster = new PresenceRoster(verifyTiming(timeout));
  const phase = Array.from({ length: users }, () => random() * ping);
  const silentFrom = new Map<number, number>();
  for (let i = 0; i < (options.silentUsers ?? 0); i++) silentFrom.set(i, ping + random() * (durationMs - ping - timeout - OFFLINE_GRACE_MS));
  const uid = (i: number) => `u${i}`;
  const index = (id: string) => Number(id.slice(1));

  /** The user's last ping at or before t. */
  const lastPing = (i: number, t: number) => {
    const last = phase[i]! + Math.floor((t - phase[i]!) / ping) * ping;
    const stop = silentFrom.get(i);
    return stop === undefined || last <= stop ? last : phase[i]! + Math.floor((stop - phase[i]!) / ping) * ping;
  };
  const seqs = new Array<number>(users).fill(1);
  /** What the user's object answers at t: live while its last ping is younger than the timeout. */
  const report = (i: number, t: number): PresenceReport => {
    const deadline = lastPing(i, t) + timeout;
    if (t < deadline) return { seq: seqs[i]!, reportedAtMs: t, platforms: [1], heartbeatDeadlineMs: deadline };
    if (seqs[i] === 1) seqs[i] = 2; // went offline: one change
    return { seq: seqs[i]!, reportedAtMs: t, platforms: [], lastSeenMs: t };
  };

  const result: SimulationResult = {
    alarms: 0,
    verifies: 0,
    verifiesPerUserHour: 0,
    alarmsPerHour: 0,
    largestBatch: 0,
    pingingReadOffline: 0,
    silentOutOfBounds: 0,
  };
  const none = () => undefined;
  for (let i = 0; i < users; i++) roster.apply(uid(i), report(i, phase[i]!), none);

  const start = ping; // everyone is connected by now
  const end = start + durationMs;
  let counting = false;
  for (let now = roster.nextDue(); now !== undefined && now < end; now = roster.nextDue()) {
    if (!counting && now >= start) counting = true;
    options.onAlarm?.("start", 0);
    const due = roster.takeDue(now, MAX_VERIFIES_PER_ALARM);
    for (const id of due) {
      const i = index(id);
      // A read just before the answer lands: the entry must still hold a pinging user.
      const before = roster.live([id], now).length > 0;
      roster.apply(id, report(i, now), none);
      const stop = silentFrom.get(i);
      if (stop === undefined && !before) result.pingingReadOffline++;
      if (stop !== undefined) {
        const after = roster.live([id], now).length > 0;
        const silentSince = lastPing(i, now);
        if (after && now > silentSince + timeout + OFFLINE_GRACE_MS) result.silentOutOfBounds++;
        if (!after && now < silentSince + timeout) result.silentOutOfBounds++;
      }
    }
    options.onAlarm?.("end", due.length);
    if (counting) {
      result.alarms++;
      result.verifies += due.length;
      result.largestBatch = Math.max(result.largestBatch, due.length);
    }
  }
  // Silent users whose offline never got noticed within the window also break the bound.
  for (const [i, stop] of silentFrom) {
    const bound = lastPing(i, stop) + timeout + OFFLINE_GRACE_MS;
    if (bound < end && roster.live([uid(i)], bound).length > 0) result.silentOutOfBounds++;
  }
  const hours = durationMs / 3_600_000;
  result.verifiesPerUserHour = result.verifies / (users - silentFrom.size) / hours;
  result.alarmsPerHour = result.alarms / hours;
  return result;
}

/** A roster holding `users` online users, as after their connects: to weigh the shard's memory per user. */
export function rosterOf(users: number, heartbeatTimeoutMs: number): PresenceRoster {
  const roster = new PresenceRoster(verifyTiming(heartbeatTimeoutMs));
  for (let i = 0; i < users; i++) {
    const uid = String(1_000_000_000_000_000_000n + BigInt(i));
    roster.apply(uid, { seq: 1, reportedAtMs: i, platforms: [1, 5], heartbeatDeadlineMs: i + heartbeatTimeoutMs }, () => undefined);
  }
  return roster;
}
