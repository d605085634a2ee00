import type { PlatformId, PlatformName } from "./platforms.js";

/** Why a platform went online or offline (SPEC §5d). */
export type PresenceEventReason = "connect" | "close" | "kicked" | "logged_out" | "heartbeat_timeout" | "token_expired";

/** One change of one platform of one user, as delivered to PRESENCE_WEBHOOK_URL. */
export interface PresenceEvent {
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
}

/** The body of one delivery: at most 100 events. */
export interface PresenceEventBody {
  events: PresenceEvent[];
}

/** The request header that carries the signature: `t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SIGNATURE_HEADER = "X-IM-Signature";

/** Receivers refuse a signature older than this (SPEC §5d). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
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
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret, "sign"),
    encoder.encode(`${timestampSeconds}.${rawBody}`),
  );
  return `t=${timestampSeconds},v1=${toHex(mac)}`;
}

export interface VerifyWebhookOptions {
  /** Refuse signatures older (or further in the future) than this. Default 300 s. */
  toleranceSeconds?: number;
  /** The current time in Unix seconds (tests pin it). */
  nowSeconds?: number;
}

export type WebhookVerification =
  | { ok: true; timestampSeconds: number }
  | { ok: false; reason: "malformed" | "stale" | "mismatch" };

/**
 * Checks an X-IM-Signature header against the raw body, exactly as received
 * (parse the JSON only after this). The MAC is compared by the platform's
 * HMAC verify, in constant time; a header may carry several v1 values (during
 * a secret rotation) and any one may match.
 */
export async function verifyWebhook(
  rawBody: string,
  header: string | null | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookVerification> {
  const fields = (header ?? "").split(",").map((part) => part.trim().split("="));
  const timestamps = fields.filter(([key]) => key === "t").map(([, value]) => value ?? "");
  const macs = fields.filter(([key]) => key === "v1").map(([, value]) => fromHex(value ?? ""));
  const timestampText = timestamps[0];
  if (timestamps.length !== 1 || !timestampText || !/^\d{1,12}$/.test(timestampText) || macs.length === 0) {
    return { ok: false, reason: "malformed" };
  }
  const timestampSeconds = Number(timestampText);
  const nowSeconds = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_SIGNATURE_TOLERANCE_SECONDS;
  if (Math.abs(nowSeconds - timestampSeconds) > tolerance) return { ok: false, reason: "stale" };
  const key = await hmacKey(secret, "verify");
  const signed = encoder.encode(`${timestampSeconds}.${rawBody}`);
  for (const mac of macs) {
    if (mac && (await crypto.subtle.verify("HMAC", key, mac, signed))) return { ok: true, timestampSeconds };
  }
  return { ok: false, reason: "mismatch" };
}
