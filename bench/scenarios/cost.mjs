// What presence costs, counted: the metered worker (bench/metering) counts
// every billable Durable Object operation while simulated clients stay online
// and ping every 10 s, as the SDK does. Nothing here is estimated.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Api } from "../lib/api.mjs";
import { HttpClient } from "../lib/http.mjs";
import { mapLimit } from "../lib/measure.mjs";
import { DevServer, migrate } from "../lib/server.mjs";
import { closeAll, closed, isOpen, openSession } from "../lib/sockets.mjs";

const METERED_WORKER = "bench/metering/worker.ts";
export const PING_EVERY_MS = 10_000;
/** verifyTiming's lag at these timeouts is 3 s; a little more lets every first verify land. */
export const SETTLE_MS = 5_000;

export async function readMeter(server) {
  return (await fetch(`${server.url}/__meter`)).json();
}

export async function resetMeter(server) {
  await fetch(`${server.url}/__meter/reset`, { method: "POST" });
}

/** Pings every open session once per period, spread over the period; counts what it sent. */
export function pinger(sessions, periodMs) {
  const state = { sent: 0 };
  const slices = Math.max(1, Math.round(periodMs / 1000));
  let tick = 0;
  const timer = setInterval(() => {
    const slice = tick++ % slices;
    for (let i = slice; i < sessions.length; i += slices) {
      if (isOpen(sessions[i])) {
        sessions[i].ws.send("ping");
        state.sent++;
      }
    }
  }, 1000);
  return { state, stop: () => clearInterval(timer) };
}

/** counts × 1 / (users × hours), per counter. */
export function perUserHour(counts, users, ms) {
  const hours = ms / 3_600_000;
  return Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, n / users / hours]));
}

/** A webhook receiver on loopback that acknowledges every body at once, and counts what it got; `onEvent` sees each event. */
export async function startReceiver({ onEvent } = {}) {
  const received = { bodies: 0, events: 0 };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      received.bodies++;
      const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      received.events += events.length;
      for (const event of events) onEvent?.(event);
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { received, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => server.close() };
}

/** Worker vars that send webhooks to `receiver` (none without one): plain-http loopback, which only local dev allows (LOCAL_DEV). */
export function webhookVars(receiver) {
  return receiver
    ? {
        LOCAL_DEV: "true",
        PRESENCE_WEBHOOK_URL: receiver.url,
        PRESENCE_WEBHOOK_SECRET: randomBytes(24).toString("hex"),
      }
    : {};
}

/** A metered worker of its own, for one HEARTBEAT_TIMEOUT. */
export async function startMetered(ctx, name, vars) {
  const persistDir = join(ctx.workDir, `cost-${name}`);
  migrate(persistDir, join(ctx.workDir, `cost-${name}-migrate.log`));
  const server = await new DevServer({
    persistDir,
    vars: { ...ctx.secrets, ...vars },
    logFile: join(ctx.workDir, `cost-${name}.log`),
    script: METERED_WORKER,
  }).start();
  return { server, api: new Api(new HttpClient(server.url), ctx.secrets.IM_SECRET) };
}

async function connectUsers(server, api, uids) {
  const tokens = await api.registerAll(uids);
  return mapLimit(uids, 16, (uid, i) => openSession(server.url, { uid, token: tokens[i], platform: 1 }));
}

/** One window of steady state: reset, wait, read. */
async function window(server, sessionsPinger, windowMs) {
  await resetMeter(server);
  const sentBefore = sessionsPinger.state.sent;
  const started = Date.now();
  await sleep(windowMs);
  const counts = await readMeter(server);
  return { counts, ms: Date.now() - started, pings: sessionsPinger.state.sent - sentBefore };
}

/**
 * Steady state at one HEARTBEAT_TIMEOUT: `users` online for a window, then
 * `users` more for another window. The difference is the marginal cost of a
 * user; what the first window has beyond `users` × marginal is the shard's
 * fixed cost. With `pairsAndIdle`, also the cost when nobody is online and
 * per connect + clean close.
 */
