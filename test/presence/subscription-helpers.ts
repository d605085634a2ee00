import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { ServerPresenceFrame, WatchedUser } from "../../protocol";
import { WatchLists } from "../../src/storage/watch-lists";
import { connect, freshUid, register, type TestSocket, tokenFor } from "../helpers";
import { sessionStub, shardStub } from "./helpers";

/** A client socket that watches others (docs/protocol.md#presence-subscriptions), with every frame it received parsed. */
export class WatchingSocket {
  /** Where the next read of `nextFrame` starts. */
  private cursor = 0;

  constructor(
    readonly uid: string,
    readonly socket: TestSocket,
  ) {}

  /** A new user's first session. */
  static async open(uid = freshUid("watcher"), platform = 5): Promise<WatchingSocket> {
    const { token } = await register(uid, { platform });
    return new WatchingSocket(uid, await connect(uid, token, platform));
  }

  /** Another session of a registered user. */
  static async reopen(uid: string, platform = 5): Promise<WatchingSocket> {
    return new WatchingSocket(uid, await connect(uid, await tokenFor(uid, platform), platform));
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Subscribes and returns the snapshot that answers it. */
  async subscribe(userIDs: string[]): Promise<WatchedUser[]> {
    this.send({ type: "subscribe", userIDs });
    const frame = await this.nextFrame(
      (f) => f.type === "presence" && userIDs.every((id) => f.users.some((u) => u.userID === id)),
    );
    return frame.type === "presence" ? frame.users : [];
  }

  /** The next JSON frame after the last one read that matches, skipping pongs and others. */
  async nextFrame(
    match: (frame: ServerPresenceFrame) => boolean = () => true,
    withinMs = 2_000,
  ): Promise<ServerPresenceFrame> {
    const index = await this.socket.indexOf(
      (message) => message !== "pong" && match(JSON.parse(message)),
      withinMs,
      this.cursor,
    );
    this.cursor = index + 1;
    return JSON.parse(this.socket.messages[index]!) as ServerPresenceFrame;
  }

  /** Waits for an entry of `uid` that matches, after the last frame read. */
  async nextEntry(
    uid: string,
    match: (entry: WatchedUser) => boolean = () => true,
    withinMs = 2_000,
  ): Promise<WatchedUser> {
    const frame = await this.nextFrame(
      (f) => f.type === "presence" && f.users.some((u) => u.userID === uid && match(u)),
      withinMs,
    );
    const entry = frame.type === "presence" ? frame.users.find((u) => u.userID === uid) : undefined;
    if (!entry) throw new Error(`no entry of ${uid} in the frame found for it`);
    return entry;
  }

  /** Every presence entry received for `uid`, in arrival order. */
  entriesFor(uid: string): WatchedUser[] {
    return this.frames().flatMap((f) => (f.type === "presence" ? f.users.filter((u) => u.userID === uid) : []));
  }

  frames(): ServerPresenceFrame[] {
    return this.socket.messages.filter((m) => m !== "pong").map((m) => JSON.parse(m) as ServerPresenceFrame);
  }

  /** Round-trips a ping: every frame the server sent before it has arrived. */
  async settle(): Promise<void> {
    const from = this.socket.messages.length;
    this.socket.send("ping");
    await this.socket.indexOf((m) => m === "pong", 2_000, from);
  }

  close(): void {
    this.socket.close();
  }
}

/** Entries in arrival order must have growing seqs: never an older one after a newer one, no repeats. */
export function expectSeqsGrow(entries: readonly WatchedUser[]): void {
  const seqs = entries.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seqs ${seqs.join(",")}`).toBeGreaterThan(seqs[i - 1]!);
}

/** What the watcher's object stores: each socket's watched ids, read back from its rows. */
export async function storedSubscriptions(uid: string): Promise<string[][]> {
  return runInDurableObject(sessionStub(uid), (_instance, state) => {
    const lists = new WatchLists(state.storage);
    return lists
      .storedOwners()
      .map((key) => lists.idsOf(key).sort())
      .filter((ids) => ids.length > 0);
  });
}

/** What the watched user's shard stores as its watchers: watcher uid → the ids it follows there. */
export async function shardWatchers(watchedUid: string): Promise<Record<string, string[]>> {
  return runInDurableObject(shardStub(watchedUid), (_instance, state) => {
    const lists = new WatchLists(state.storage);
    return Object.fromEntries(
      lists
        .storedOwners()
        .map((watcher) => [watcher, lists.idsOf(watcher)] as const)
        .filter(([, ids]) => ids.length > 0),
    );
  });
}

const registered = new Set<string>();

/** Opens a session of the user on a platform, registering the user first if needed. */
export async function online(uid: string, platform = 1): Promise<TestSocket> {
  if (!registered.has(uid)) {
    await register(uid);
    registered.add(uid);
  }
  const token = await tokenFor(uid, platform);
  const socket = await connect(uid, token, platform);
  socket.send("ping");
  return socket;
}
