// One operation counted alone on a metered worker (bench/metering), the pattern of the subs
// phase's changes: a quiet window that must count nothing, a reset, the act, the wait until
// every effect it must have was seen by the clients, then trailing work until the meter stops.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { readMeter, resetMeter } from "../scenarios/cost.mjs";
import { cpuMs } from "./server.mjs";

/** Before an operation: what the last step set off is over, then a window as long that must count nothing. */
export const QUIET_MS = 2_000;
/** After its last effect was seen: the worker's trailing work (setAlarm, queue acks), then until the meter stops changing. */
export const TRAILING_MS = 2_000;
const SETTLE_STEP_MS = 1_000;
const SETTLE_CAP_MS = 30_000;

/** Reads the meter once TRAILING_MS passed and two reads SETTLE_STEP_MS apart agree (at most SETTLE_CAP_MS more). */
export async function settledMeter(server) {
  await sleep(TRAILING_MS);
  let last = await readMeter(server);
  const deadline = performance.now() + SETTLE_CAP_MS;
  while (performance.now() < deadline) {
    await sleep(SETTLE_STEP_MS);
    const next = await readMeter(server);
    if (JSON.stringify(next) === JSON.stringify(last)) return { counts: next, settled: true };
    last = next;
  }
  return { counts: last, settled: false };
}

/**
 * `act()` does the operation (its answer is `acted`); `effects(acted, t0)` resolves once every
 * effect the clients must see has arrived, with whatever it measured (times from t0, the
 * moment just before `act`). The counts run from the reset just before `act` until the meter
 * settled after the effects; the quiet window before them is returned as `quiet`, and t0 too.
 */
export async function countOne(server, { act, effects = async () => ({}) }) {
  await sleep(QUIET_MS);
  await resetMeter(server);
  await sleep(QUIET_MS);
  const quiet = await readMeter(server);
  await resetMeter(server);
  const workerCpu0 = cpuMs(server.workerPid);
  const t0 = performance.now();
  const acted = await act();
  const actMs = performance.now() - t0;
  const seen = await effects(acted, t0);
  const effectsMs = performance.now() - t0;
  const workerCpuMs = cpuMs(server.workerPid) - workerCpu0;
  const { counts, settled } = await settledMeter(server);
  return { counts, quiet, settled, actMs, effectsMs, workerCpuMs, acted, t0, ...seen };
}

/** Resolves with the time (from t0) the predicate first held, polling every 20 ms; rejects after withinMs. */
export async function until(predicate, t0, withinMs, what) {
  const deadline = performance.now() + withinMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(20);
  }
  return performance.now() - t0;
}
