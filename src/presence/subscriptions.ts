import {
  type ClientPresenceFrame,
  ErrCode,
  type ErrorFrame,
  MAX_WATCHED_PER_SOCKET,
  type PresenceFrame,
  SUBSCRIBE_FAILED,
  UNSUBSCRIBE_FAILED,
} from "../../protocol";
import { getOrInsertComputed } from "../lib/maps";
import { SerialQueue } from "../lib/serial-queue";
import type { WatchLists } from "../storage/watch-lists";
import { forClient, isNewer, type ShardEntry, unknownEntry } from "./entries";
import { callShards, settleShards } from "./shards";
import { openSockets, readAttachment, sendQuietly } from "./sockets";

/**
 * A frame that could not be carried out, for a reason the client may read.
 * Whatever it changed has been undone; the socket goes on.
 */
export class FrameFailure extends Error {
  constructor(
    readonly clientMessage: string,
    options: { cause: unknown },
  ) {
    super(clientMessage, options);
    this.name = "FrameFailure";
  }
}

/**
 * The watching side of presence subscriptions (docs/protocol.md#presence-subscriptions),
 * inside a user's object: what each of its sockets watches, the snapshot
 * after a subscribe, and the changes its users' shards deliver.
 *
 * Shards hold, per watching user, the users it watches there; this object
 * holds the same per socket, and is the truth. A shard may know of more than
 * this object (a delivery for nobody is answered "stale" and the shard
 * forgets it), never of less, so every change touches the shards first and
 * this object's storage last, and a failure is undone before the client hears.
 * Frames that change subscriptions run one at a time.
 */
