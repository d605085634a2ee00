import type { PlatformId, PlatformName } from "./platforms.js";
import type { CustomStatus } from "./presence-frames.js";

/** Why a platform went online or offline (docs/webhooks.md). */
export type PresenceEventReason =
  | "connect"
  | "close"
  | "kicked"
  | "logged_out"
  | "heartbeat_timeout"
  | "token_expired"
  | "deleted"
  | "banned";

/** One change of one platform of one user, as delivered to PRESENCE_WEBHOOK_URL. */
export interface PlatformEvent {
  /** Unique, and the same on every retry: receivers deduplicate on it. */
  id: string;
  type: "online" | "offline";
  userID: string;
  platformID: PlatformId;
  platform: PlatformName;
  reason: PresenceEventReason;
  /** The user's live platforms right after this change: the latest event alone gives the user's whole state. */
  platforms: PlatformName[];
  /** Per user, strictly increasing across all of that user's events. */
  seq: number;
  /** Unix milliseconds of the change. */
  time: number;
  /** The user is invisible: watchers see it offline meanwhile (docs/protocol.md#your-own-presence). */
  invisible?: true;
}

/**
 * A change of what a user says about its presence (background, invisibility,
 * custom status, its expiry included), with the user's whole state after it.
 */
export interface StateEvent {
  id: string;
  type: "state";
  userID: string;
  platforms: PlatformName[];
  /** The live platforms whose app is in the background. */
  background: PlatformName[];
  invisible: boolean;
  customStatus: CustomStatus | null;
  seq: number;
  time: number;
}

/** What PRESENCE_WEBHOOK_URL receives: a platform's change, or a change of the user's state. */
export type PresenceEvent = PlatformEvent | StateEvent;

/** The body of one delivery: at most 100 events. */
export interface PresenceEventBody {
  events: PresenceEvent[];
}

/** The request header that carries the signature: `t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SIGNATURE_HEADER = "X-IM-Signature";

/** Receivers refuse a signature older than this (docs/webhooks.md). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

function toHex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** The X-IM-Signature value for a raw body, signed at `timestampSeconds`. */
export async function signWebhook(rawBody: string, secret: string, timestampSeconds: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(`${timestampSeconds}.${rawBody}`));
  return `t=${timestampSeconds},v1=${toHex(mac)}`;
}

export interface VerifyWebhookOptions {
  /** Refuse signatures older (or further in the future) than this: a finite number, 0 or more. Default 300 s. */
  toleranceSeconds?: number;
  /** The current time in Unix seconds, finite (tests pin it). */
  nowSeconds?: number;
}

/** How many v1 values a header may carry: enough for a secret rotation, few enough to bound the work. */
export const MAX_SIGNATURES_PER_HEADER = 8;

/**
 * Why a delivery was refused (docs/webhooks.md#signature):
 * - `malformed`: the header is missing, not one string, not `t=<seconds>,v1=<hex>`, or carries
 *   more than MAX_SIGNATURES_PER_HEADER v1 values;
 * - `stale`: `t` is further from now than the tolerance;
 * - `mismatch`: no v1 value is the body's MAC under this secret;
 * - `misconfigured`: the call itself is wrong, whatever was delivered: an empty or non-string
 *   secret, a body that is not a string (pass the raw text, not parsed JSON), a tolerance that is
 *   not a finite number of 0 or more, a nowSeconds that is not finite; or the platform failed
 *   (no Web Crypto).
 */
export type WebhookRefusal = "malformed" | "stale" | "mismatch" | "misconfigured";

export type WebhookVerification = { ok: true; timestampSeconds: number } | { ok: false; reason: WebhookRefusal };

const refuse = (reason: WebhookRefusal): WebhookVerification => ({ ok: false, reason });

const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** The checked options, or undefined when they cannot be trusted to bound the timestamp. */
function readOptions(options: unknown): { toleranceSeconds: number; nowSeconds: number } | undefined {
  if (typeof options !== "object" || options === null) return undefined;
  const { toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS, nowSeconds = Math.floor(Date.now() / 1000) } =
    options as VerifyWebhookOptions;
  // NaN compares false with everything: a NaN tolerance would let any timestamp through.
  if (!isFiniteNumber(toleranceSeconds) || toleranceSeconds < 0 || !isFiniteNumber(nowSeconds)) return undefined;
  return { toleranceSeconds, nowSeconds };
}

/** The header's one timestamp and its v1 values, or undefined when it is not a signature header. */
function parseHeader(header: unknown): { timestampSeconds: number; macs: string[] } | undefined {
  if (typeof header !== "string") return undefined;
  const timestamps: string[] = [];
  const macs: string[] = [];
  for (const part of header.split(",")) {
    const separator = part.indexOf("=");
    const key = part.slice(0, Math.max(separator, 0)).trim();
    const value = part.slice(separator + 1).trim();
    if (key === "t") timestamps.push(value);
    else if (key === "v1") macs.push(value);
    // Past a limit the header is refused, whatever follows.
    if (macs.length > MAX_SIGNATURES_PER_HEADER || timestamps.length > 1) return undefined;
  }
  const [timestampText] = timestamps;
  if (timestampText === undefined || !/^\d{1,12}$/.test(timestampText) || macs.length === 0) return undefined;
  return { timestampSeconds: Number(timestampText), macs };
}

/**
 * Equal bytes, in time that depends only on the lengths: every byte is
 * looked at, whatever differs first. (protocol/ runs on every platform, so
 * it cannot use node:crypto or the Workers-only timingSafeEqual.)
 */
function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  // The expected MAC is always 32 bytes: its length is no secret.
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/**
 * Checks an X-IM-Signature header against the raw body, exactly as received
 * (parse the JSON only after this). It never throws: every refusal is
 * `{ ok: false, reason }`. The body's MAC is computed once, whatever the
 * header holds, and compared with each of its v1 values (up to 8, during a
 * secret rotation any one may match) in constant time.
 */
export async function verifyWebhook(
  rawBody: string,
  // Node types request.headers[…] as string | string[]: such code compiles, and an array is refused.
  header: string | readonly string[] | null | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookVerification> {
  try {
    return await check(rawBody, header, secret, options);
  } catch {
    // Only the platform can get here (no Web Crypto, an options object whose getters throw): still an answer.
    return refuse("misconfigured");
  }
}

async function check(
  rawBody: unknown,
  header: unknown,
  secret: unknown,
  options: unknown,
): Promise<WebhookVerification> {
  const settings = readOptions(options);
  if (!settings || typeof secret !== "string" || secret === "" || typeof rawBody !== "string") {
    return refuse("misconfigured");
  }
  const parsed = parseHeader(header);
  if (!parsed) return refuse("malformed");
  const { timestampSeconds, macs } = parsed;
  if (Math.abs(settings.nowSeconds - timestampSeconds) > settings.toleranceSeconds) return refuse("stale");
  // One HMAC per call: its cost is the body's, however many values the header names.
  const signed = encoder.encode(`${timestampSeconds}.${rawBody}`);
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), signed));
  let matched = false;
  // Every value is compared, so the time taken does not tell which one matched.
  for (const mac of macs) matched = equalInConstantTime(expected, fromHex(mac) ?? new Uint8Array()) || matched;
  return matched ? { ok: true, timestampSeconds } : refuse("mismatch");
}
