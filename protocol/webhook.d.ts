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
export declare const SIGNATURE_HEADER = "X-IM-Signature";
/** Receivers refuse a signature older than this (SPEC §5d). */
export declare const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;
/** The X-IM-Signature value for a raw body, signed at `timestampSeconds`. */
export declare function signWebhook(rawBody: string, secret: string, timestampSeconds: number): Promise<string>;
export interface VerifyWebhookOptions {
    /** Refuse signatures older (or further in the future) than this. Default 300 s. */
    toleranceSeconds?: number;
    /** The current time in Unix seconds (tests pin it). */
    nowSeconds?: number;
}
export type WebhookVerification = {
    ok: true;
    timestampSeconds: number;
} | {
    ok: false;
    reason: "malformed" | "stale" | "mismatch";
};
/**
 * Checks an X-IM-Signature header against the raw body, exactly as received
 * (parse the JSON only after this). The MAC is compared by the platform's
 * HMAC verify, in constant time; a header may carry several v1 values (during
 * a secret rotation) and any one may match.
 */
export declare function verifyWebhook(rawBody: string, header: string | null | undefined, secret: string, options?: VerifyWebhookOptions): Promise<WebhookVerification>;
