import { SerialQueue } from "../lib/serial-queue";
import type { UserPresenceStore } from "../storage/user-presence";
import { presenceShardFor } from "./shards";
import type { PresenceReport } from "./verification";

/** A send that failed is tried again this soon, then twice as long each time, up to the most. */
const RETRY = { firstMs: 1_000, mostMs: 30_000 } as const;
/** Messages one Queues sendBatch takes at most. */
const QUEUE_BATCH_MAX = 100;

/** When to try again after consecutive failures; one per kind of send, so one's success never resets the other. */
class Backoff {
  private failures = 0;
  /** When the next try is due, while failing. */
  dueAtMs?: number;

  failed(nowMs: number): number {
    this.failures++;
    this.dueAtMs = nowMs + Math.min(RETRY.mostMs, RETRY.firstMs * 2 ** (this.failures - 1));
    return this.dueAtMs;
  }

  succeeded(): void {
    this.failures = 0;
    this.dueAtMs = undefined;
  }
}

/**
 * What a user's object owes others once its presence changed: the report its
 * presence shard must hear, and the webhook events the queue must take
 * (written with the change, so they are sent at least once). Each kind of
 * send runs one at a time and has its own backoff. A failure is stored (a
 * publish as pending, events by staying in the outbox) and retried by the
 * object's alarm: `armAlarm` is asked to run it by the retry's due time.
 */
export class Outbox {
  private readonly publishes = new SerialQueue();
  private readonly handOvers = new SerialQueue();
  private readonly publishBackoff = new Backoff();
  private readonly handOverBackoff = new Backoff();

  constructor(
    private readonly env: Env,
    private readonly uid: () => string,
    private readonly shardCount: number,
    private readonly store: UserPresenceStore,
    private readonly armAlarm: (atMs: number) => Promise<void>,
  ) {}

  /** Sends a report to the user's presence shard; the shard orders reports by seq anyway. */
  publish(report: PresenceReport): Promise<void> {
    return this.publishes.run(async () => {
      try {
        await presenceShardFor(this.env, this.uid(), this.shardCount).publish(this.uid(), report);
        this.publishBackoff.succeeded();
        const stored = this.store.read();
        if (stored.publishPending) this.store.write({ ...stored, publishPending: false });
      } catch (error) {
        logSendFailed("presence_publish_failed", error);
        const stored = this.store.read();
        if (!stored.publishPending) this.store.write({ ...stored, publishPending: true });
        await this.armAlarm(this.publishBackoff.failed(Date.now()));
      }
    });
  }

  /**
   * Hands the unsent events to the queue, 100 per batch; the ones sent leave
   * the outbox in one write. Answers whether none is left unsent.
   */
  handOver(): Promise<boolean> {
    return this.handOvers.run(async () => {
      const { outbox } = this.store.read();
      if (outbox.length === 0) return true;
      const sent = new Set<string>();
      let failure: unknown;
      for (let start = 0; start < outbox.length && failure === undefined; start += QUEUE_BATCH_MAX) {
        const batch = outbox.slice(start, start + QUEUE_BATCH_MAX);
        try {
          await this.env.PRESENCE_EVENTS.sendBatch(batch.map((event) => ({ body: event, contentType: "json" })));
          for (const event of batch) sent.add(event.id);
        } catch (error) {
          failure = error;
        }
      }
      if (sent.size > 0) {
        // Events stored meanwhile stay for the next hand-over.
        const now = this.store.read();
        this.store.write({ ...now, outbox: now.outbox.filter((event) => !sent.has(event.id)) });
      }
      if (failure === undefined) {
        this.handOverBackoff.succeeded();
        return true;
      }
      logSendFailed("presence_events_send_failed", failure);
      await this.armAlarm(this.handOverBackoff.failed(Date.now()));
      return false;
    });
  }

  /** The alarm's part: a pending publish (of the state now) and unsent events go again. */
  async retry(reportNow: () => PresenceReport): Promise<void> {
    if (this.store.read().publishPending) await this.publish(reportNow());
    await this.handOver();
  }

  /** The earliest retry still due, if a send is failing: the object's alarm must run by then. */
  nextRetryAt(): number | undefined {
    const due = [this.publishBackoff.dueAtMs, this.handOverBackoff.dueAtMs].filter((at) => at !== undefined);
    return due.length ? Math.min(...due) : undefined;
  }
}

function logSendFailed(event: string, error: unknown): void {
  console.error(JSON.stringify({ level: "error", event, error: String(error) }));
}
