import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from "jose";
import { requireSigningKeys } from "./config";
import type { Env } from "./env";
import { ErrCode } from "./errors";
import { isPlatformId, type PlatformId } from "./platforms";

/**
 * Client tokens: HS256 JWTs signed with a server-only key (never IM_SECRET).
 * The header's `kid` names the key, so a rotated-out key keeps verifying its
 * tokens until they expire.
 */

const ALGORITHM = "HS256";
const ISSUER = "imserver-edge";

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
    ]).then(([digest, secret]) => ({ kid: base64url(new Uint8Array(digest)).slice(0, 16), secret }));
    keyCache.set(material, key);
  }
  return key;
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function issueClientToken(
  env: Env,
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
  env: Env,
  token: string,
  expected: { uid: string; platform: PlatformId },
): Promise<ClientTokenClaims> {
  const keys = requireSigningKeys(env);
  const accepted = await Promise.all([keys.current, keys.previous].filter((k) => k !== undefined).map(signingKey));

  let payload;
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

  const { sub, jti, exp, plt, ims } = payload;
  if (typeof sub !== "string" || typeof jti !== "string" || typeof exp !== "number" || !isPlatformId(plt) || typeof ims !== "number") {
    throw new TokenError(ErrCode.tokenMalformed, "token claims are malformed");
  }
  if (sub !== expected.uid || plt !== expected.platform) {
    throw new TokenError(ErrCode.tokenUnknown, "token was issued for another user or platform");
  }
  return { uid: sub, platform: plt, jti, issuedAtMs: ims, expiresAt: exp };
}

function toTokenError(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError(ErrCode.tokenExpired, "token expired");
  if (error instanceof errors.JWTClaimValidationFailed && (error.claim === "nbf" || error.claim === "iat")) {
    return new TokenError(ErrCode.tokenNotActiveYet, "token is not active yet");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokenError(ErrCode.tokenMalformed, "token is malformed");
  }
  // Bad signature, disallowed algorithm, wrong issuer or a missing claim.
  return new TokenError(ErrCode.tokenUnknown, "token is not valid");
}
