import { type ErrorFrame, MAX_WATCHED_PER_SOCKET, type PresenceFrame, type WatchedUser } from "../../protocol";
import { ErrCode } from "../errors";
import { getOrInsertComputed } from "../lib/maps";
import { clientPresenceFrame, describeIssues } from "../schemas";
import type { SocketSubscriptions } from "../storage/subscriptions";
import { callShards } from "./shards";
import { openSockets, readAttachment, sendQuietly } from "./sockets";

/**
 * The watching side of presence subscriptions (SPEC §5e), inside a user's
 * object: what each of its sockets watches, the snapshot after a subscribe,
 * and the changes its users' shards deliver. Subscriptions belong to a socket
 * and end with it; a shard that delivers for a socket gone is told so.
 */
export class Watching {
  /** Per socket, the newest entry sent for each watched user: nothing older goes out after it. */
  private readonly sent = new Map<string, Map<string, WatchedUser>>();
  /** Per socket, the users whose snapshot is on its way, with deliveries that arrived meanwhile. */
  private readonly awaitingSnapshot = new Map<string, Map<string, WatchedUser[]>>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly uid: () => string,
    private readonly shardCount: number,
    private readonly subscriptions: SocketSubscriptions,
  ) {}

  /** A text frame that is not a ping: a subscribe or unsubscribe, or an error frame back. */
  async onFrame(ws: WebSocket, text: string): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return sendError(ws, "expected the text frame ping, or a JSON subscribe or unsubscribe frame");
    }
    const frame = clientPresenceFrame.safeParse(parsed);
    if (!frame.success) return sendError(ws, describeIssues(frame.error));
    const key = readAttachment(ws).key;
    if (frame.data.type === "subscribe") await this.subscribe(ws, key, frame.data.userIDs);
    else await this.unsubscribe(key, frame.data.userIDs);
  }

  private async subscribe(ws: WebSocket, key: string, ids: readonly string[]): Promise<void> {
    const requested = [...new Set(ids)];
    const watched = this.subscriptions.watchedBy(key);
    const total = new Set([...watched, ...requested]);
    if (total.size > MAX_WATCHED_PER_SOCKET) {
      return sendError(
        ws,
        `userIDs: a socket watches at most ${MAX_WATCHED_PER_SOCKET} users (${watched.size} already)`,
      );
    }
    this.subscriptions.set(key, total);
    // Changes that arrive before the snapshot is out wait for it, so nothing older follows something newer.
    const waiting = this.awaitingSnapshot.get(key) ?? new Map<string, WatchedUser[]>();
    for (const id of requested) waiting.set(id, []);
    this.awaitingSnapshot.set(key, waiting);

    const snapshot = await this.watchAtShards(requested);
    const sent = this.sentTo(key);
    // An overlapping subscribe may have sent a newer entry meanwhile: the snapshot never goes back in time.
    const users = requested.map((id) =>
      newer(snapshot.get(id) ?? { userID: id, status: "offline", seq: 0 }, sent.get(id)),
    );
    send(ws, { type: "presence", users });
    const later: WatchedUser[] = [];
    for (const user of users) {
      sent.set(user.userID, user);
      later.push(...(waiting.get(user.userID) ?? []));
      waiting.delete(user.userID);
    }
    if (waiting.size === 0) this.awaitingSnapshot.delete(key);
    this.sendChanges(ws, key, later);
  }

  private async unsubscribe(key: string, ids: readonly string[]): Promise<void> {
    const gone = new Set(ids);
    this.subscriptions.set(key, new Set([...this.subscriptions.watchedBy(key)].filter((id) => !gone.has(id))));
    for (const id of gone) this.sent.get(key)?.delete(id);
    await this.unwatchUnused([...gone]);
  }

  /**
   * Changes from a shard: each goes to every open socket that watches its
   * user, as one frame per socket. Returns the users no socket here watches
   * any more, so the shard stops delivering them.
   */
  deliver(changes: readonly WatchedUser[]): string[] {
    const sockets = new Map(this.openByKey());
    const perSocket = new Map<WebSocket, { key: string; list: WatchedUser[] }>();
    const stale: string[] = [];
    for (const change of changes) {
      const watching = this.subscriptions.socketsWatching(change.userID).flatMap((key) => {
        const ws = sockets.get(key);
        return ws ? [{ key, ws }] : [];
      });
      if (watching.length === 0) stale.push(change.userID);
      for (const { key, ws } of watching) {
        const waiting = this.awaitingSnapshot.get(key)?.get(change.userID);
        if (waiting) waiting.push(change);
        else getOrInsertComputed(perSocket, ws, () => ({ key, list: [] })).list.push(change);
      }
    }
    for (const [ws, { key, list }] of perSocket) this.sendChanges(ws, key, list);
    return stale;
  }

  /**
   * Ends the subscriptions of sockets that are gone (closed, kicked, timed out,
   * or lost without a close event), and stops watching users no socket wants.
   */
  async endClosed(): Promise<void> {
    // Runs at every settle, verifies included: a user who watches nobody pays no socket scan.
    const keys = this.subscriptions.socketKeys();
    if (keys.length === 0) return;
    const open = new Set(this.openByKey().map(([key]) => key));
    const ended = keys.filter((key) => !open.has(key));
    if (ended.length === 0) return;
    const unwatched = new Set<string>();
    for (const key of ended) {
      for (const id of this.subscriptions.watchedBy(key)) unwatched.add(id);
      this.subscriptions.set(key, new Set());
      this.sent.delete(key);
      this.awaitingSnapshot.delete(key);
    }
    await this.unwatchUnused([...unwatched]);
  }

  private sendChanges(ws: WebSocket, key: string, changes: readonly WatchedUser[]): void {
    const sent = this.sentTo(key);
    // One entry per user, its newest, and only if newer than what the socket already has.
    const fresh = new Map<string, WatchedUser>();
    for (const change of changes) {
      const known = fresh.get(change.userID) ?? sent.get(change.userID);
      if (!known || change.seq > known.seq) fresh.set(change.userID, change);
    }
    if (fresh.size === 0) return;
    for (const change of fresh.values()) sent.set(change.userID, change);
    send(ws, { type: "presence", users: [...fresh.values()] });
  }

  private sentTo(key: string): Map<string, WatchedUser> {
    return getOrInsertComputed(this.sent, key, () => new Map());
  }

  private openByKey(): [string, WebSocket][] {
    return openSockets(this.ctx).map((ws) => [readAttachment(ws).key, ws]);
  }

  /** Registers this user as a watcher at each shard concerned; their answers are the snapshot. */
  private async watchAtShards(ids: readonly string[]): Promise<Map<string, WatchedUser>> {
    const answers = await callShards(this.env, ids, this.shardCount, (shard, members) =>
      shard.watch(this.uid(), members),
    );
    return new Map(answers.flat().map((user) => [user.userID, user]));
  }

  /** Tells the shards which of these users no socket of this user watches any more. */
  private async unwatchUnused(ids: readonly string[]): Promise<void> {
    const unused = ids.filter((id) => this.subscriptions.socketsWatching(id).length === 0);
    await callShards(this.env, unused, this.shardCount, (shard, members) => shard.unwatch(this.uid(), members));
  }
}

function newer(entry: WatchedUser, other: WatchedUser | undefined): WatchedUser {
  return other && other.seq > entry.seq ? other : entry;
}

function send(ws: WebSocket, frame: PresenceFrame | ErrorFrame): void {
  sendQuietly(ws, JSON.stringify(frame));
}

function sendError(ws: WebSocket, errMsg: string): void {
  send(ws, { type: "error", errCode: ErrCode.badRequest, errMsg });
}
