import { ApiError } from "./errors";
import { codePointLength } from "./schemas";

/** Who may keep how many sessions on one platform (README: multi-login policy). */
export type LoginPolicy = { kind: "kick_same_platform" } | { kind: "max_per_platform"; max: number };

export interface Settings {
  tokenTtlSeconds: number;
  heartbeatTimeoutMs: number;
  maxBodyBytes: number;
  loginPolicy: LoginPolicy;
  presenceShards: number;
  /** Who may watch whose presence (docs/security.md#who-may-see-whom). */
  visibility: "everyone" | "granted";
  webhooks: WebhookSettings;
}

export interface WebhookSettings {
  /** Unset: presence events are not produced at all. */
  url?: string;
  graceMs: number;
  retryDelayMs: number;
}

export interface SigningKeys {
  current: string;
  previous?: string;
}

/**
 * Every var the worker reads, with its default: the only place a default is
 * written (wrangler.toml sets a var only to override it; docs/configuration.md
 * explains each).
 */
const VAR_DEFAULTS = {
  TOKEN_TTL: "7d",
  HEARTBEAT_TIMEOUT: "30s",
  MAX_BODY_BYTES: "65536",
  MULTI_LOGIN_POLICY: "kick_same_platform",
  PRESENCE_SHARDS: "1",
  /** `everyone`: any signed-in client may watch any uid; `granted`: only users a grant lets see (docs/security.md#who-may-see-whom). */
  PRESENCE_VISIBILITY: "everyone",
  /** Where presence events are POSTed (docs/webhooks.md); empty: no webhooks. */
  PRESENCE_WEBHOOK_URL: "",
  /** A platform that goes offline and comes back within this produces no events. */
  PRESENCE_WEBHOOK_GRACE: "0s",
  /** The first retry of a failed delivery waits this long; each next one twice as long, up to an hour. */
  PRESENCE_WEBHOOK_RETRY_DELAY: "10s",
  /** "true" serves the dev console at /console; `npm run dev` sets it. */
  CONSOLE_ENABLED: "false",
  /** "true" means local development: weak dev secrets are allowed. Only `npm run dev` and the tests set it. */
  LOCAL_DEV: "false",
} as const;

/** Every secret the worker reads. None has a default: a missing one fails closed (500 naming it). */
export const SECRET_NAMES = [
  "IM_SECRET",
  "IM_SECRET_PREVIOUS",
  "TOKEN_SIGNING_KEY",
  "TOKEN_SIGNING_KEY_PREVIOUS",
  "PRESENCE_WEBHOOK_SECRET",
] as const;

export type VarName = keyof typeof VAR_DEFAULTS;
export type SecretName = (typeof SECRET_NAMES)[number];

/**
 * The env as the worker reads it: the bindings `wrangler types` generates from
 * wrangler.toml (worker-configuration.d.ts), plus the vars and secrets above,
 * which are strings when set.
 */
export type WorkerEnv = Env & Partial<Record<VarName | SecretName, string>>;

const MIN_SIGNING_KEY_LENGTH = 32;
const MAX_IM_SECRET_LENGTH = 32;
// Outside local dev: long enough that guessing is hopeless even unthrottled from many addresses.
const MIN_IM_SECRET_LENGTH = 16;
// Secrets printed in public docs and samples (the seed's first), compared case-insensitively.
// The length rule already refuses these; listing them keeps the refusal explicit if it ever changes.
const PUBLISHED_IM_SECRETS = new Set(["tuoyun", "openim123", "secret", "changeme", "password"]);

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "30s", "500ms", "7d" or a bare number of seconds, to milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? "s") as keyof typeof UNIT_MS;
  const ms = Number(match[1]) * UNIT_MS[unit];
  return Number.isFinite(ms) && ms > 0 ? Math.round(ms) : undefined;
}

/** A duration that may be zero ("0s"): the grace off. */
function durationOrZero(text: string): number | undefined {
  return /^\s*0+(?:\.0+)?\s*(ms|s|m|h|d)?\s*$/.test(text) ? 0 : parseDuration(text);
}

