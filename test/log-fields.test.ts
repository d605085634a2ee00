import { describe, expect, it } from "vitest";
import { clipForLog } from "../src/log-fields";

describe("clipForLog", () => {
  it("keeps text within the limit, counted in code points", () => {
    expect(clipForLog("abc", 3)).toBe("abc");
    expect(clipForLog("😀😀😀", 3)).toBe("😀😀😀");
  });

  it("cuts longer text to the limit, marking the cut, without splitting a surrogate pair", () => {
    expect(clipForLog("abcd", 3)).toBe("ab…");
    const clipped = clipForLog("😀".repeat(65), 64);
    expect(clipped).toBe(`${"😀".repeat(63)}…`);
    expect(clipped.isWellFormed()).toBe(true);
  });
});
