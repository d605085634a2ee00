import { getOrInsertComputed } from "../lib/maps";

/**
 * Watch lists (docs/presence.md#subscriptions-fan-out): for each owner (a
 * socket in a user's object, a watching user in a presence shard) the set of
 * uids it watches, stored so that a change costs in proportion to the change,
 * never to the whole list (docs/presence.md#containment).
 *
 * Rows are billed by count, and one client frame names up to 200 ids, so a
 * row is not one id: each change writes one row of its own.
 *
 * - An add writes one row listing the ids it adds.
 * - A removal writes one row of tombstones, `[row, ids]` pairs that cancel ids
 *   of older rows, and deletes (or empties) the rows it leaves with no live id.
 * - A row more than half cancelled is compacted when a removal touches it: its
 *   live ids move into the removal's own row and its list is emptied, so dead
 *   ids never outnumber live ones for long.
 * - A tombstone row whose targets are all gone is deleted, a bounded number per
 *   removal (the rest wait for the owner's next removal).
 *
 * Every change is one transaction, written before memory is touched: a write
 * that fails leaves both exactly as they were.
 */

/** Ids one row may add: a frame's worth. Keeps every row far under the 2 MB a value may hold. */
export const MAX_IDS_PER_ROW = 200;
/** Rows at most this big are ever written; a bigger one means a bug, and is refused before it is tried. */
export const MAX_ROW_BYTES = 1_000_000;
/** Tombstone rows a removal deletes besides its own work, at least. */
const MIN_CLEANUP_PER_REMOVAL = 16;

export type WatchListTable = "watch_lists";

interface Row {
  /** Ids this row added that are still watched. */
  live: Set<string>;
  /** How many ids its `added` column lists on disk (0 once emptied). */
  size: number;
  /** Rows whose tombstones cancel ids of this one. */
  cancelledBy: Set<number>;
  /** Rows this one cancels ids of: while any still lists ids, this row must stay. */
  cancels: Set<number>;
}

interface OwnerList {
  /** Each watched id, and the row that added it. */
  liveIn: Map<string, number>;
  rows: Map<number, Row>;
  nextRowNo: number;
  /** Tombstone rows with nothing left to cancel, to delete when there is budget. */
  moot: Set<number>;
}

type Tombstones = [rowNo: number, ids: string[]][];

const utf8 = new TextEncoder();

