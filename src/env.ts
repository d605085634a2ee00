import type { PresenceIndex } from "./presence/presence-index";
import type { UserSession } from "./presence/user-session";

/** The worker's bindings: see wrangler.toml for vars, README for secrets. */
export interface Env {
  DB: D1Database;
  USER_SESSIONS: DurableObjectNamespace<UserSession>;
  PRESENCE_INDEX: DurableObjectNamespace<PresenceIndex>;

  // Abuse limits (wrangler.toml [[ratelimits]]). Absent bindings mean no limiting.
  FAILED_SECRET_LIMITER?: RateLimit;
  CONNECT_LIMITER?: RateLimit;

  // Secrets: never defaulted by the worker. `npm run dev` writes dev values to .dev.vars.
  IM_SECRET?: string;
  /** The AppServer secret before a rotation: accepted alongside IM_SECRET until removed. */
  IM_SECRET_PREVIOUS?: string;
  TOKEN_SIGNING_KEY?: string;
  TOKEN_SIGNING_KEY_PREVIOUS?: string;

  // Vars: each has a default, see config.ts.
  TOKEN_TTL?: string;
  HEARTBEAT_TIMEOUT?: string;
  MAX_BODY_BYTES?: string;
  MULTI_LOGIN_POLICY?: string;
  PRESENCE_SHARDS?: string;
  /** "true" means local development: weak dev secrets are allowed. Only `npm run dev` and the tests set it. */
  LOCAL_DEV?: string;
  /** "true" serves the dev console at /console; `npm run dev` sets it, deployments leave it off. */
  CONSOLE_ENABLED?: string;
}
