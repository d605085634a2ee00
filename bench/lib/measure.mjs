// Latency samples, percentiles and a closed-loop load generator.
import { performance } from "node:perf_hooks";

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** Samples of one scenario, possibly gathered over several interleaved rounds. */
export class Samples {
  latencies = [];
  elapsedMs = 0;
  errors = 0;
  firstError;
  cpuMs = 0;

  add({ latencies, elapsedMs, errors, firstError, cpuMs = 0 }) {
    this.cpuMs += cpuMs;
    this.latencies.push(...latencies);
    this.elapsedMs += elapsedMs;
    this.errors += errors;
    this.firstError ??= firstError;
    return this;
  }

  stats() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      n: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? NaN,
      perSecond: this.elapsedMs > 0 ? sorted.length / (this.elapsedMs / 1000) : NaN,
      errors: this.errors,
      cpuMsPerRequest: sorted.length ? this.cpuMs / sorted.length : NaN,
      firstError: this.firstError ? String(this.firstError.message ?? this.firstError) : undefined,
    };
  }
}

/**
 * Runs task(i) from `concurrency` loops, each starting its next task as soon
 * as the last one ends, until durationMs has passed or maxCount tasks began.
 * A task that throws counts as an error, not as a latency sample.
 */
export async function closedLoop({ concurrency, durationMs = Infinity, maxCount = Infinity, task }) {
  const latencies = [];
  let started = 0;
  let errors = 0;
  let firstError;
  const begin = performance.now();
  const stopAt = begin + durationMs;
  const loop = async () => {
    while (started < maxCount && performance.now() < stopAt) {
      const index = started++;
      const t0 = performance.now();
      try {
        await task(index);
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { latencies, elapsedMs: performance.now() - begin, errors, firstError };
}

/** Runs fn for each item with at most `concurrency` in flight; returns results in order. */
export async function mapLimit(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const loop = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, loop));
  return results;
}
