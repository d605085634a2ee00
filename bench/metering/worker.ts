/**
 * The worker with its billable Durable Object operations counted (meter.ts).
 * A bench-only entry: `wrangler dev bench/metering/worker.ts` and the vitest
 * `cost` project run it; nothing else changes. D1 is counted apart from the
 * objects' operations (`D1.*`). GET /__meter answers the
 * counts so far, POST /__meter/reset starts again, GET /__meter/timing the
 * shard's verify timing at this HEARTBEAT_TIMEOUT.
 */
import { readSettings } from "../../src/config";
import worker, { PresenceShard, UserSession } from "../../src/index";
import { verifyTiming } from "../../src/presence/verification";
import { meteredBatch, meteredClass, meteredEnv, reset, snapshot } from "./meter";

const NAMESPACES = { USER_SESSIONS: "UserSession", PRESENCE_SHARD: "PresenceShard" };
const QUEUES = { PRESENCE_EVENTS: "PresenceEvents" };
/** D1 is counted where the worker uses it (its routes): statements and the rows they read and wrote. */
const DATABASES = ["DB"];

const MeteredUserSession = meteredClass<Env, typeof UserSession>(UserSession, "UserSession", NAMESPACES, QUEUES);
const MeteredPresenceShard = meteredClass<Env, typeof PresenceShard>(
  PresenceShard,
  "PresenceShard",
  NAMESPACES,
  QUEUES,
);

export { MeteredPresenceShard as PresenceShard, MeteredUserSession as UserSession };

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/__meter") return Response.json(snapshot());
    if (pathname === "/__meter/timing") return Response.json(verifyTiming(readSettings(env).heartbeatTimeoutMs));
    if (pathname === "/__meter/reset" && request.method === "POST") {
      reset();
      return Response.json({});
    }
    return worker.fetch(request, meteredEnv(env, NAMESPACES, QUEUES, DATABASES), ctx);
  },
  queue: (batch, env) =>
    worker.queue(meteredBatch(batch, batch.queue.endsWith("-dlq") ? "DeadLetters" : "PresenceEvents"), env),
} satisfies ExportedHandler<Env, Parameters<typeof worker.queue>[0]["messages"][number]["body"]>;
