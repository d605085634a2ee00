import { decodeProtectedHeader, type JWTPayload, SignJWT } from "jose";

/** Claims of a hand-made token; a claim set to undefined is left out. */
export type HandMadeClaims = {
  [claim in "iss" | "sub" | "jti" | "iat" | "nbf" | "exp" | "plt" | "ims"]?: string | number | undefined;
};

/**
 * A token built by hand: by default valid claims for `sub` on platform 1,
 * with a header and key of the test's choosing, and any claim replaced or left out.
 */
export function handMadeToken(
  header: { alg: string; kid?: string },
  key: string,
  claims: HandMadeClaims = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const all: HandMadeClaims = {
    iss: "imserver-edge",
    sub: "alice",
    jti: "x",
    iat: now,
    nbf: now,
    exp: now + 60,
    plt: 1,
    ims: Date.now(),
    ...claims,
  };
  const payload = Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined)) as JWTPayload;
  return new SignJWT(payload).setProtectedHeader(header).sign(new TextEncoder().encode(key));
}

/** The header our worker puts on tokens signed with its current key (to hand-make one it would accept). */
export function headerOf(token: string): { alg: string; kid: string } {
  const { alg, kid } = decodeProtectedHeader(token);
  return { alg: alg!, kid: kid! };
}

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * The same token with the signature's unused trailing bits set: 32 bytes take
 * 43 characters, whose last one carries 2 bits no decoder looks at.
 */
export function withTrailingBitsSet(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(last) ^ 1];
}
