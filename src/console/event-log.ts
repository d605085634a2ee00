import type { PresenceEvent } from "../../protocol";

/** One delivery the dev console's own webhook receiver got. */
export interface ReceivedDelivery {
  receivedAt: number;
  /** The X-IM-Signature checked out against PRESENCE_WEBHOOK_SECRET. */
  verified: boolean;
  events: PresenceEvent[];
}

const KEPT = 50;

/**
 * The last deliveries, newest first, in this isolate's memory: enough for
 * `npm run dev`, where one isolate serves everything. The console is never
 * on in a deployment (CONSOLE_ENABLED), so nothing here has to be shared.
 */
const deliveries: ReceivedDelivery[] = [];

export function recordDelivery(delivery: ReceivedDelivery): void {
  deliveries.unshift(delivery);
  deliveries.length = Math.min(deliveries.length, KEPT);
}

export function recentDeliveries(): readonly ReceivedDelivery[] {
  return deliveries;
}
