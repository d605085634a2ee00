import type { WatchedUser } from "../../protocol";

/**
 * A watched user's entry as shards deliver it to watchers' objects: the
 * client's entry (docs/protocol.md#presence-subscriptions) plus the
 * incarnation it belongs to. A user deleted and registered again starts
 * again from seq 1, so entries are ordered by incarnation first, then by seq;
 * the epoch never reaches a client.
 */
export type ShardEntry = WatchedUser & { epoch: number };

/** Whether `entry` is newer than `than`: a later incarnation wins, then a higher seq. */
export function isNewer(entry: ShardEntry, than: ShardEntry | undefined): boolean {
  return !than || entry.epoch > than.epoch || (entry.epoch === than.epoch && entry.seq > than.seq);
}

/** The entry as a client's socket gets it. */
export function forClient({ epoch: _internal, ...entry }: ShardEntry): WatchedUser {
  return entry;
}

/** The entry of a user nobody knows (never online, unknown, or deleted), as of an incarnation. */
export function unknownEntry(userID: string, epoch = 0): ShardEntry {
  return { userID, status: "offline", seq: 0, epoch };
}