/** Empty for off; otherwise an absolute http(s) URL. */
function optionalUrl(text: string): { url?: string } | undefined {
  if (text.trim() === "") return {};
  try {
    const url = new URL(text.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? { url: url.toString() } : undefined;
  } catch {
    return undefined;
  }
}

function positiveInteger(text: string): number | undefined {
  return /^\s*\d+\s*$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}

export function parseLoginPolicy(text: string): LoginPolicy | undefined {
  const trimmed = text.trim();
  if (trimmed === "kick_same_platform") return { kind: "kick_same_platform" };
  const match = /^max_per_platform:(\d+)$/.exec(trimmed);
  if (match && Number(match[1]) >= 1) return { kind: "max_per_platform", max: Number(match[1]) };
  return undefined;
}

function setting<T>(env: WorkerEnv, name: VarName, parse: (text: string) => T | undefined): T {
  const text = env[name] ?? VAR_DEFAULTS[name];
  const value = parse(text);
  if (value === undefined) throw ApiError.misconfigured(name, `has an invalid value ${JSON.stringify(text)}`);
  return value;
}

// Settings are read once per env object: the bindings of an isolate do not change.
const cache = new WeakMap<object, Settings>();

/** The non-secret settings, with defaults. A bad value is a 500 naming it. */
export function readSettings(env: WorkerEnv): Settings {
  let settings = cache.get(env);
  if (!settings) {
    settings = {
      tokenTtlSeconds: Math.max(1, Math.round(setting(env, "TOKEN_TTL", parseDuration) / 1000)),
      heartbeatTimeoutMs: setting(env, "HEARTBEAT_TIMEOUT", parseDuration),
      maxBodyBytes: setting(env, "MAX_BODY_BYTES", positiveInteger),
      loginPolicy: setting(env, "MULTI_LOGIN_POLICY", parseLoginPolicy),
      presenceShards: setting(env, "PRESENCE_SHARDS", positiveInteger),
      visibility: setting(env, "PRESENCE_VISIBILITY", (text) =>
        text.trim() === "everyone" || text.trim() === "granted" ? (text.trim() as "everyone" | "granted") : undefined,
      ),
      webhooks: {
        ...setting(env, "PRESENCE_WEBHOOK_URL", optionalUrl),
        graceMs: setting(env, "PRESENCE_WEBHOOK_GRACE", durationOrZero),
        retryDelayMs: setting(env, "PRESENCE_WEBHOOK_RETRY_DELAY", parseDuration),
      },
    };
    cache.set(env, settings);
  }
  return settings;
}

/** An on/off var: on only when set to "true". */
export function isOn(env: WorkerEnv, name: "CONSOLE_ENABLED" | "LOCAL_DEV"): boolean {
  return (env[name] ?? VAR_DEFAULTS[name]) === "true";
}

/** Set to "true" only by `npm run dev` and the tests; wrangler.toml never sets it. */
function isLocalDev(env: WorkerEnv): boolean {
  return isOn(env, "LOCAL_DEV");
}

/** A weak AppServer secret is refused like a missing one, except in local dev (where `tuoyun` is the default). */
function assertStrongImSecret(env: WorkerEnv, name: ImSecretName, secret: string): void {
  const length = codePointLength(secret);
  if (length > MAX_IM_SECRET_LENGTH)
    throw ApiError.misconfigured(name, `is longer than ${MAX_IM_SECRET_LENGTH} characters`);
  if (isLocalDev(env)) return;
  if (PUBLISHED_IM_SECRETS.has(secret.toLowerCase()))
    throw ApiError.misconfigured(name, "is a published example value");
  if (length < MIN_IM_SECRET_LENGTH)
    throw ApiError.misconfigured(name, `is shorter than ${MIN_IM_SECRET_LENGTH} characters`);
}

type ImSecretName = "IM_SECRET" | "IM_SECRET_PREVIOUS";

/**
 * The AppServer secrets a request may carry: IM_SECRET, and IM_SECRET_PREVIOUS
 * while a rotation is under way. Missing or weak in production means every
 * AppServer call fails closed.
 */
export function requireImSecrets(env: WorkerEnv): string[] {
  const current = env.IM_SECRET;
  if (!current) throw ApiError.misconfigured("IM_SECRET");
  const previous = env.IM_SECRET_PREVIOUS || undefined;
  assertStrongImSecret(env, "IM_SECRET", current);
  if (previous === undefined) return [current];
  assertStrongImSecret(env, "IM_SECRET_PREVIOUS", previous);
  return [current, previous];
}

/** The token signing keys: server-only, long, and never the AppServer secret. */
export function requireSigningKeys(env: WorkerEnv): SigningKeys {
  const current = env.TOKEN_SIGNING_KEY;
  if (!current) throw ApiError.misconfigured("TOKEN_SIGNING_KEY");
  const previous = env.TOKEN_SIGNING_KEY_PREVIOUS || undefined;
  for (const [name, key] of [
    ["TOKEN_SIGNING_KEY", current],
    ["TOKEN_SIGNING_KEY_PREVIOUS", previous],
  ] as const) {
    if (key === undefined) continue;
    if (key.length < MIN_SIGNING_KEY_LENGTH) {
      throw ApiError.misconfigured(name, `is shorter than ${MIN_SIGNING_KEY_LENGTH} characters`);
    }
    if (key === env.IM_SECRET) throw ApiError.misconfigured(name, "must differ from IM_SECRET");
    if (key === env.IM_SECRET_PREVIOUS) throw ApiError.misconfigured(name, "must differ from IM_SECRET_PREVIOUS");
  }
  return { current, previous };
}

const MIN_WEBHOOK_SECRET_LENGTH = 32;

/**
 * The webhook destination and its signing secret, or undefined when webhooks
 * are off. With a URL set, a missing or short secret fails closed: every
 * AppServer call and socket handshake is a 500 naming it (docs/webhooks.md). Outside
 * local dev the URL must be https.
 */
export function requireWebhook(env: WorkerEnv): { url: string; secret: string } | undefined {
  const { url } = readSettings(env).webhooks;
  if (url === undefined) return undefined;
  if (!isLocalDev(env) && !url.startsWith("https:")) {
    throw ApiError.misconfigured("PRESENCE_WEBHOOK_URL", "must be an https URL");
  }
  const secret = env.PRESENCE_WEBHOOK_SECRET;
  if (!secret) throw ApiError.misconfigured("PRESENCE_WEBHOOK_SECRET", "is not set (PRESENCE_WEBHOOK_URL is)");
  if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw ApiError.misconfigured("PRESENCE_WEBHOOK_SECRET", `is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
  }
  return { url, secret };
}
