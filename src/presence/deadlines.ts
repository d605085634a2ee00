import TinyQueue from "tinyqueue";

/** When something is due: from `fromMs` it may be taken along by an alarm that runs anyway, and by `byMs` it must be. */
export interface DueWindow {
  fromMs: number;
  byMs: number;
}

interface Item<W extends DueWindow> {
  atMs: number;
  key: string;
  /** The window this item was pushed for; a newer window for the key makes it stale. */
  window: W;
}

const byTime = <W extends DueWindow>(a: Item<W>, b: Item<W>) => a.atMs - b.atMs;

/**
 * A presence shard's deadlines, one window per key: when each online user's
 * object is next to be verified, when each custom status expires. Two
 * min-heaps over the same windows, one by opening time (what can be taken
 * now) and one by closing time (when the next alarm must run). A reschedule
 * pushes new items and leaves the old ones to be skipped when they surface,
 * so every operation stays O(log n) without a decrease-key. Pure and
 * clock-free: every call takes the time.
 */
export class DeadlineSchedule<W extends DueWindow> {
  private readonly windows = new Map<string, W>();
  private byOpening = new TinyQueue<Item<W>>([], byTime);
  private byClosing = new TinyQueue<Item<W>>([], byTime);

  get size(): number {
    return this.windows.size;
  }

  set(key: string, window: W): void {
    const current = this.windows.get(key);
    // The same times again (what else a window carries is not the schedule's business): the items already pushed serve.
    if (current && current.fromMs === window.fromMs && current.byMs === window.byMs) return;
    this.windows.set(key, window);
    this.byOpening.push({ atMs: window.fromMs, key, window });
    this.byClosing.push({ atMs: window.byMs, key, window });
    // Stale items pile up only when keys are rescheduled before their turn; rebuild now and then.
    if (this.byOpening.length > 2 * this.windows.size + 1_024) this.compact();
  }

  delete(key: string): void {
    this.windows.delete(key);
  }

  /** The window a key is scheduled by; none once taken or deleted. */
  windowOf(key: string): W | undefined {
    return this.windows.get(key);
  }

  /** When the next alarm must run: the earliest closing window, if anything is scheduled. */
  next(): number | undefined {
    return this.current(this.byClosing)?.atMs;
  }

  /** Removes and returns up to `max` keys whose window has opened by `nowMs`, earliest first, with their windows. */
  takeOpen(nowMs: number, max: number): [key: string, window: W][] {
    const taken: [string, W][] = [];
    for (
      let top = this.current(this.byOpening);
      top && top.atMs <= nowMs && taken.length < max;
      top = this.current(this.byOpening)
    ) {
      this.byOpening.pop();
      this.windows.delete(top.key);
      taken.push([top.key, top.window]);
    }
    return taken;
  }

  /** The heap's earliest item that is still current, dropping the ones a reschedule or a take left behind. */
  private current(heap: TinyQueue<Item<W>>): Item<W> | undefined {
    for (let top = heap.peek(); top; top = heap.peek()) {
      if (this.windows.get(top.key) === top.window) return top;
      heap.pop();
    }
    return undefined;
  }

  private compact(): void {
    const items = [...this.windows].map(([key, window]) => ({ key, window }));
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
