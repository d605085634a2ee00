import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_CUSTOM_STATUS_CHARS, MAX_CUSTOM_STATUS_SECONDS } from "../../protocol";
import { type CustomStatusInput, checkedCustomStatus, wireCustomStatus } from "../../sdk/custom-status";
import { customStatus as serverSchema } from "../../src/schemas";
import { adversarialString } from "../arbitraries";

// The client SDK checks a custom status before it sends it: by the server's rules, so that what it lets
// through the server takes, and what it stops the server would have refused. Date.now() is pinned, for the
// server's schema reads it; the SDK is given the same moment. On a whole second, an expiry of "now" is
// exactly on the edge of "in the future".
const NOW_MS = 1_764_300_000_250;
const NOW_S = Math.floor(NOW_MS / 1000);
const MOMENTS = [NOW_MS, NOW_S * 1000];

afterEach(() => vi.restoreAllMocks());

function sdkAccepts(status: unknown, nowMs = NOW_MS): boolean {
  try {
    checkedCustomStatus(status as CustomStatusInput, nowMs);
    return true;
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    return false;
  }
}

function serverAccepts(status: unknown, nowMs = NOW_MS): boolean {
  vi.spyOn(Date, "now").mockReturnValue(nowMs);
  // null clears the status, in a set frame and in set_custom_status alike.
  return serverSchema.nullable().safeParse(status).success;
}

const texts = [
  "In a meeting",
  "x",
  "张三",
  "😀".repeat(MAX_CUSTOM_STATUS_CHARS),
  "😀".repeat(MAX_CUSTOM_STATUS_CHARS + 1),
  "a".repeat(MAX_CUSTOM_STATUS_CHARS + 1),
  "",
  "\ud800",
  "lone \udc00 low",
  "paired \ud83d\ude00 ok",
  "tab\there",
  "new\nline",
  "nul\u0000",
  "del\u007f",
  "c1\u0085",
  "\u200Bzero width (Cf, allowed)",
  "\u202Eright to left (Cf, allowed)",
  " ",
];

const expiries = (nowS: number) => [
  nowS + 1,
  nowS,
  nowS - 1,
  nowS + MAX_CUSTOM_STATUS_SECONDS,
  nowS + MAX_CUSTOM_STATUS_SECONDS + 1,
  nowS + 0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  -1,
  0,
];

describe("the client SDK's check of a custom status", () => {
  it("lets through exactly what the server's schema takes: texts and expiries at and around each rule", () => {
    for (const nowMs of MOMENTS) {
      const cases: unknown[] = [
        ...texts.map((text) => ({ text })),
        ...expiries(Math.floor(nowMs / 1000)).map((expiresAt) => ({ text: "ok", expiresAt })),
        { text: 5 },
        { text: "ok", expiresAt: "1764300100" },
        { text: "ok", expiresAt: null },
        { expiresAt: NOW_S + 60 },
        "In a meeting",
        7,
        null,
      ];
      for (const status of cases) {
        expect(sdkAccepts(status, nowMs), `${JSON.stringify(status)} at ${nowMs}`).toBe(serverAccepts(status, nowMs));
      }
      // Both sides of every rule were met.
      expect(cases.filter((status) => sdkAccepts(status, nowMs)).length).toBeGreaterThan(8);
      expect(cases.filter((status) => !sdkAccepts(status, nowMs)).length).toBeGreaterThan(15);
    }
  });

  it("agrees with the server's schema on arbitrary texts and expiries", () => {
    fc.assert(
      fc.property(
        fc.oneof(adversarialString, fc.string({ unit: "binary", maxLength: 140 })),
        fc.option(
          fc.oneof(
            fc.integer({ min: NOW_S - 10, max: NOW_S + MAX_CUSTOM_STATUS_SECONDS + 10 }),
            fc.double({ min: NOW_S - 10, max: NOW_S + 100 }),
          ),
          { nil: undefined },
        ),
        (text, expiresAt) => {
          const status = expiresAt === undefined ? { text } : { text, expiresAt };
          expect(sdkAccepts(status)).toBe(serverAccepts(status));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("names the rule broken: a TypeError for a field of the wrong type, a RangeError for a value the server refuses", () => {
    const check = (status: unknown) => () => checkedCustomStatus(status as CustomStatusInput, NOW_MS);
    expect(check("busy")).toThrow(TypeError);
    expect(check({ text: 5 })).toThrow(new TypeError("customStatus.text: must be a string"));
    expect(check({ text: "" })).toThrow(new RangeError("customStatus.text: must not be empty"));
    expect(check({ text: "a".repeat(129) })).toThrow(/^customStatus\.text: at most 128 characters \(code points\)/);
    expect(check({ text: "a".repeat(129) })).toThrow(RangeError);
    expect(check({ text: "x\ud800" })).toThrow(/well-formed/);
    expect(check({ text: "x\u0007" })).toThrow(/control characters/);
    expect(check({ text: "ok", expiresAt: "soon" })).toThrow(TypeError);
    expect(check({ text: "ok", expiresAt: NOW_S + 1.5 })).toThrow(/must be an integer \(Unix seconds\)/);
    expect(check({ text: "ok", expiresAt: NOW_S })).toThrow(/must be in the future/);
    expect(check({ text: "ok", expiresAt: NOW_S + MAX_CUSTOM_STATUS_SECONDS + 1 })).toThrow(/at most 30 days ahead/);
    expect(check({ text: "ok", expiresAt: new Date(Number.NaN) })).toThrow(
      new RangeError("customStatus.expiresAt: an invalid Date"),
    );
  });

  it("takes a Date for expiresAt, rounded up to the next second; sends text and expiresAt only", () => {
    expect(checkedCustomStatus({ text: "a", expiresAt: new Date(NOW_MS + 1) }, NOW_MS)).toEqual({
      text: "a",
      expiresAt: NOW_S + 1,
    });
    expect(wireCustomStatus({ text: "a", expiresAt: new Date((NOW_S + 60) * 1000) })).toEqual({
      text: "a",
      expiresAt: NOW_S + 60,
    });
    expect(wireCustomStatus({ text: "a", expiresAt: new Date((NOW_S + 60) * 1000 + 1) })).toEqual({
      text: "a",
      expiresAt: NOW_S + 61,
    });
    const extra = { text: "a", emoji: "🌴", expiresAt: undefined } as CustomStatusInput;
    expect(checkedCustomStatus(extra, NOW_MS)).toEqual({ text: "a" });
    expect(checkedCustomStatus(null, NOW_MS)).toBeNull();
  });
});
