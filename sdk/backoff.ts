export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialDelayMs: number;
  /** Ceiling for any one delay, in ms. */
  maxDelayMs: number;
  /** Growth per attempt. */
  factor: number;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random,
 * so many clients that failed together do not retry together, yet none retries at once.
 * `attempt` counts from 1.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
