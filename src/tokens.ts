import { base64url, errors, type JWTHeaderParameters, type JWTPayload, jwtVerify, SignJWT } from "jose";
import { ErrCode, type PlatformId } from "../protocol";
import { requireSigningKeys, type WorkerEnv } from "./config";
import { isPlatformId } from "./platforms";

/**
 * Client tokens: HS256 JWTs signed with a server-only key (never IM_SECRET).
 * The header's `kid` names the key, so a rotated-out key keeps verifying its
 * tokens until they expire.
 */

const ALGORITHM = "HS256";
const ISSUER = "imserver-edge";
// A token issued further ahead than this was not issued by a sane clock of ours.
const MAX_IAT_AHEAD_SECONDS = 60;

export interface ClientTokenClaims {
  uid: string;
  platform: PlatformId;
  /** Unique per token: what a kick invalidates. */
  jti: string;
  /** Millisecond issue time: what force_logout compares against. */
  issuedAtMs: number;
  /** Absolute Unix seconds, equal to the JWT `exp` and to `expiredTime`. */
  expiresAt: number;
}

export interface IssuedToken {
  token: string;
  expiredTime: number;
  claims: ClientTokenClaims;
}

type TokenErrCode =
  | typeof ErrCode.tokenExpired
  | typeof ErrCode.tokenInvalidated
  | typeof ErrCode.tokenMalformed
  | typeof ErrCode.tokenNotActiveYet
  | typeof ErrCode.tokenUnknown;

/** A token the gateway refuses, with OpenIM's 70x code. */
export class TokenError extends Error {
  constructor(
    readonly errCode: TokenErrCode,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

interface SigningKey {
  kid: string;
  /** Imported once per isolate: importing on every sign is measurable on the token route. */
  secret: CryptoKey;
}

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<SigningKey>>();

/** The key id is a short hash of the key: rotation needs no second setting. */
function signingKey(material: string): Promise<SigningKey> {
  let key = keyCache.get(material);
  if (!key) {
    const bytes = encoder.encode(material);
    key = Promise.all([
      crypto.subtle.digest("SHA-256", encoder.encode(`kid:${material}`)),
      crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]),
    ]).then(([digest, secret]) => ({ kid: base64url.encode(new Uint8Array(digest)).slice(0, 16), secret }));
    keyCache.set(material, key);
  }
  return key;
}

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * Each token has exactly one spelling: three unpadded base64url segments
 * that decode and re-encode to themselves. Decoders forgive padding,
 * whitespace and stray trailing bits, so without this a token would have
 * many spellings that all verify. (An empty signature is an unsigned
 * token: well-formed, and refused for its algorithm with 705.)
 */
function isCanonicalCompactJws(token: string): boolean {
  const segments = token.split(".");
  return (
    segments.length === 3 &&
    segments[0] !== "" &&
    segments[1] !== "" &&
    segments.every((segment) => BASE64URL_SEGMENT.test(segment) && roundTrips(segment))
  );
}

function roundTrips(segment: string): boolean {
  try {
    return base64url.encode(base64url.decode(segment)) === segment;
  } catch {
    return false;
  }
}

export async function issueClientToken(
  env: WorkerEnv,
  uid: string,
  platform: PlatformId,
  ttlSeconds: number,
  nowMs = Date.now(),
): Promise<IssuedToken> {
  const key = await signingKey(requireSigningKeys(env).current);
  const issuedAt = Math.floor(nowMs / 1000);
  const claims: ClientTokenClaims = {
    uid,
    platform,
    jti: crypto.randomUUID(),
    issuedAtMs: nowMs,
    expiresAt: issuedAt + ttlSeconds,
  };
  const token = await new SignJWT({ plt: platform, ims: nowMs })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT", kid: key.kid })
    .setIssuer(ISSUER)
    .setSubject(uid)
    .setJti(claims.jti)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(claims.expiresAt)
    .sign(key.secret);
  return { token, expiredTime: claims.expiresAt, claims };
}

/**
 * Checks signature, algorithm, key id, time window and the uid/platform
 * binding. Invalidation (702) is the user's Durable Object's job.
 */
export async function verifyClientToken(
  env: WorkerEnv,
  token: string,
  expected: { uid: string; platform: PlatformId },
): Promise<ClientTokenClaims> {
  const keys = requireSigningKeys(env);
  const accepted = await Promise.all([keys.current, keys.previous].filter((k) => k !== undefined).map(signingKey));
  if (!isCanonicalCompactJws(token)) throw new TokenError(ErrCode.tokenMalformed, "token is malformed");

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = accepted.find((k) => k.kid === header.kid);
        if (!key) throw new TokenError(ErrCode.tokenUnknown, "token signed with an unknown key");
        return key.secret;
      },
      {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        requiredClaims: ["sub", "jti", "iat", "nbf", "exp"],
        clockTolerance: 0,
      },
    ));
  } catch (error) {
    throw toTokenError(error);
  }

  const { sub, jti, exp, iat, plt, ims } = payload;
  if (
    typeof sub !== "string" ||
    typeof jti !== "string" ||
    typeof exp !== "number" ||
    !isPlatformId(plt) ||
    typeof ims !== "number"
  ) {
    throw new TokenError(ErrCode.tokenMalformed, "token claims are malformed");
  }
  // jose checks that iat is a number, but not that it is in the past.
  if (iat !== undefined && iat > Math.floor(Date.now() / 1000) + MAX_IAT_AHEAD_SECONDS) {
    throw new TokenError(ErrCode.tokenNotActiveYet, "token is not active yet (issued in the future)");
  }
  if (sub !== expected.uid || plt !== expected.platform) {
    throw new TokenError(ErrCode.tokenUnknown, "token was issued for another user or platform");
  }
  return { uid: sub, platform: plt, jti, issuedAtMs: ims, expiresAt: exp };
}

function toTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError(ErrCode.tokenExpired, "token expired");
  // Only a time check that failed means "not yet"; a missing or non-numeric nbf/iat is a bad token (705).
  if (
    error instanceof errors.JWTClaimValidationFailed &&
    (error.claim === "nbf" || error.claim === "iat") &&
    error.reason === "check_failed"
  ) {
    return new TokenError(ErrCode.tokenNotActiveYet, "token is not active yet");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenError(ErrCode.tokenMalformed, "token is malformed");
  }
  // Bad signature, disallowed algorithm, wrong issuer or a missing claim.
  return new TokenError(ErrCode.tokenUnknown, "token is not valid");
}
