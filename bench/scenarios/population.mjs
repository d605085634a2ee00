// The users the status scenarios ask about: online, offline (were online,
// closed cleanly) and unknown (never registered), mixed in every request.
import { mapLimit } from "../lib/measure.mjs";
import { closeAll, keepAlive, openSession } from "../lib/sockets.mjs";

export async function buildPopulation(ctx, size) {
  const online = Array.from({ length: size }, (_, i) => `${ctx.runId}-on-${i}`);
  const offline = Array.from({ length: size }, (_, i) => `${ctx.runId}-off-${i}`);
  const unknown = Array.from({ length: size }, (_, i) => `${ctx.runId}-unknown-${i}`);
  const tokens = new Map();
  for (const [uid, token] of zip(online, await ctx.api.registerAll(online))) tokens.set(uid, token);
  for (const [uid, token] of zip(offline, await ctx.api.registerAll(offline))) tokens.set(uid, token);

  // Offline users leave a row in the presence index, as real ones do.
  const leaving = await mapLimit(offline, 16, (uid) =>
    openSession(ctx.server.url, { uid, token: tokens.get(uid), platform: 1 }),
  );
  await closeAll(leaving);

  const population = { online, offline, unknown, tokens, sessions: [], stopKeepAlive: () => {} };
  await connectOnline(ctx, population);
  return population;
}

/** (Re)opens a session for every online user, pinging every 10 s (HEARTBEAT_TIMEOUT is 30 s). */
export async function connectOnline(ctx, population) {
  population.stopKeepAlive();
  population.sessions = await mapLimit(population.online, 16, (uid) =>
    openSession(ctx.server.url, { uid, token: population.tokens.get(uid), platform: 1 }),
  );
  population.stopKeepAlive = keepAlive(population.sessions, 10_000);
  const shown = await ctx.api.onlineAmong(population.online);
  if (shown.length !== population.online.length) {
    throw new Error(`only ${shown.length} of ${population.online.length} connected users show online`);
  }
}

export async function disconnectOnline(population) {
  population.stopKeepAlive();
  await closeAll(population.sessions);
  population.sessions = [];
}

/** The dead sockets of a server that was killed: forget them without waiting on anything. */
export function dropOnline(population) {
  population.stopKeepAlive();
  for (const s of population.sessions) s.ws.terminate();
  population.sessions = [];
}

/**
 * The request-th id list of n ids: online, offline and unknown ids in turn,
 * walking through each pool so consecutive requests ask about different users.
 */
export function mixedIds(population, n, request) {
  const pools = [population.online, population.offline, population.unknown];
  return Array.from({ length: n }, (_, k) => {
    const pool = pools[(request + k) % 3];
    return pool[(request * n + k) % pool.length];
  });
}

function zip(a, b) {
  return a.map((x, i) => [x, b[i]]);
}