export class WatchLists {
  private owners?: Map<string, OwnerList>;
  private readonly ownersById = new Map<string, Set<string>>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly table: WatchListTable = "watch_lists",
  ) {}

  /** Whether `owner` watches `id`. */
  has(owner: string, id: string): boolean {
    return this.load().get(owner)?.liveIn.has(id) ?? false;
  }

  /** How many ids `owner` watches. */
  count(owner: string): number {
    return this.load().get(owner)?.liveIn.size ?? 0;
  }

  idsOf(owner: string): string[] {
    return [...(this.load().get(owner)?.liveIn.keys() ?? [])];
  }

  /** The owners that watch `id`. */
  ownersOf(id: string): string[] {
    this.load();
    return [...(this.ownersById.get(id) ?? [])];
  }

  ownerKeys(): string[] {
    return [...this.load().keys()];
  }

  /** The owners with rows, without loading (and parsing) every list when none is loaded yet. */
  storedOwners(): string[] {
    if (this.owners) return [...this.owners.keys()];
    return this.storage.sql
      .exec<{ owner: string }>(`SELECT DISTINCT owner FROM ${this.table}`)
      .toArray()
      .map((row) => row.owner);
  }

  /** Adds the ids `owner` does not watch yet, in one row per 200; returns them. */
  add(owner: string, ids: Iterable<string>): string[] {
    const list = this.load().get(owner);
    const fresh = [...new Set(ids)].filter((id) => !list?.liveIn.has(id));
    if (fresh.length === 0) return [];
    const firstRowNo = list?.nextRowNo ?? 1;
    const chunks: string[][] = [];
    for (let i = 0; i < fresh.length; i += MAX_IDS_PER_ROW) chunks.push(fresh.slice(i, i + MAX_IDS_PER_ROW));
    this.storage.transactionSync(() => {
      for (const [i, chunk] of chunks.entries()) this.insertRow(owner, firstRowNo + i, chunk, []);
    });
    const into = this.ownerList(owner);
    for (const [i, chunk] of chunks.entries()) this.registerRow(owner, into, firstRowNo + i, chunk, []);
    into.nextRowNo = firstRowNo + chunks.length;
    return fresh;
  }

  /**
   * Removes the ids `owner` watches among these; returns them. Costs rows in
   * proportion to them, not to the list: 200 ids at a time, each batch its
   * own transaction.
   */
  remove(owner: string, ids: Iterable<string>): string[] {
    const unique = [...new Set(ids)];
    const removed: string[] = [];
    for (let i = 0; i < unique.length; i += MAX_IDS_PER_ROW)
      removed.push(...this.removeBatch(owner, unique.slice(i, i + MAX_IDS_PER_ROW)));
    return removed;
  }

  private removeBatch(owner: string, ids: readonly string[]): string[] {
    const list = this.load().get(owner);
    if (!list) return [];
    const byRow = new Map<number, string[]>();
    for (const id of ids) {
      const rowNo = list.liveIn.get(id);
      if (rowNo !== undefined) getOrInsertComputed(byRow, rowNo, () => []).push(id);
    }
    if (byRow.size === 0) return [];
    const plan = planRemoval(list, byRow);
    const budget = Math.max(MIN_CLEANUP_PER_REMOVAL, plan.removed.length);
    const cleanup = [...new Set([...plan.freed, ...list.moot])].slice(0, budget);
    const newRowNo = plan.carried.length || plan.tombstones.length ? list.nextRowNo : undefined;

    this.storage.transactionSync(() => {
      this.deleteRows(owner, [...plan.deleted, ...cleanup]);
      this.emptyRows(owner, plan.emptied);
      if (newRowNo !== undefined) this.insertRow(owner, newRowNo, plan.carried, plan.tombstones);
    });

    for (const id of plan.removed) {
      list.liveIn.delete(id);
      this.unindex(owner, id);
    }
    for (const rowNo of plan.cleared) {
      const row = list.rows.get(rowNo);
      if (!row) continue;
      row.live.clear();
      row.size = 0;
      for (const canceller of row.cancelledBy) list.rows.get(canceller)?.cancels.delete(rowNo);
      row.cancelledBy.clear();
    }
    for (const [rowNo, gone] of plan.tombstones) for (const id of gone) list.rows.get(rowNo)?.live.delete(id);
    for (const rowNo of [...plan.deleted, ...cleanup]) {
      list.rows.delete(rowNo);
      list.moot.delete(rowNo);
    }
    for (const rowNo of plan.freed) if (list.rows.has(rowNo)) list.moot.add(rowNo);
    if (newRowNo !== undefined) {
      this.registerRow(owner, list, newRowNo, plan.carried, plan.tombstones);
      list.nextRowNo = newRowNo + 1;
    }
    if (list.liveIn.size === 0 && list.rows.size === 0) this.owners?.delete(owner);
    return plan.removed;
  }

  /** Forgets everything `owner` watches (its socket closed); returns what it watched. */
  drop(owner: string): string[] {
    const list = this.load().get(owner);
    if (!list) return [];
    this.storage.sql.exec(`DELETE FROM ${this.table} WHERE owner = ?`, owner);
    const ids = [...list.liveIn.keys()];
    for (const id of ids) this.unindex(owner, id);
    this.owners?.delete(owner);
    return ids;
  }

  // ---- storage ---------------------------------------------------------------------

  private load(): Map<string, OwnerList> {
    if (this.owners) return this.owners;
    const owners = new Map<string, OwnerList>();
    this.owners = owners;
    const rows = this.storage.sql.exec<{ owner: string; row_no: number; added: string; removed: string }>(
      `SELECT owner, row_no, added, removed FROM ${this.table} ORDER BY owner, row_no`,
    );
    for (const row of rows) {
      const list = this.ownerList(row.owner);
      this.registerRow(
        row.owner,
        list,
        row.row_no,
        JSON.parse(row.added) as string[],
        JSON.parse(row.removed) as Tombstones,
      );
      list.nextRowNo = row.row_no + 1;
    }
    for (const list of owners.values())
      for (const [rowNo, row] of list.rows) if (row.live.size === 0 && row.cancels.size === 0) list.moot.add(rowNo);
    return owners;
  }

  private ownerList(owner: string): OwnerList {
    const owners = this.load();
    return getOrInsertComputed(owners, owner, () => ({
      liveIn: new Map(),
      rows: new Map(),
      nextRowNo: 1,
      moot: new Set(),
    }));
  }

  /** Memory for one row, as written or as read back: the same code replays both. */
  private registerRow(owner: string, list: OwnerList, rowNo: number, added: string[], tombstones: Tombstones): void {
    const row: Row = { live: new Set(), size: added.length, cancelledBy: new Set(), cancels: new Set() };
    list.rows.set(rowNo, row);
    for (const [targetNo, ids] of tombstones) {
      const target = list.rows.get(targetNo);
      // A target that is gone or emptied lists none of these ids any more: the tombstone is moot.
      if (!target || target.size === 0) continue;
      row.cancels.add(targetNo);
      target.cancelledBy.add(rowNo);
      for (const id of ids) {
        if (list.liveIn.get(id) !== targetNo) continue;
        list.liveIn.delete(id);
        target.live.delete(id);
        this.unindex(owner, id);
      }
    }
    for (const id of added) {
      const before = list.liveIn.get(id);
      if (before !== undefined) list.rows.get(before)?.live.delete(id);
      list.liveIn.set(id, rowNo);
      row.live.add(id);
      getOrInsertComputed(this.ownersById, id, () => new Set()).add(owner);
    }
  }

  private unindex(owner: string, id: string): void {
    const owners = this.ownersById.get(id);
    owners?.delete(owner);
    if (owners?.size === 0) this.ownersById.delete(id);
  }

  private insertRow(owner: string, rowNo: number, added: string[], tombstones: Tombstones): void {
    const addedJson = JSON.stringify(added);
    const removedJson = JSON.stringify(tombstones);
    const bytes =
      utf8.encode(owner).byteLength + utf8.encode(addedJson).byteLength + utf8.encode(removedJson).byteLength;
    if (bytes > MAX_ROW_BYTES) throw new Error(`watch list row of ${bytes} bytes refused (at most ${MAX_ROW_BYTES})`);
    this.storage.sql.exec(
      `INSERT INTO ${this.table} (owner, row_no, added, removed) VALUES (?, ?, ?, ?)`,
      owner,
      rowNo,
      addedJson,
      removedJson,
    );
  }

  private deleteRows(owner: string, rowNos: readonly number[]): void {
    if (rowNos.length === 0) return;
    this.storage.sql.exec(
      `DELETE FROM ${this.table} WHERE owner = ? AND row_no IN (SELECT value FROM json_each(?))`,
      owner,
      JSON.stringify(rowNos),
    );
  }

  private emptyRows(owner: string, rowNos: readonly number[]): void {
    if (rowNos.length === 0) return;
    this.storage.sql.exec(
      `UPDATE ${this.table} SET added = '[]' WHERE owner = ? AND row_no IN (SELECT value FROM json_each(?))`,
      owner,
      JSON.stringify(rowNos),
    );
  }
}