export async function measureCost(
  ctx,
  { heartbeatTimeoutMs, users, windowMs, pairsAndIdle = false, webhooks = false },
) {
  const name = `${heartbeatTimeoutMs / 1000}s${webhooks ? "-webhooks" : ""}`;
  const receiver = webhooks ? await startReceiver() : undefined;
  const { server, api } = await startMetered(ctx, name, {
    HEARTBEAT_TIMEOUT: `${heartbeatTimeoutMs / 1000}s`,
    ...webhookVars(receiver),
  });
  const result = {
    label: `${heartbeatTimeoutMs / 1000} s${webhooks ? ", webhooks on" : ""}`,
    heartbeatTimeoutMs,
    webhooks,
    users,
    windowMs,
    timing: await (await fetch(`${server.url}/__meter/timing`)).json(),
  };
  try {
    const first = Array.from({ length: users }, (_, i) => `${ctx.runId}-cost${name}-a${i}`);
    const second = Array.from({ length: users }, (_, i) => `${ctx.runId}-cost${name}-b${i}`);
    const sessions = await connectUsers(server, api, first);
    const ping = pinger(sessions, PING_EVERY_MS);
    await sleep(heartbeatTimeoutMs + SETTLE_MS);
    ctx.log(`cost ${name}: window 1 (${users} users)`);
    const one = await window(server, ping, windowMs);

    sessions.push(...(await connectUsers(server, api, second)));
    await sleep(heartbeatTimeoutMs + SETTLE_MS);
    ctx.log(`cost ${name}: window 2 (${2 * users} users)`);
    const two = await window(server, ping, windowMs);
    ping.stop();

    const rateOne = perUserHour(one.counts, 1, one.ms); // per hour, whole worker
    const rateTwo = perUserHour(two.counts, 1, two.ms);
    const keys = new Set([...Object.keys(rateOne), ...Object.keys(rateTwo)]);
    const marginal = Object.fromEntries([...keys].map((k) => [k, ((rateTwo[k] ?? 0) - (rateOne[k] ?? 0)) / users]));
    const fixed = Object.fromEntries([...keys].map((k) => [k, (rateOne[k] ?? 0) - users * marginal[k]]));
    Object.assign(result, {
      windows: [
        { users, ...one, perUserHour: perUserHour(one.counts, users, one.ms) },
        { users: 2 * users, ...two, perUserHour: perUserHour(two.counts, 2 * users, two.ms) },
      ],
      marginalPerUserHour: marginal,
      fixedPerHour: fixed,
      pingsPerUserHour: two.pings / (2 * users) / (two.ms / 3_600_000),
      stillOnline: (await api.onlineAmong([...first, ...second])).length,
    });

    await closeAll(sessions);
    if (pairsAndIdle) {
      // Nobody online: whatever verify was still scheduled fires once; then nothing at all.
      await sleep(heartbeatTimeoutMs + SETTLE_MS);
      const idleMs = ctx.opts.idleWindowMs;
      ctx.log(`cost ${name}: nobody online for ${idleMs / 1000} s`);
      await resetMeter(server);
      await sleep(idleMs);
      result.idle = { ms: idleMs, counts: await readMeter(server) };
      result.pair = await connectClosePairs(ctx, server, api, name, heartbeatTimeoutMs);
    }
    if (receiver) result.received = { ...receiver.received };
  } finally {
    api.client.close();
    receiver?.close();
    await server.stop();
  }
  return result;
}

/** Connect, ping, clean close, for users whose objects exist already (each did one pair before). */
async function connectClosePairs(ctx, server, api, name, heartbeatTimeoutMs) {
  const pairs = ctx.opts.costPairs;
  const uids = Array.from({ length: pairs }, (_, i) => `${ctx.runId}-cost${name}-pair${i}`);
  const tokens = await api.registerAll(uids);
  const pair = async (i) => {
    const session = await openSession(server.url, { uid: uids[i], token: tokens[i], platform: 1 });
    while (session.pongs === 0) await sleep(5);
    session.ws.close(1000);
    await closed(session);
  };
  for (let i = 0; i < pairs; i++) await pair(i);
  await sleep(heartbeatTimeoutMs + SETTLE_MS);
  ctx.log(`cost ${name}: ${pairs} connect + close pairs`);
  await resetMeter(server);
  for (let i = 0; i < pairs; i++) await pair(i);
  await sleep(heartbeatTimeoutMs + SETTLE_MS);
  const counts = await readMeter(server);
  return { pairs, counts, perPair: Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / pairs])) };
}
