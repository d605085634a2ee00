// One user cannot slow or hurt everyone (docs/presence.md#containment), through real sockets, on
// the metered worker with one presence shard that every user shares (the default).
import { runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_IDS_PER_FRAME, MAX_WATCHED_PER_SOCKET, Platform } from "../../protocol";
import { connect, freshUid, register, tokenFor } from "../helpers";
import { objectTables, sessionStub, shardStub } from "./helpers";
import { WatchingSocket } from "./subscription-helpers";

type Counts = Record<string, number>;

async function meter(): Promise<Counts> {
  return (await SELF.fetch("http://im.test/__meter")).json();
}

async function resetMeter(): Promise<void> {
  await SELF.fetch("http://im.test/__meter/reset", { method: "POST" });
}

/** Distinct ids of 64 four-byte characters (U+1F300 and up): the largest a frame may carry, in bytes. */
function wideIds(count: number, salt = freshUid()): string[] {
  const seed = [...salt].reduce((sum, ch) => sum + (ch.codePointAt(0) ?? 0), 0);
  const char = (n: number) => String.fromCodePoint(0x1f300 + (n % 1_024));
  // The first two characters spell the index, so every id differs; the rest differ by test.
  return Array.from({ length: count }, (_, i) =>
    [char(i), char(i >> 10), ...Array.from({ length: 62 }, (_, k) => char(seed + k * 13))].join(""),
  );
}

/** Subscribes `ids` in frames of 200, each answered by its snapshot before the next. */
async function subscribeAll(socket: WatchingSocket, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_FRAME) await socket.subscribe(ids.slice(i, i + MAX_IDS_PER_FRAME));
}

/** The largest row of every table an object keeps, in bytes (every column's bytes added up). */
async function largestRowBytes(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const tables = objectTables(sql);
    let largest = 0;
    for (const table of tables) {
      const columns = sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", table)
        .toArray()
        .map((c) => `coalesce(length(CAST("${c.name}" AS BLOB)), 0)`);
      const row = sql
        .exec<{ bytes: number | null }>(`SELECT max(${columns.join(" + ")}) AS bytes FROM "${table}"`)
        .one();
      largest = Math.max(largest, row.bytes ?? 0);
    }
    return largest;
  });
}

/**
 * What one frame cost: billed calls to the shard by method, rows per class, and (not billed) the
 * bytes its writes carried. A ping would come back before the object has done the frame (the
 * runtime answers it), so the measure ends with a subscribe to `watchedId`, which the socket already
 * watches: frames run in order, so its snapshot comes after the frame's work. It costs one `watch`
 * call and writes nothing.
 */
async function costOf(socket: WatchingSocket, watchedId: string, frame: unknown): Promise<Counts> {
  await resetMeter();
  socket.send(frame);
  await socket.subscribe([watchedId]);
  const counts = await meter();
  const pick = (key: string) => counts[key] ?? 0;
  return {
    watch: pick("PresenceShard.request.watch") - 1,
    unwatch: pick("PresenceShard.request.unwatch"),
    userRows: pick("UserSession.rowsWritten"),
    shardRows: pick("PresenceShard.rowsWritten"),
    userBytes: pick("UserSession.bytesWritten"),
    shardBytes: pick("PresenceShard.bytesWritten"),
  };
}

describe("containment: one frame's work is bounded by the ids in it", () => {
  it("a subscribe or unsubscribe of one id costs the same calls, rows and bytes at 10 and at 3,000 watched ids", async () => {
    const costs: { subscribe: Counts; unsubscribe: Counts }[] = [];
    for (const size of [10, MAX_WATCHED_PER_SOCKET - 1]) {
      const watcher = await WatchingSocket.open();
      const ids = wideIds(size + 1);
      await subscribeAll(watcher, ids.slice(0, size));
      const frame = (type: string) => ({ type, userIDs: [ids[size]!] });
      const subscribe = await costOf(watcher, ids[0]!, frame("subscribe"));
      const unsubscribe = await costOf(watcher, ids[0]!, frame("unsubscribe"));
      costs.push({ subscribe, unsubscribe });
      watcher.close();
    }
    const [small, large] = costs;
    for (const frame of ["subscribe", "unsubscribe"] as const) {
      for (const key of ["watch", "unwatch", "userRows", "shardRows"])
        expect(large![frame][key], `${frame} ${key}`).toBe(small![frame][key]);
      // Before, each frame rewrote the socket's and the watcher's whole list: 768 KB at 3,000 such ids.
      expect(large![frame].userBytes, frame).toBeLessThan(2_000);
      expect(large![frame].shardBytes, frame).toBeLessThan(2_000);
    }
    expect(large!.subscribe).toMatchObject({ watch: 1, unwatch: 0, userRows: 1, shardRows: 1 });
    expect(large!.unsubscribe).toMatchObject({ watch: 0, unwatch: 1, userRows: 1, shardRows: 1 });
  }, 60_000);

  it("an unsubscribe of 200 ids never subscribed calls no shard and writes no row", async () => {
    const watcher = await WatchingSocket.open();
    const watched = freshUid("watched");
    await watcher.subscribe([watched]);
    const cost = await costOf(watcher, watched, { type: "unsubscribe", userIDs: wideIds(MAX_IDS_PER_FRAME) });
    expect(cost).toEqual({ watch: 0, unwatch: 0, userRows: 0, shardRows: 0, userBytes: 0, shardBytes: 0 });
    expect(watcher.frames().filter((f) => f.type === "error")).toEqual([]);
    watcher.close();
  });

  it("no stored row comes near 2 MB: one user on all 7 platforms, each socket watching 3,000 ids of 64 four-byte characters", async () => {
    const uid = freshUid("wide");
    await register(uid);
    const ids = wideIds(7 * MAX_WATCHED_PER_SOCKET);
    expect(new Set(ids).size).toBe(ids.length);
    const sockets: WatchingSocket[] = [];
    for (const platform of Object.values(Platform)) {
      const socket = new WatchingSocket(uid, await connect(uid, await tokenFor(uid, platform), platform));
      socket.send("ping");
      sockets.push(socket);
    }
    await Promise.all(
      sockets.map((socket, i) =>
        subscribeAll(socket, ids.slice(i * MAX_WATCHED_PER_SOCKET, (i + 1) * MAX_WATCHED_PER_SOCKET)),
      ),
    );
    // The shard holds all 21,000 for this one watcher: before, in one row of 5.4 MB.
    const shardLargest = await largestRowBytes(shardStub(ids[0]!));
    const userLargest = await largestRowBytes(sessionStub(uid));
    expect(shardLargest).toBeGreaterThan(MAX_IDS_PER_FRAME * 256);
    expect(shardLargest).toBeLessThan(1024 * 1024);
    expect(userLargest).toBeLessThan(1024 * 1024);
    for (const socket of sockets) socket.close();
  }, 120_000);
});
