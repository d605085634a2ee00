/** The request header that carries the signature: `t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. */
export const SIGNATURE_HEADER = "X-IM-Signature";
/** Receivers refuse a signature older than this (SPEC §5d). */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;
const encoder = new TextEncoder();
function hmacKey(secret, usage) {
    return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}
function toHex(bytes) {
    return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
function fromHex(hex) {
    if (!/^(?:[0-9a-f]{2})+$/i.test(hex))
        return undefined;
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++)
        bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return bytes;
}
/** The X-IM-Signature value for a raw body, signed at `timestampSeconds`. */
export async function signWebhook(rawBody, secret, timestampSeconds) {
    const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), encoder.encode(`${timestampSeconds}.${rawBody}`));
    return `t=${timestampSeconds},v1=${toHex(mac)}`;
}
/**
 * Checks an X-IM-Signature header against the raw body, exactly as received
 * (parse the JSON only after this). The MAC is compared by the platform's
 * HMAC verify, in constant time; a header may carry several v1 values (during
 * a secret rotation) and any one may match.
 */
export async function verifyWebhook(rawBody, header, secret, options = {}) {
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
    if (Math.abs(nowSeconds - timestampSeconds) > tolerance)
        return { ok: false, reason: "stale" };
    const key = await hmacKey(secret, "verify");
    const signed = encoder.encode(`${timestampSeconds}.${rawBody}`);
    for (const mac of macs) {
        if (mac && (await crypto.subtle.verify("HMAC", key, mac, signed)))
            return { ok: true, timestampSeconds };
    }
    return { ok: false, reason: "mismatch" };
}
