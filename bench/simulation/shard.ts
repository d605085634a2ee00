/**
 * Drives a presence shard's memory (src/presence/roster.ts, the code the
 * PresenceShard object runs) through virtual time, with simulated users in
 * place of their objects: every user pings on its own phase, and a verify
 * answers what that user's object would. No clock, no I/O: an hour of 100,000
 * users runs in seconds, and the counts are the shard's own decisions.
 */
import { OnlineRoster } from "../../src/presence/roster";
import { ALARM_CALLS, OFFLINE_GRACE_MS, type PresenceReport, verifyTiming } from "../../src/presence/verification";
import type { OnlineRow, SnapshotEntry } from "../../src/storage/shard-tables";

export interface SimulationOptions {
  users: number;
  heartbeatTimeoutMs: number;
  pingEveryMs: number;
  /** Virtual time simulated, after every user has connected at a random moment in the first ping period. */
  durationMs: number;
  /** These many users stop pinging at a random moment; they must read offline within the heartbeat bound (docs/protocol.md#heartbeat). */
  silentUsers?: number;
  /** Each ping arrives up to this much after its nominal time (networks and timers are not exact). Default 200 ms. */
  pingJitterMs?: number;
  /** Phases rounded to this many slots of the ping period, as clients started in a burst would be (the bench's pinger uses 10). */
  phaseSlots?: number;
  /** Each alarm runs this much after the time it was set for, and each answer takes as long again. Default 20 ms. */
  latencyMs?: number;
  /** The shard hibernates (and loses its memory) when idle this long, as Cloudflare's do after 10 s. */
  hibernatesAfterIdleMs?: number;
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
  /** Times the shard hibernated and was rebuilt from its tables and snapshot. */
  restores: number;
  /** Schedule snapshots saved (one row each). */
  snapshots: number;
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
  const timing = verifyTiming(timeout);
  let roster = new OnlineRoster(timing);
  const slots = options.phaseSlots;
  const phase = Array.from({ length: users }, () =>
    slots ? (Math.floor(random() * slots) * ping) / slots : random() * ping,
  );
  const silentFrom = new Map<number, number>();
  for (let i = 0; i < (options.silentUsers ?? 0); i++)
    silentFrom.set(i, ping + random() * (durationMs - ping - timeout - OFFLINE_GRACE_MS));
  const uid = (i: number) => `u${i}`;
  const index = (id: string) => Number(id.slice(1));
  const jitter = options.pingJitterMs ?? 200;
  const latency = options.latencyMs ?? 20;

  /** When the user's k-th ping arrives: its nominal time plus a jitter fixed by (user, k). */
  const pingAt = (i: number, k: number) => {
    const hash = (Math.imul(i + 1, 2654435761) ^ Math.imul(k + 1, 40503)) >>> 0;
    return phase[i]! + k * ping + (hash % 1000) * (jitter / 1000);
  };
  /** The user's last ping that arrived at or before t (and before it fell silent). */
  const lastPing = (i: number, t: number) => {
    const until = Math.min(t, silentFrom.get(i) ?? t);
    let k = Math.floor((until - phase[i]!) / ping);
    while (k > 0 && pingAt(i, k) > until) k--;
    return pingAt(i, Math.max(0, k));
  };
  const seqs = new Array<number>(users).fill(1);
  /** What the user's object answers at t: live while its last ping is younger than the timeout. */
  const report = (i: number, t: number): PresenceReport => {
    const deadline = lastPing(i, t) + timeout;
    if (t < deadline)
      return { epoch: 0, seq: seqs[i]!, reportedAtMs: t, platforms: [1], heartbeatDeadlineMs: deadline };
    if (seqs[i] === 1) seqs[i] = 2; // went offline: one change
    return { epoch: 0, seq: seqs[i]!, reportedAtMs: t, platforms: [], lastSeenMs: t };
  };

  const result: SimulationResult = {
    alarms: 0,
    verifies: 0,
    verifiesPerUserHour: 0,
    alarmsPerHour: 0,
    largestBatch: 0,
    pingingReadOffline: 0,
    silentOutOfBounds: 0,
    restores: 0,
    snapshots: 0,
  };
  // What the object keeps in SQLite: the online rows and the last snapshot of the schedule.
  const onlineRows = new Map<string, OnlineRow>();
  let saved: SnapshotEntry[] = [];
  const apply = (id: string, answer: PresenceReport, origin: "publish" | "verify") => {
    const { write } = roster.apply(id, answer, undefined, origin);
    if (write?.kind === "online") onlineRows.set(id, write.user);
    else if (write) onlineRows.delete(id);
  };
  const saveIfGoingIdle = (nowMs: number) => {
    const snapshot = roster.snapshotIfGoingIdle(nowMs);
    if (!snapshot) return;
    saved = snapshot;
    result.snapshots++;
  };
  for (let i = 0; i < users; i++) apply(uid(i), report(i, phase[i]!), "publish");
  const hibernatesAfter = options.hibernatesAfterIdleMs ?? 10_000;
  let lastEventAt = ping;

  const start = ping; // everyone is connected by now
  const end = start + durationMs;
  let counting = false;
  for (let setFor = roster.nextDue(); setFor !== undefined && setFor < end; setFor = roster.nextDue()) {
    const now = setFor + latency;
    if (!counting && now >= start) counting = true;
    if (now - lastEventAt >= hibernatesAfter) {
      // Hibernated since the last event: the alarm wakes a fresh object, as restore() rebuilds it.
      roster = new OnlineRoster(timing);
      roster.restore([...onlineRows.values()], saved, now, now + timeout);
      result.restores++;
    }
    options.onAlarm?.("start", 0);
    const due = roster.takeDue(now, ALARM_CALLS.verifies);
    const answeredAt = now + latency;
    for (const id of due) {
      const i = index(id);
      // A read just before the answer lands: the entry must still hold a pinging user.
      const before = roster.live([id], answeredAt).length > 0;
      apply(id, report(i, now), "verify");
      const stop = silentFrom.get(i);
      if (stop === undefined && !before) result.pingingReadOffline++;
      if (stop !== undefined) {
        const after = roster.live([id], answeredAt).length > 0;
        const silentSince = lastPing(i, now);
        if (after && answeredAt > silentSince + timeout + OFFLINE_GRACE_MS) result.silentOutOfBounds++;
        if (!after && answeredAt < silentSince + timeout) result.silentOutOfBounds++;
      }
    }
    saveIfGoingIdle(answeredAt);
    lastEventAt = answeredAt;
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
export function rosterOf(users: number, heartbeatTimeoutMs: number): OnlineRoster {
  const roster = new OnlineRoster(verifyTiming(heartbeatTimeoutMs));
  for (let i = 0; i < users; i++) {
    const uid = String(1_000_000_000_000_000_000n + BigInt(i));
    const report: PresenceReport = {
      epoch: 0,
      seq: 1,
      reportedAtMs: i,
      platforms: [1, 5],
      heartbeatDeadlineMs: i + heartbeatTimeoutMs,
    };
    roster.apply(uid, report, undefined, "publish");
  }
  return roster;
}
