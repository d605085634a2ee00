import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signWebhook, verifyWebhook } from "../../protocol";
import { anyValue } from "../arbitraries";

// The SDK's webhook check (docs/webhooks.md#signature), called as a receiver's code would call it.
const SECRET = "verify-webhook-secret-0123456789abcdef";
const BODY = JSON.stringify({ events: [] });
const NOW = 1_764_300_000;
const TEN_YEARS = 10 * 365 * 86_400;

/** The hex MAC of a header, and a header of `t` and the given v1 values. */
const macOf = (header: string) => header.slice(header.indexOf("v1=") + 3);
const headerWith = (t: number, macs: string[]) => [`t=${t}`, ...macs.map((mac) => `v1=${mac}`)].join(",");
const otherMac = (n: number) => n.toString(16).padStart(64, "0");

afterEach(() => {
  vi.restoreAllMocks();
});

describe("verifyWebhook", () => {
  it("accepts a fresh signature, and one among up to 8 v1 values (a secret rotation)", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    expect(await verifyWebhook(BODY, header, SECRET, { nowSeconds: NOW })).toEqual({ ok: true, timestampSeconds: NOW });
    const eight = headerWith(NOW, [...Array.from({ length: 7 }, (_, i) => otherMac(i)), macOf(header)]);
    expect(await verifyWebhook(BODY, eight, SECRET, { nowSeconds: NOW })).toEqual({ ok: true, timestampSeconds: NOW });
  });

  it("refuses a tolerance that is not a finite, non-negative number, even for a 10-year-old signature", async () => {
    const header = await signWebhook(BODY, SECRET, NOW - TEN_YEARS);
    for (const toleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, "300"]) {
      const options = { nowSeconds: NOW, toleranceSeconds } as { nowSeconds: number; toleranceSeconds: number };
      expect(await verifyWebhook(BODY, header, SECRET, options), String(toleranceSeconds)).toEqual({
        ok: false,
        reason: "misconfigured",
      });
    }
    expect(await verifyWebhook(BODY, header, SECRET, { nowSeconds: NOW })).toEqual({ ok: false, reason: "stale" });
  });

  it("refuses a nowSeconds that is not finite, and options that are not an object", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    for (const nowSeconds of [Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(await verifyWebhook(BODY, header, SECRET, { nowSeconds })).toEqual({ ok: false, reason: "misconfigured" });
    }
    const notOptions = null as unknown as object;
    expect(await verifyWebhook(BODY, header, SECRET, notOptions)).toEqual({ ok: false, reason: "misconfigured" });
    const throwing = {
      get nowSeconds(): number {
        throw new Error("a getter that throws");
      },
    };
    expect(await verifyWebhook(BODY, header, SECRET, throwing)).toEqual({ ok: false, reason: "misconfigured" });
  });

  it("answers misconfigured when the platform's Web Crypto fails, instead of throwing", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    vi.spyOn(crypto.subtle, "sign").mockRejectedValue(new DOMException("no HMAC here", "NotSupportedError"));
    expect(await verifyWebhook(BODY, header, SECRET, { nowSeconds: NOW })).toEqual({
      ok: false,
      reason: "misconfigured",
    });
  });

  it("refuses an empty or missing secret instead of throwing", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    for (const secret of ["", undefined, 42]) {
      expect(await verifyWebhook(BODY, header, secret as string, { nowSeconds: NOW }), String(secret)).toEqual({
        ok: false,
        reason: "misconfigured",
      });
    }
  });

  it("refuses a body that is not a string (parsed JSON, a Buffer)", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    for (const body of [JSON.parse(BODY), new TextEncoder().encode(BODY), undefined]) {
      expect(await verifyWebhook(body as string, header, SECRET, { nowSeconds: NOW })).toEqual({
        ok: false,
        reason: "misconfigured",
      });
    }
  });

  it("refuses a header that is not a string, an array included, instead of throwing", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    // Node's request.headers[…] is typed string | string[]; the type admits it so such code compiles.
    expect(await verifyWebhook(BODY, [header], SECRET, { nowSeconds: NOW })).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(await verifyWebhook(BODY, [header, header], SECRET, { nowSeconds: NOW })).toEqual({
      ok: false,
      reason: "malformed",
    });
    for (const notText of [42, { t: NOW }, true]) {
      expect(await verifyWebhook(BODY, notText as unknown as string, SECRET, { nowSeconds: NOW })).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
    for (const missing of [null, undefined, ""]) {
      expect(await verifyWebhook(BODY, missing, SECRET, { nowSeconds: NOW })).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
  });

  it("refuses a header with more than 8 v1 values, even when one of them matches", async () => {
    const good = macOf(await signWebhook(BODY, SECRET, NOW));
    const nine = headerWith(NOW, [good, ...Array.from({ length: 8 }, (_, i) => otherMac(i))]);
    expect(await verifyWebhook(BODY, nine, SECRET, { nowSeconds: NOW })).toEqual({ ok: false, reason: "malformed" });
    const many = headerWith(NOW, Array(200).fill(good));
    expect(await verifyWebhook(BODY, many, SECRET, { nowSeconds: NOW })).toEqual({ ok: false, reason: "malformed" });
  });

  it("tells a wrong MAC from a broken header: no match among hex values of any length is a mismatch", async () => {
    const good = macOf(await signWebhook(BODY, SECRET, NOW));
    for (const macs of [[otherMac(1)], [good.slice(0, 62)], [`${good}00`], ["zz"], [good.toUpperCase().slice(2)]]) {
      expect(await verifyWebhook(BODY, headerWith(NOW, macs), SECRET, { nowSeconds: NOW }), macs[0]).toEqual({
        ok: false,
        reason: "mismatch",
      });
    }
    // Hex is hex in either case.
    const upper = headerWith(NOW, [good.toUpperCase()]);
    expect(await verifyWebhook(BODY, upper, SECRET, { nowSeconds: NOW })).toMatchObject({ ok: true });
  });

  it("computes one HMAC per call, however many v1 values the header carries, and none for a refused header", async () => {
    const sign = vi.spyOn(crypto.subtle, "sign");
    const verify = vi.spyOn(crypto.subtle, "verify");
    const good = macOf(await signWebhook(BODY, SECRET, NOW));
    sign.mockClear();
    const others = (n: number) => Array.from({ length: n }, (_, i) => otherMac(i));
    for (const macs of [[good], others(1), others(8), [...others(7), good], [good, ...others(7)]]) {
      await verifyWebhook(BODY, headerWith(NOW, macs), SECRET, { nowSeconds: NOW });
      expect(sign, `${macs.length} values`).toHaveBeenCalledTimes(1);
      expect(verify).not.toHaveBeenCalled();
      sign.mockClear();
    }
    // Refusals decided by the header or the call itself cost no HMAC at all.
    await verifyWebhook(BODY, headerWith(NOW, others(9)), SECRET, { nowSeconds: NOW });
    await verifyWebhook(BODY, headerWith(NOW - 600, [good]), SECRET, { nowSeconds: NOW });
    await verifyWebhook(BODY, headerWith(NOW, [good]), "", { nowSeconds: NOW });
    await verifyWebhook(BODY, [headerWith(NOW, [good])], SECRET, { nowSeconds: NOW });
    expect(sign).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it("never throws, whatever it is given", async () => {
    const header = await signWebhook(BODY, SECRET, NOW);
    const anything = fc.oneof(anyValue, fc.constant(header), fc.constant([header]));
    await fc.assert(
      fc.asyncProperty(anything, anything, anything, anything, async (body, given, secret, options) => {
        const answer = await verifyWebhook(body as string, given as string, secret as string, options as object);
        expect(answer.ok === true || typeof answer.reason === "string").toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
