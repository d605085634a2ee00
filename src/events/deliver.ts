import { type PresenceEvent, type PresenceEventBody, SIGNATURE_HEADER, signWebhook } from "../../protocol";
import { readSettings, requireWebhook, type WorkerEnv } from "../config";
import { recordMetric } from "../metrics";

/** A receiver has this long to acknowledge a body with a 2xx (docs/webhooks.md). */
const ACK_TIMEOUT_MS = 10_000;
/** Retries wait at most this long; with 12 of them a body is retried for about four and a half hours. */
const MAX_RETRY_DELAY_S = 3_600;

/** The wait before retry number `attempts` (1 after the first failure): the base, doubled each time, up to an hour. */
export function retryDelaySeconds(attempts: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_S, Math.ceil((baseMs / 1000) * 2 ** Math.max(0, attempts - 1)));
}

/**
 * The queue consumer: one signed POST per batch (at most 100 events). A 2xx
 * within 10 s acknowledges them all; anything else retries each with backoff,
 * and the queue dead-letters a message after its last retry. Events keep their
 * ids across retries, so receivers can deduplicate.
 */
export async function deliverPresenceEvents(batch: MessageBatch<PresenceEvent>, env: WorkerEnv): Promise<void> {
  const webhook = requireWebhook(env);
  if (!webhook) {
    // Webhooks were switched off after these events were made: nobody is waiting for them.
    batch.ackAll();
    return;
  }
  const body = JSON.stringify({ events: batch.messages.map((message) => message.body) } satisfies PresenceEventBody);
  const signature = await signWebhook(body, webhook.secret, Math.floor(Date.now() / 1000));
  let failure: string | undefined;
  const started = Date.now();
  try {
    const response = await fetch(webhook.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", [SIGNATURE_HEADER]: signature },
      body,
      signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) failure = `HTTP ${response.status}`;
  } catch (error) {
    failure = error instanceof Error ? error.name : "fetch failed";
  }
  recordMetric(env, {
    kind: "webhook_delivery",
    outcome: failure ?? "ok",
    latencyMs: Date.now() - started,
    values: [batch.messages.length, Math.max(...batch.messages.map((message) => message.attempts))],
  });
  if (failure === undefined) {
    batch.ackAll();
    return;
  }
  const baseMs = readSettings(env).webhooks.retryDelayMs;
  for (const message of batch.messages) message.retry({ delaySeconds: retryDelaySeconds(message.attempts, baseMs) });
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "presence_webhook_failed",
      failure,
      events: batch.messages.length,
      attempt: batch.messages[0]?.attempts,
    }),
  );
}

/** The dead-letter queue's consumer: one log line per body that ran out of retries, then it is dropped. */
export function logDeadLettered(batch: MessageBatch<PresenceEvent>): void {
  const events = batch.messages.map((message) => message.body);
  console.error(
    JSON.stringify({
      level: "error",
      event: "presence_webhook_dead_lettered",
      events: events.length,
      // Event ids (the first ten) and the earliest change's time let an operator find the events; no user id.
      ids: events.slice(0, 10).map((e) => e.id),
      firstTime: Math.min(...events.map((e) => e.time)),
    }),
  );
  batch.ackAll();
}

/** Queue names: the dead-letter queue's ends in "-dlq" (wrangler.toml). */
export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith("-dlq");
}
