import type { CustomStatus, WatchedUser } from "../../protocol";

/**
 * A watched user's entry as its shard hands it to watchers' objects: the
 * client's entry (docs/protocol.md#presence-subscriptions) plus a stamp, the
 * moment the shard made it. Every entry about a user comes from that user's
 * shard, so stamps order them all: a change, a reset after a deletion, a grant
 * that hides the user, whatever their seq. The stamp never reaches a client.
 */
export type ShardEntry = WatchedUser & { stamp: number };

/** Whether `entry` is newer than `than`. */
export function isNewer(entry: ShardEntry, than: ShardEntry | undefined): boolean {
  return !than || entry.stamp > than.stamp;
}

/** The entry as a client's socket gets it. */
export function forClient({ stamp: _internal, ...entry }: ShardEntry): WatchedUser {
  return entry;
}

/** The entry of a user a watcher knows nothing of: never online, unknown, deleted, or hidden from it. */
export function unknownEntry(userID: string, stamp = 0): ShardEntry {
  return { userID, status: "offline", seq: 0, stamp };
}

/**
 * Stamps that only grow, in one object: the clock in microseconds, or one
 * more than the last when several fall in one. A restart resumes from the
 * clock, which has moved on since.
 */
export class StampClock {
  private last = 0;

  next(): number {
    this.last = Math.max(Date.now() * 1_000, this.last + 1);
    return this.last;
  }
}

/** Whether a custom status still stands at `nowMs`. */
export function isUnexpired(status: CustomStatus, nowMs: number): boolean {
  return status.expiresAt === undefined || nowMs < status.expiresAt * 1000;
}
