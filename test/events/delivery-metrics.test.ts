// The webhook consumer writes one webhook_delivery data point per body it POSTs (docs/operations.md),
// with the outcome, the events it carried and the attempt. The receiver is stubbed at fetch.
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PresenceEvent } from "../../protocol";
import { deliverPresenceEvents } from "../../src/events/deliver";

const points: AnalyticsEngineDataPoint[] = [];
const settings = {
  ...env,
  PRESENCE_WEBHOOK_URL: "https://receiver.test/hook",
  PRESENCE_WEBHOOK_SECRET: "test-webhook-secret-0123456789abcdef0123456789",
  METRICS: { writeDataPoint: (point?: AnalyticsEngineDataPoint) => void points.push(point ?? {}) },
};

function batchOf(count: number, attempts: number): MessageBatch<PresenceEvent> {
  const message = (i: number) =>
    ({
      id: `m${i}`,
      timestamp: new Date(),
      attempts,
      body: { id: `e${i}` } as PresenceEvent,
      ack: () => {},
      retry: () => {},
    }) as Message<PresenceEvent>;
  return {
    queue: "presence-events",
    messages: Array.from({ length: count }, (_, i) => message(i)),
    ackAll: () => {},
    retryAll: () => {},
  } as unknown as MessageBatch<PresenceEvent>;
}

afterEach(() => {
  vi.restoreAllMocks();
  points.length = 0;
});

describe("webhook delivery metrics", () => {
  it("writes ok with the events and the attempt for an acknowledged body, and the failure for a refused one", async () => {
    const fetch = vi.spyOn(globalThis, "fetch");
    fetch.mockResolvedValueOnce(new Response(null, { status: 204 }));
    await deliverPresenceEvents(batchOf(3, 1), settings);
    fetch.mockResolvedValueOnce(new Response("no", { status: 503 }));
    vi.spyOn(console, "warn").mockImplementation(() => {});
    await deliverPresenceEvents(batchOf(2, 4), settings);
    expect(points.map((p) => [p.blobs?.[1], p.doubles?.[1], p.doubles?.[2]])).toEqual([
      ["ok", 3, 1],
      ["HTTP 503", 2, 4],
    ]);
    expect(points.every((p) => p.indexes?.[0] === "webhook_delivery")).toBe(true);
  });
});
