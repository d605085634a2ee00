// Warm HTTP routes, each at concurrency 1 and 32, interleaved with the floor
// over several rounds so machine noise hits every figure alike.
import { closedLoop, Samples } from "../lib/measure.mjs";
import { cpuMs } from "../lib/server.mjs";
import { mixedIds } from "./population.mjs";

export const CONCURRENCIES = [1, 32];

/** name → task(i). Every task checks its answer, so failures are never timed as successes. */
function routeTasks(ctx, population) {
  const { api, runId } = ctx;
  const registered = [...population.online, ...population.offline];
  let registerSeq = 0;
  return {
    floor: () => api.refused(),
    "strict floor": () => api.refusedBlocked(),
    user_register: () => api.register(`${runId}-reg-${registerSeq++}`),
    user_token: (i) => api.token(registered[i % registered.length], (i % 7) + 1),
    "status 1 id": (i) => api.status(mixedIds(population, 1, i)),
    "status 50 ids": (i) => api.status(mixedIds(population, 50, i)),
    "status 200 ids": (i) => api.status(mixedIds(population, 200, i)),
  };
}

export async function measureWarmHttp(ctx, population) {
  const tasks = routeTasks(ctx, population);
  const samples = new Map();
  // Warm-up: every route once at low load, so no figure pays for first use.
  for (const [name, task] of Object.entries(tasks)) {
    await closedLoop({ concurrency: 4, maxCount: 40, task });
    ctx.log(`warmed ${name}`);
  }
  for (let round = 0; round < ctx.opts.rounds; round++) {
    for (const concurrency of CONCURRENCIES) {
      for (const [name, task] of Object.entries(tasks)) {
        const key = `${name}|${concurrency}`;
        if (!samples.has(key)) samples.set(key, new Samples());
        // CPU the worker's workerd process spent (it runs the worker and every object):
        // far less noisy than latency on a shared machine.
        const cpuBefore = cpuMs(ctx.server.workerPid);
        const block = await closedLoop({ concurrency, durationMs: ctx.opts.blockMs, task });
        block.cpuMs = cpuMs(ctx.server.workerPid) - cpuBefore;
        samples.get(key).add(block);
      }
    }
    ctx.log(`warm HTTP round ${round + 1}/${ctx.opts.rounds} done`);
  }
  return [...samples].map(([key, s]) => {
    const [name, concurrency] = key.split("|");
    return { name, concurrency: Number(concurrency), ...s.stats() };
  });
}
