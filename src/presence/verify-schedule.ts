import TinyQueue from "tinyqueue";

/** A user's verify window: from when it may run, and by when it must (verification.ts). */
export interface VerifyWindow {
  fromMs: number;
  byMs: number;
}

interface Item {
  atMs: number;
  uid: string;
  /** The window this item was pushed for; a newer window for the uid makes it stale. */
  window: VerifyWindow;
}

const byTime = (a: Item, b: Item) => a.atMs - b.atMs;

/**
 * When each online user's object is next to be verified: two min-heaps over
 * the same windows, one by opening time (who can be taken now) and one by
 * closing time (when the next alarm must run). A reschedule pushes new items
 * and leaves the old ones to be skipped when they surface, so every operation
 * stays O(log n) without a decrease-key.
 */
export class VerifySchedule {
  private readonly windows = new Map<string, VerifyWindow>();
  private byOpening = new TinyQueue<Item>([], byTime);
  private byClosing = new TinyQueue<Item>([], byTime);

  get size(): number {
    return this.windows.size;
  }

  set(uid: string, window: VerifyWindow): void {
    const current = this.windows.get(uid);
    if (current && current.fromMs === window.fromMs && current.byMs === window.byMs) return;
    this.windows.set(uid, window);
    this.byOpening.push({ atMs: window.fromMs, uid, window });
    this.byClosing.push({ atMs: window.byMs, uid, window });
    // Stale items pile up only when users are rescheduled before their turn; rebuild now and then.
    if (this.byOpening.length > 2 * this.windows.size + 1_024) this.compact();
  }

  delete(uid: string): void {
    this.windows.delete(uid);
  }

  window(uid: string): VerifyWindow | undefined {
    return this.windows.get(uid);
  }

  /** When the next verify must run: the earliest closing window, if anyone is scheduled. */
  next(): number | undefined {
    return this.current(this.byClosing)?.atMs;
  }

  /** Removes and returns up to `max` users whose window has opened by `nowMs`, earliest first. */
  takeOpen(nowMs: number, max: number): string[] {
    const taken: string[] = [];
    for (
      let top = this.current(this.byOpening);
      top && top.atMs <= nowMs && taken.length < max;
      top = this.current(this.byOpening)
    ) {
      this.byOpening.pop();
      this.windows.delete(top.uid);
      taken.push(top.uid);
    }
    return taken;
  }

  /** The heap's earliest item that is still current, dropping the ones a reschedule or a take left behind. */
  private current(heap: TinyQueue<Item>): Item | undefined {
    for (let top = heap.peek(); top; top = heap.peek()) {
      if (this.windows.get(top.uid) === top.window) return top;
      heap.pop();
    }
    return undefined;
  }

  private compact(): void {
    const items = [...this.windows].map(([uid, window]) => ({ uid, window }));
    this.byOpening = new TinyQueue(
      items.map((i) => ({ ...i, atMs: i.window.fromMs })),
      byTime,
    );
    this.byClosing = new TinyQueue(
      items.map((i) => ({ ...i, atMs: i.window.byMs })),
      byTime,
    );
  }
}