interface RemovalPlan {
  /** Every id removed. */
  removed: string[];
  /** Rows whose list goes: none of their ids stays, or the survivors move (compaction). */
  cleared: number[];
  /** Cleared rows that cancel nothing: deleted. */
  deleted: number[];
  /** Cleared rows that still cancel ids of others: their list is emptied, the row stays. */
  emptied: number[];
  /** Ids of compacted rows that stay watched: the new row adds them again. */
  carried: string[];
  /** Ids removed from rows that keep their list: the new row cancels them. */
  tombstones: Tombstones;
  /** Tombstone rows that cancel nothing once this is done: deleted as budget allows. */
  freed: number[];
}

/** What removing these ids from their rows takes, computed without touching anything. */
function planRemoval(list: OwnerList, byRow: ReadonlyMap<number, string[]>): RemovalPlan {
  const plan: RemovalPlan = {
    removed: [],
    cleared: [],
    deleted: [],
    emptied: [],
    carried: [],
    tombstones: [],
    freed: [],
  };
  for (const [rowNo, gone] of byRow) {
    const row = list.rows.get(rowNo);
    if (!row) continue;
    plan.removed.push(...gone);
    const remaining = row.live.size - gone.length;
    const compact = remaining > 0 && remaining * 2 < row.size && plan.carried.length + remaining <= MAX_IDS_PER_ROW;
    if (remaining === 0 || compact) {
      plan.cleared.push(rowNo);
      if (compact) {
        const goneSet = new Set(gone);
        for (const id of row.live) if (!goneSet.has(id)) plan.carried.push(id);
      }
    } else {
      plan.tombstones.push([rowNo, gone]);
    }
  }
  const cleared = new Set(plan.cleared);
  const cancelsNothingAfter = (row: Row) => [...row.cancels].every((target) => cleared.has(target));
  for (const rowNo of plan.cleared) {
    const row = list.rows.get(rowNo);
    if (row) (cancelsNothingAfter(row) ? plan.deleted : plan.emptied).push(rowNo);
  }
  const freed = new Set<number>();
  for (const rowNo of plan.cleared) {
    for (const canceller of list.rows.get(rowNo)?.cancelledBy ?? []) {
      const row = list.rows.get(canceller);
      if (row && !cleared.has(canceller) && row.live.size === 0 && cancelsNothingAfter(row)) freed.add(canceller);
    }
  }
  plan.freed = [...freed];
  return plan;
}
