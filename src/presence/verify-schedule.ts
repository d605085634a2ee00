import TinyQueue from "tinyqueue";

interface Due {
  atMs: number;
  uid: string;
}

const byDueTime = (a: Due, b: Due) => a.atMs - b.atMs;

/**
 * When each online user's object is next to be verified: a min-heap of due
 * times. A reschedule pushes a new item and leaves the old one to be skipped
 * when it surfaces, so every operation stays O(log n) without a decrease-key.
 */
export class VerifySchedule {
  private readonly dueAt = new Map<string, number>();
  private heap = new TinyQueue<Due>([], byDueTime);

  get size(): number {
    return this.dueAt.size;
  }

  set(uid: string, atMs: number): void {
    if (this.dueAt.get(uid) === atMs) return;
    this.dueAt.set(uid, atMs);
    this.heap.push({ atMs, uid });
    // Skipped items pile up only when users are rescheduled before they fall due; rebuild now and then.
    if (this.heap.length > 2 * this.dueAt.size + 1_024) this.compact();
  }

  delete(uid: string): void {
    this.dueAt.delete(uid);
  }

  /** The earliest due time, if anyone is scheduled. */
  next(): number | undefined {
    return this.top()?.atMs;
  }

  /** Removes and returns up to `max` users due at or before `untilMs`, earliest first. */
  takeDue(untilMs: number, max: number): string[] {
    const taken: string[] = [];
    for (let top = this.top(); top && top.atMs <= untilMs && taken.length < max; top = this.top()) {
      this.heap.pop();
      this.dueAt.delete(top.uid);
      taken.push(top.uid);
    }
    return taken;
  }

  /** The earliest item that is still current, dropping the ones a reschedule left behind. */
  private top(): Due | undefined {
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      if (this.dueAt.get(top.uid) === top.atMs) return top;
      this.heap.pop();
    }
    return undefined;
  }

  private compact(): void {
    this.heap = new TinyQueue([...this.dueAt].map(([uid, atMs]) => ({ uid, atMs })), byDueTime);
  }
}
