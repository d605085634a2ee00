// After a kill -9 (or a clean restart) that drops every socket and every
// in-memory object, nobody may read online for longer than HEARTBEAT_TIMEOUT + 5 s (docs/protocol.md#heartbeat).
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit } from "../lib/measure.mjs";
import { keepAlive, openSession } from "../lib/sockets.mjs";

const POLL_EVERY_MS = 250;
const OFFLINE_GRACE_MS = 5_000;

/**
 * Users connect and ping every second; then the server goes down at t=0
 * (their last ping is at most t=0) and comes back on the same persist dir.
 * The status route is polled until nobody reads online. Passes if nobody was
 * seen online later than heartbeatTimeoutMs + 5 s after t=0.
 */
export async function crashCheck(ctx, { users, heartbeatTimeoutMs, crash }) {
  const label = crash ? "kill -9" : "clean restart";
  const uids = Array.from({ length: users }, (_, i) => `${ctx.runId}-crash${crash ? 9 : 15}-${i}`);
  const tokens = await ctx.api.registerAll(uids, { platform: 3 });
  const sessions = await mapLimit(uids, 16, (uid, i) =>
    openSession(ctx.server.url, { uid, token: tokens[i], platform: 3 }),
  );
  const stopKeepAlive = keepAlive(sessions, 1_000);
  await sleep(3_000);
  const onlineBefore = (await ctx.api.onlineAmong(uids)).length;

  stopKeepAlive();
  const t0 = performance.now();
  if (crash) await ctx.server.crash();
  else await ctx.server.stop();
  for (const s of sessions) s.ws.terminate();
  await ctx.startServer();
  const backAfterMs = performance.now() - t0;

  const deadline = heartbeatTimeoutMs + 15_000;
  let onlineAtFirstPoll;
  let lastSeenOnlineMs;
  let allOfflineAtMs;
  while (performance.now() - t0 < deadline) {
    const polledAt = performance.now() - t0;
    const online = (await ctx.api.onlineAmong(uids)).length;
    onlineAtFirstPoll ??= online;
    if (online > 0) lastSeenOnlineMs = polledAt;
    else {
      allOfflineAtMs = polledAt;
      break;
    }
    await sleep(POLL_EVERY_MS);
  }
  const ok = allOfflineAtMs !== undefined && (lastSeenOnlineMs ?? 0) <= heartbeatTimeoutMs + OFFLINE_GRACE_MS;
  ctx.log(
    `crash check (${label}): ${ok ? "pass" : "FAIL"}; last online at ${lastSeenOnlineMs?.toFixed(0)} ms, all offline at ${allOfflineAtMs?.toFixed(0)} ms`,
  );
  return {
    label,
    users,
    heartbeatTimeoutMs,
    onlineBefore,
    backAfterMs,
    onlineAtFirstPoll,
    lastSeenOnlineMs,
    allOfflineAtMs,
    ok,
  };
}