export class Watching {
  /** Per socket, the newest entry sent for each watched user: nothing older goes out after it. */
  private readonly sent = new Map<string, Map<string, ShardEntry>>();
  /** Per socket, the ids the frame in progress is changing, with the deliveries held for them meanwhile. */
  private readonly pending = new Map<string, Map<string, ShardEntry[]>>();
  /** Frames that change subscriptions, and the clean-up after sockets end: one at a time. */
  private readonly changes = new SerialQueue();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly uid: () => string,
    private readonly shardCount: number,
    private readonly lists: WatchLists,
  ) {}

  /** A subscribe or unsubscribe frame. Throws FrameFailure when a call it needs failed. */
  async handle(ws: WebSocket, frame: ClientPresenceFrame): Promise<void> {
    const key = readAttachment(ws).key;
    const { type, userIDs } = frame;
    await this.changes.run(() =>
      type === "subscribe" ? this.subscribe(ws, key, userIDs) : this.unsubscribe(ws, key, userIDs),
    );
  }

  private async subscribe(ws: WebSocket, key: string, ids: readonly string[]): Promise<void> {
    const requested = [...new Set(ids)];
    const fresh = requested.filter((id) => !this.lists.has(key, id));
    const watched = this.lists.count(key);
    if (watched + fresh.length > MAX_WATCHED_PER_SOCKET) {
      return sendError(ws, `userIDs: a socket watches at most ${MAX_WATCHED_PER_SOCKET} users (${watched} already)`);
    }
    // Changes that arrive before the snapshot is out wait for it, so nothing older follows something newer.
    const held = this.hold(key, requested);
    let snapshot: Map<string, ShardEntry>;
    try {
      snapshot = await this.watchAtShards(requested);
      this.lists.add(key, fresh);
    } catch (error) {
      this.pending.delete(key);
      // What it watched before stays watched, and hears what came meanwhile; the rest was never watched.
      const neverWatched = new Set(fresh);
      this.sendChanges(
        ws,
        key,
        [...held].flatMap(([id, changes]) => (neverWatched.has(id) ? [] : changes)),
      );
      await this.unwatchUnused(fresh).catch((undo) => logUndoFailed("subscribe", undo));
      throw new FrameFailure(SUBSCRIBE_FAILED, { cause: error });
    }
    this.pending.delete(key);
    const sent = this.sentTo(key);
    // An overlapping subscribe may have sent a newer entry meanwhile: the snapshot never goes back in time.
    const users = requested.map((id) => newer(snapshot.get(id) ?? unknownEntry(id), sent.get(id)));
    send(ws, { type: "presence", users: users.map(forClient) });
    for (const user of users) sent.set(user.userID, user);
    this.sendChanges(ws, key, [...held.values()].flat());
  }

  /** Only ids the socket watches cost anything; a shard hears only of users no socket here watches any more. */
  private async unsubscribe(ws: WebSocket, key: string, ids: readonly string[]): Promise<void> {
    const leaving = [...new Set(ids)].filter((id) => this.lists.has(key, id));
    if (leaving.length === 0) return;
    const unused = leaving.filter((id) => this.lists.ownersOf(id).every((owner) => owner === key));
    // Until the shards have been told, the socket still watches these: what arrives waits, and is not "stale".
    const held = this.hold(key, leaving);
    const outcomes = await settleShards(this.env, unused, this.shardCount, (shard, members) =>
      shard.unwatch(this.uid(), members),
    );
    try {
      const failed = outcomes.find((outcome) => outcome.status === "rejected");
      if (failed) throw failed.reason;
      this.lists.remove(key, leaving);
    } catch (error) {
      this.pending.delete(key);
      this.sendChanges(ws, key, [...held.values()].flat());
      const told = outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? outcome.members : []));
      await this.watchAtShards(told).catch((undo) => logUndoFailed("unsubscribe", undo));
      throw new FrameFailure(UNSUBSCRIBE_FAILED, { cause: error });
    }
    this.pending.delete(key);
    const sent = this.sent.get(key);
    for (const id of leaving) sent?.delete(id);
  }

  /**
   * Changes from a shard: each goes to every open socket that watches its
   * user, as one frame per socket. Returns the users no socket here watches
   * any more, so the shard stops delivering them.
   */
  deliver(changes: readonly ShardEntry[]): string[] {
    const sockets = new Map(this.openByKey());
    const perSocket = new Map<WebSocket, { key: string; list: ShardEntry[] }>();
    const stale: string[] = [];
    for (const change of changes) {
      const id = change.userID;
      const keys = new Set(this.lists.ownersOf(id));
      for (const [key, ids] of this.pending) if (ids.has(id)) keys.add(key);
      let watchedHere = false;
      for (const key of keys) {
        const ws = sockets.get(key);
        if (!ws) continue;
        watchedHere = true;
        const held = this.pending.get(key)?.get(id);
        if (held) held.push(change);
        else getOrInsertComputed(perSocket, ws, () => ({ key, list: [] })).list.push(change);
      }
      if (!watchedHere) stale.push(id);
    }
    for (const [ws, { key, list }] of perSocket) this.sendChanges(ws, key, list);
    return stale;
  }

  /**
   * Ends the subscriptions of sockets that are gone (closed, kicked, timed out,
   * or lost without a close event), and stops watching users no socket wants.
   */
  endClosed(): Promise<void> {
    // Runs at every settle, verifies included: with no socket gone, nothing is loaded or parsed.
    const open = new Set(this.openByKey().map(([key]) => key));
    if (this.lists.storedOwners().every((key) => open.has(key))) return Promise.resolve();
    return this.changes.run(async () => {
      const stillOpen = new Set(this.openByKey().map(([key]) => key));
      const unwatched = new Set<string>();
      for (const key of this.lists.storedOwners()) {
        if (stillOpen.has(key)) continue;
        for (const id of this.lists.drop(key)) unwatched.add(id);
        this.sent.delete(key);
        this.pending.delete(key);
      }
      await this.unwatchUnused([...unwatched]);
    });
  }

  /**
   * Ends every subscription of every socket (the user was deleted): the shards
   * are told first, and the lists go only once they were. Throws if a shard
   * did not answer, leaving everything as it was for a retry.
   */
  forgetAll(): Promise<void> {
    return this.changes.run(async () => {
      const owners = this.lists.storedOwners();
      const watched = new Set(owners.flatMap((key) => this.lists.idsOf(key)));
      await callShards(this.env, watched, this.shardCount, (shard, members) => shard.unwatch(this.uid(), members));
      for (const key of owners) this.lists.drop(key);
      this.sent.clear();
      this.pending.clear();
    });
  }

  /** Marks ids of a socket as changing; returns where their deliveries wait. */
  private hold(key: string, ids: readonly string[]): Map<string, ShardEntry[]> {
    const held = new Map(ids.map((id) => [id, [] as ShardEntry[]]));
    this.pending.set(key, held);
    return held;
  }

  private sendChanges(ws: WebSocket, key: string, changes: readonly ShardEntry[]): void {
    const sent = this.sentTo(key);
    // One entry per user, its newest, and only if newer than what the socket already has.
    const fresh = new Map<string, ShardEntry>();
    for (const change of changes) {
      if (isNewer(change, fresh.get(change.userID) ?? sent.get(change.userID))) fresh.set(change.userID, change);
    }
    if (fresh.size === 0) return;
    for (const change of fresh.values()) sent.set(change.userID, change);
    send(ws, { type: "presence", users: [...fresh.values()].map(forClient) });
  }

  private sentTo(key: string): Map<string, ShardEntry> {
    return getOrInsertComputed(this.sent, key, () => new Map());
  }

  private openByKey(): [string, WebSocket][] {
    return openSockets(this.ctx).map((ws) => [readAttachment(ws).key, ws]);
  }

  /** Registers this user as a watcher at each shard concerned; their answers are the snapshot. */
  private async watchAtShards(ids: readonly string[]): Promise<Map<string, ShardEntry>> {
    const answers = await callShards(this.env, ids, this.shardCount, (shard, members) =>
      shard.watch(this.uid(), members),
    );
    return new Map(answers.flat().map((user) => [user.userID, user]));
  }

  /** Tells the shards which of these users no socket of this user watches any more. */
  private async unwatchUnused(ids: readonly string[]): Promise<void> {
    const unused = ids.filter((id) => this.lists.ownersOf(id).length === 0);
    await callShards(this.env, unused, this.shardCount, (shard, members) => shard.unwatch(this.uid(), members));
  }
}

/**
 * Undoing a failed frame failed too. After a subscribe, a shard keeps a watcher
 * nobody here wants until a delivery finds it stale; after an unsubscribe, a
 * shard may have forgotten users a socket still watches, until it subscribes again.
 */
function logUndoFailed(frame: "subscribe" | "unsubscribe", error: unknown): void {
  console.error(JSON.stringify({ level: "error", event: "presence_frame_undo_failed", frame, error: String(error) }));
}

function newer(entry: ShardEntry, other: ShardEntry | undefined): ShardEntry {
  return other && isNewer(other, entry) ? other : entry;
}

function send(ws: WebSocket, frame: PresenceFrame | ErrorFrame): void {
  sendQuietly(ws, JSON.stringify(frame));
}

function sendError(ws: WebSocket, errMsg: string): void {
  send(ws, { type: "error", errCode: ErrCode.badRequest, errMsg });
}
