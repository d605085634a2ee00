import fc from "fast-check";

/** Generators of hostile AppServer input, shared by the property tests and `npm run fuzz`. */

const lengthsAround = (n: number) => fc.constantFrom(0, 1, n - 1, n, n + 1);
const atLimit = (unit: string) => (n: number) => unit.repeat(n);

export const adversarialString = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  lengthsAround(64).map(atLimit("😀")), // 4 UTF-8 bytes each
  lengthsAround(64).map(atLimit("张")),
  lengthsAround(1024).map(atLimit("x")),
  lengthsAround(342).map(atLimit("图")), // around 1024 bytes
  lengthsAround(32).map(atLimit("é")),
  lengthsAround(16).map(atLimit("a")),
  fc.constantFrom(
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "x' UNION SELECT * FROM users --",
    "\u202Eevil\u202C",
    "\u200F\u200E\u061C",
    "\u0000",
    "nul\u0000inside",
    "\u0007\u001b[31m",
    "\ud800", // lone surrogate
    "\uFEFFbom",
    "null",
    "undefined",
    "__proto__",
    "",
  ),
);

const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 0.1, -0, 1.0000001, 7.5, 1e-300);

export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: adversarialString },
  { weight: 3, arbitrary: fc.integer({ min: -3, max: 10 }) },
  { weight: 2, arbitrary: hugeNumber },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }) },
);

const uidLike = fc.oneof(
  adversarialString,
  fc.string({ minLength: 1, maxLength: 10 }).map((s) => `pb-${s}`),
  anyValue,
);
const platformLike = fc.oneof(fc.integer({ min: 1, max: 7 }), anyValue);

/**
 * For each AppServer route, bodies with each field maybe missing, maybe right,
 * maybe hostile. Mostly with the right secret, so the schemas get exercised.
 */
export function hostileBodies(secret: string) {
  const secretValue = fc.oneof({ weight: 6, arbitrary: fc.constant(secret) }, { weight: 1, arbitrary: anyValue });
  const bodyOf = (fields: Record<string, fc.Arbitrary<unknown>>) =>
    fc.record({ secret: secretValue, ...fields }, { requiredKeys: [] });
  return {
    "/auth/user_register": bodyOf({
      platform: platformLike,
      uid: uidLike,
      name: fc.oneof(adversarialString, anyValue),
      icon: anyValue,
      gender: fc.oneof(fc.integer({ min: -1, max: 3 }), anyValue),
      mobile: anyValue,
      birth: anyValue,
      email: anyValue,
      ex: anyValue,
      operationID: anyValue,
    }),
    "/auth/user_token": bodyOf({ platform: platformLike, uid: uidLike, operationID: anyValue }),
    "/auth/force_logout": bodyOf({ platform: platformLike, uid: uidLike }),
    "/user/get_users_online_status": bodyOf({
      userIDList: fc.oneof(
        fc.array(uidLike, { maxLength: 8 }),
        anyValue,
        fc.constant(Array.from({ length: 201 }, (_, i) => `u${i}`)),
      ),
      operationID: anyValue,
    }),
  } as const;
}

/** Bodies that are not what any route expects: arbitrary text, bytes and truncated JSON. */
export const brokenBodies = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.json().map((j) => j.slice(0, Math.max(1, j.length - 1))),
);
