import { describe, expect, it } from "vitest";
import { closeCodeToEcho } from "../../src/presence/sockets";

describe("closeCodeToEcho", () => {
  it.each([1005, 1006, 1015])("never echoes the reserved code %i: answers 1000", (code) => {
    expect(closeCodeToEcho(code)).toBe(1000);
  });

  it.each([1000, 1001, 4000, 4999])("echoes a code the peer may send (%i)", (code) => {
    expect(closeCodeToEcho(code)).toBe(code);
  });
});
