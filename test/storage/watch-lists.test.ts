// Watch lists stored by change (src/storage/watch-lists.ts): the subtle part of containment
// (docs/presence.md#containment). Each test runs inside a fresh user object, on its real SQLite.
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_IDS_PER_ROW, WatchLists } from "../../src/storage/watch-lists";
import { freshUid } from "../helpers";
import { sessionStub } from "../presence/helpers";

const utf8 = new TextEncoder();

interface Counted {
  /** A WatchLists over the object's storage, with its writes counted. */
  lists: WatchLists;
  /** A second instance over the same storage: what a wake-up reads back. */
  reloaded(): WatchLists;
  sql: SqlStorage;
  /** Rows written and bytes bound to writing statements since the last call. */
  takeWrites(): { rows: number; bytes: number };
}

function counting(state: DurableObjectState): Counted {
  let rows = 0;
  let bytes = 0;
  const sql = new Proxy(state.storage.sql, {
    get: (target, property) =>
      property === "exec"
        ? (query: string, ...bindings: unknown[]) => {
            const cursor = target.exec(query, ...bindings);
            rows += cursor.rowsWritten;
            if (cursor.rowsWritten > 0)
              for (const b of bindings) if (typeof b === "string") bytes += utf8.encode(b).byteLength;
            return cursor;
          }
        : Reflect.get(target, property, target),
  });
  const storage = { sql, transactionSync: <T>(fn: () => T) => state.storage.transactionSync(fn) };
  return {
    lists: new WatchLists(storage as DurableObjectStorage),
    reloaded: () => new WatchLists(state.storage),
    sql: state.storage.sql,
    takeWrites: () => {
      const taken = { rows, bytes };
      rows = 0;
      bytes = 0;
      return taken;
    },
  };
}

function inFreshObject<T>(body: (counted: Counted) => T | Promise<T>): Promise<T> {
  return runInDurableObject(sessionStub(freshUid("lists")), (_instance, state) => body(counting(state)));
}

/** 64 four-byte characters: the largest id a frame may carry, in bytes. */
function wideId(i: number): string {
  const base = 0x1f300 + (i % 1_000);
  return String.fromCodePoint(...Array.from({ length: 64 }, (_, k) => base + ((k * 7 + Math.floor(i / 1_000)) % 64)));
}

const rowCount = (sql: SqlStorage) => sql.exec<{ n: number }>("SELECT count(*) AS n FROM watch_lists").one().n;

