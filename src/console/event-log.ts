import type { z } from "zod";
import type { presenceEventSchema } from "../openapi/responses";

/** One delivery the dev console's own webhook receiver got; only signed ones are kept. */
export interface ReceivedDelivery {
  receivedAt: number;
  /** As the OpenAPI document's webhooks section describes them (checked on receipt). */
  events: z.infer<typeof presenceEventSchema>[];
}

/** The last deliveries, and at most this many events across them (a delivery carries at most 100). */
export const KEPT_DELIVERIES = 50;
export const KEPT_EVENTS = 1_000;

/**
 * The last deliveries, newest first, in this isolate's memory: enough for
 * `npm run dev`, where one isolate serves everything. The console is never
 * on in a deployment (CONSOLE_ENABLED), so nothing here has to be shared.
 */
const deliveries: ReceivedDelivery[] = [];
let keptEvents = 0;

export function recordDelivery(delivery: ReceivedDelivery): void {
  deliveries.unshift(delivery);
  keptEvents += delivery.events.length;
  // Bounded in both: the newest delivery always stays, older ones go first.
  while (deliveries.length > 1 && (deliveries.length > KEPT_DELIVERIES || keptEvents > KEPT_EVENTS)) {
    keptEvents -= deliveries.pop()?.events.length ?? 0;
  }
}

export function recentDeliveries(): readonly ReceivedDelivery[] {
  return deliveries;
}
