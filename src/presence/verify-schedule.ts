import TinyQueue from "tinyqueue";
import type { VerifyPlan } from "../storage/shard-tables";

interface Item {
  atMs: number;
  uid: string;
  /** The plan this item was pushed for; a newer plan for the uid makes it stale. */
  plan: VerifyPlan;
}

const byTime = (a: Item, b: Item) => a.atMs - b.atMs;

/**
 * When each online user's object is next to be verified: two min-heaps over
 * the same plans, one by opening time (who can be taken now) and one by
 * closing time (when the next alarm must run). A reschedule pushes new items
 * and leaves the old ones to be skipped when they surface, so every operation
 * stays O(log n) without a decrease-key.
 */
export class VerifySchedule {
  private readonly plans = new Map<string, VerifyPlan>();
  private byOpening = new TinyQueue<Item>([], byTime);
  private byClosing = new TinyQueue<Item>([], byTime);

  get size(): number {
    return this.plans.size;
  }

  set(uid: string, plan: VerifyPlan): void {
    const current = this.plans.get(uid);
    // The same window again (trust is not the schedule's business): the items already pushed serve.
    if (current && current.fromMs === plan.fromMs && current.byMs === plan.byMs) return;
    this.plans.set(uid, plan);
    this.byOpening.push({ atMs: plan.fromMs, uid, plan });
    this.byClosing.push({ atMs: plan.byMs, uid, plan });
    // Stale items pile up only when users are rescheduled before their turn; rebuild now and then.
    if (this.byOpening.length > 2 * this.plans.size + 1_024) this.compact();
  }

  delete(uid: string): void {
    this.plans.delete(uid);
  }

  /** The plan a user is scheduled by; none while it is being verified. */
  planOf(uid: string): VerifyPlan | undefined {
    return this.plans.get(uid);
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
      this.plans.delete(top.uid);
      taken.push(top.uid);
    }
    return taken;
  }

  /** The heap's earliest item that is still current, dropping the ones a reschedule or a take left behind. */
  private current(heap: TinyQueue<Item>): Item | undefined {
    for (let top = heap.peek(); top; top = heap.peek()) {
      if (this.plans.get(top.uid) === top.plan) return top;
      heap.pop();
    }
    return undefined;
  }

  private compact(): void {
    const items = [...this.plans].map(([uid, plan]) => ({ uid, plan }));
    this.byOpening = new TinyQueue(
      items.map((i) => ({ ...i, atMs: i.plan.fromMs })),
      byTime,
    );
    this.byClosing = new TinyQueue(
      items.map((i) => ({ ...i, atMs: i.plan.byMs })),
      byTime,
    );
  }
}