describe("watch lists stored by change", () => {
  it("an add writes one row per 200 new ids; ids already watched write nothing", async () => {
    await inFreshObject(({ lists, takeWrites }) => {
      expect(lists.add("s1", ["a", "b", "a"])).toEqual(["a", "b"]);
      expect(takeWrites().rows).toBe(1);
      expect(lists.add("s1", ["a", "b"])).toEqual([]);
      expect(takeWrites().rows).toBe(0);
      lists.add(
        "s1",
        Array.from({ length: 450 }, (_, i) => `n${i}`),
      );
      expect(takeWrites().rows).toBe(3);
      expect(lists.count("s1")).toBe(452);
    });
  });

  it("removing ids never watched writes nothing", async () => {
    await inFreshObject(({ lists, takeWrites }) => {
      lists.add("s1", ["a"]);
      takeWrites();
      expect(lists.remove("s1", ["x", "y"])).toEqual([]);
      expect(lists.remove("nobody", ["a"])).toEqual([]);
      expect(takeWrites()).toEqual({ rows: 0, bytes: 0 });
    });
  });

  it("a change of one id costs the same rows and bytes whether the list holds 10 or 3,000 ids", async () => {
    const costs = [];
    for (const size of [10, 3_000]) {
      costs.push(
        await inFreshObject(({ lists, takeWrites }) => {
          const ids = Array.from({ length: size }, (_, i) => wideId(i));
          for (let i = 0; i < ids.length; i += MAX_IDS_PER_ROW) lists.add("s1", ids.slice(i, i + MAX_IDS_PER_ROW));
          takeWrites();
          lists.add("s1", [wideId(size)]);
          const subscribe = takeWrites();
          lists.remove("s1", [ids[ids.length - 1]!]);
          const unsubscribe = takeWrites();
          return { subscribe, unsubscribe };
        }),
      );
    }
    const [small, large] = costs;
    expect(large!.subscribe.rows).toBe(small!.subscribe.rows);
    expect(large!.unsubscribe.rows).toBe(small!.unsubscribe.rows);
    // Only a row number's digits differ.
    expect(Math.abs(large!.unsubscribe.bytes - small!.unsubscribe.bytes)).toBeLessThan(8);
    expect(large!.subscribe.rows).toBe(1);
    expect(large!.unsubscribe.rows).toBe(1);
    // One id of 256 bytes and its bookkeeping, not a list of 3,000 (768 KB).
    expect(large!.subscribe.bytes).toBeLessThan(1_000);
    expect(large!.unsubscribe.bytes).toBeLessThan(1_000);
  });

  it("subscribe-one/unsubscribe-one churn leaves the stored rows as they were", async () => {
    await inFreshObject(({ lists, sql, takeWrites }) => {
      const ids = Array.from({ length: 3_000 }, (_, i) => `id-${i}`);
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_ROW) lists.add("s1", ids.slice(i, i + MAX_IDS_PER_ROW));
      const before = rowCount(sql);
      takeWrites();
      for (let round = 0; round < 500; round++) {
        lists.add("s1", ["churn"]);
        lists.remove("s1", ["churn"]);
      }
      expect(takeWrites().rows).toBe(1_000);
      expect(rowCount(sql)).toBe(before);
    });
  });

  it("ids removed one by one from full rows are compacted away: rows stay bounded by the ids watched, and every frame small", async () => {
    await inFreshObject(({ lists, sql, takeWrites, reloaded }) => {
      const ids = Array.from({ length: 3_000 }, (_, i) => `id-${i}`);
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_ROW) lists.add("s1", ids.slice(i, i + MAX_IDS_PER_ROW));
      takeWrites();
      let mostRows = 0;
      // Remove all but one id of every row, one per frame, round-robin over the rows: the worst case for tombstones.
      for (let k = 1; k < MAX_IDS_PER_ROW; k++) {
        for (let row = 0; row < 15; row++) {
          lists.remove("s1", [ids[row * MAX_IDS_PER_ROW + k]!]);
          const { rows, bytes } = takeWrites();
          mostRows = Math.max(mostRows, rows);
          expect(bytes).toBeLessThan(20_000);
        }
        // Tombstones never outnumber the ids still watched for long: a row more than half dead is compacted.
        expect(rowCount(sql)).toBeLessThanOrEqual(lists.count("s1") + 2 * 15 + 16);
      }
      expect(mostRows).toBeLessThanOrEqual(1 + 1 + 16);
      expect(lists.count("s1")).toBe(15);
      expect(reloaded().idsOf("s1").sort()).toEqual(lists.idsOf("s1").sort());
    });
  });

  it("a removal that fails to write leaves memory exactly as storage: nothing, and the next one works", async () => {
    await inFreshObject(({ lists, sql, reloaded }) => {
      lists.add("s1", ["a", "b", "c"]);
      lists.add("s1", ["d"]);
      sql.exec(`CREATE TRIGGER refuse_delete BEFORE DELETE ON watch_lists
        BEGIN SELECT RAISE(ABORT, 'injected write failure'); END`);
      // Removing d empties its row (a delete, refused); removing a tombstones the first (an insert, allowed):
      // one transaction, so neither lands.
      expect(() => lists.remove("s1", ["a", "d"])).toThrow(/injected write failure/);
      expect(lists.idsOf("s1").sort()).toEqual(["a", "b", "c", "d"]);
      expect(reloaded().idsOf("s1").sort()).toEqual(["a", "b", "c", "d"]);
      expect(lists.ownersOf("d")).toEqual(["s1"]);
      sql.exec("DROP TRIGGER refuse_delete");
      expect(lists.remove("s1", ["a", "d"]).sort()).toEqual(["a", "d"]);
      expect(reloaded().idsOf("s1").sort()).toEqual(["b", "c"]);
    });
  });

  it("a row that would exceed the limit is refused before anything is written", async () => {
    await inFreshObject(({ lists, reloaded }) => {
      // Only a bug could ask for this: ids are at most 64 characters and frames 200 ids.
      const huge = "x".repeat(1_100_000);
      expect(() => lists.add("s1", [huge])).toThrow(/refused/);
      expect(lists.count("s1")).toBe(0);
      expect(reloaded().count("s1")).toBe(0);
    });
  });

  it("the largest lists, 3,000 ids of 64 four-byte characters per socket and 21,000 per watcher, keep every row far under 2 MB", async () => {
    await inFreshObject(({ lists, sql }) => {
      const ids = Array.from({ length: 21_000 }, (_, i) => wideId(i));
      expect(new Set(ids).size).toBe(ids.length);
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_ROW) lists.add("watcher", ids.slice(i, i + MAX_IDS_PER_ROW));
      // The heaviest removal: a frame's 200 ids, each from another row.
      lists.remove(
        "watcher",
        Array.from({ length: 200 }, (_, i) => ids[i * 100]!),
      );
      const largest = sql
        .exec<{ bytes: number }>(
          "SELECT max(length(CAST(owner AS BLOB)) + length(CAST(added AS BLOB)) + length(CAST(removed AS BLOB))) AS bytes FROM watch_lists",
        )
        .one().bytes;
      expect(largest).toBeGreaterThan(200 * 256);
      expect(largest).toBeLessThan(2 * 1024 * 1024);
      expect(lists.count("watcher")).toBe(20_800);
    });
  });

  it("matches a plain set under any sequence of adds, removals and drops, in memory and read back", async () => {
    await inFreshObject(async ({ lists, takeWrites, reloaded }) => {
      const owners = ["s1", "s2", "s3"];
      const pool = Array.from({ length: 40 }, (_, i) => `u${i}`);
      const op = fc.oneof(
        fc.record({ kind: fc.constant("add" as const), owner: fc.constantFrom(...owners), ids: fc.subarray(pool) }),
        fc.record({ kind: fc.constant("remove" as const), owner: fc.constantFrom(...owners), ids: fc.subarray(pool) }),
        fc.record({ kind: fc.constant("drop" as const), owner: fc.constantFrom(...owners), ids: fc.constant([]) }),
      );
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
          const prefix = `r${round++}-`;
          const model = new Map(owners.map((o) => [prefix + o, new Set<string>()]));
          for (const { kind, owner: name, ids } of ops) {
            const owner = prefix + name;
            const set = model.get(owner)!;
            takeWrites();
            if (kind === "add") {
              const expected = ids.filter((id) => !set.has(id));
              expect(lists.add(owner, ids)).toEqual(expected);
              for (const id of ids) set.add(id);
              expect(takeWrites().rows).toBe(expected.length ? Math.ceil(expected.length / MAX_IDS_PER_ROW) : 0);
            } else if (kind === "remove") {
              const expected = ids.filter((id) => set.has(id));
              expect(lists.remove(owner, ids).sort()).toEqual([...expected].sort());
              for (const id of ids) set.delete(id);
              // Its own row, the rows it empties (one per id at most), and a bounded clean-up.
              expect(takeWrites().rows).toBeLessThanOrEqual(expected.length ? 1 + expected.length + 16 : 0);
            } else {
              lists.drop(owner);
              set.clear();
            }
          }
          const fresh = reloaded();
          for (const [owner, set] of model) {
            expect(lists.idsOf(owner).sort()).toEqual([...set].sort());
            expect(fresh.idsOf(owner).sort()).toEqual([...set].sort());
          }
          for (const id of pool) {
            const watching = [...model].filter(([, set]) => set.has(id)).map(([owner]) => owner);
            expect(
              lists
                .ownersOf(id)
                .filter((o) => o.startsWith(prefix))
                .sort(),
            ).toEqual(watching.sort());
            expect(
              fresh
                .ownersOf(id)
                .filter((o) => o.startsWith(prefix))
                .sort(),
            ).toEqual(watching.sort());
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});
