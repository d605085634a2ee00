/**
 * Operational metrics: one Workers Analytics Engine data point per operation
 * an operator watches (docs/operations.md), written only when the optional
 * METRICS dataset binding is configured. A write is fire-and-forget and is not
 * a Durable Object operation: it adds no request and no row.
 *
 * Every point has the same layout, so one dataset answers every query:
 * - index1: the kind of point (what the dataset samples by);
 * - blob1: the kind again, blob2: its outcome, blob3 and blob4: details named per kind;
 * - double1: a latency or duration in ms, double2–double5: values named per kind.
 */
export type MetricKind = "connect" | "close" | "verify_batch" | "status_read" | "webhook_delivery";

export interface MetricPoint {
  kind: MetricKind;
  /** "ok", or why not: a refusal's errCode, a close's reason, an HTTP status. */
  outcome: string;
  details?: [string?, string?];
  /** ms */
  latencyMs: number;
  values?: [number?, number?, number?, number?];
}

interface MetricsEnv {
  METRICS?: AnalyticsEngineDataset;
}

/** Writes one point if METRICS is bound; never throws (a metric must not fail what it measures). */
export function recordMetric(env: object, point: MetricPoint): void {
  const dataset = (env as MetricsEnv).METRICS;
  if (!dataset) return;
  const [detail1 = "", detail2 = ""] = point.details ?? [];
  const [value1 = 0, value2 = 0, value3 = 0, value4 = 0] = point.values ?? [];
  try {
    dataset.writeDataPoint({
      indexes: [point.kind],
      blobs: [point.kind, point.outcome, detail1, detail2],
      doubles: [point.latencyMs, value1, value2, value3, value4],
    });
  } catch (error) {
    console.warn(
      JSON.stringify({ level: "warn", event: "metric_write_failed", kind: point.kind, error: String(error) }),
    );
  }
}
