/**
 * The metered worker (bench/metering) with its METRICS dataset stubbed by an
 * in-memory recorder: the `metrics` test project runs it, so a test sees every
 * data point the worker and its objects write, beside the billed operations
 * they cost. Local workerd runs the worker and all its objects in one isolate,
 * so one array sees everything. GET /__metrics answers the points so far,
 * POST /__metrics/reset starts again.
 */
import metered, { UserSession as MeteredSession, PresenceShard as MeteredShard } from "../../bench/metering/worker";

const points: AnalyticsEngineDataPoint[] = [];
const recorder: AnalyticsEngineDataset = { writeDataPoint: (point) => void points.push(point ?? {}) };
const withRecorder = (env: Env): Env => ({ ...env, METRICS: recorder }) as Env;

export class UserSession extends MeteredSession {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withRecorder(env));
  }
}

export class PresenceShard extends MeteredShard {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withRecorder(env));
  }
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/__metrics") return Response.json(points);
    if (pathname === "/__metrics/reset" && request.method === "POST") {
      points.length = 0;
      return Response.json({});
    }
    return metered.fetch(request, withRecorder(env), ctx);
  },
  queue: (batch, env) => metered.queue(batch, withRecorder(env)),
} satisfies ExportedHandler<Env, Parameters<typeof metered.queue>[0]["messages"][number]["body"]>;
