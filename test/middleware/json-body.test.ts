import { describe, expect, it } from "vitest";
import { jsonNestingDepth } from "../../src/middleware/json-body";

describe("jsonNestingDepth", () => {
  it.each([
    ["1", 0],
    ["{}", 1],
    ['{"a":[1,{"b":[]}]}', 4],
    ['{"a":"[[[{{{"}', 1],
    ['{"a":"\\"[[["}', 1],
    ['["\\\\",[[]]]', 3],
  ])("measures %s as %d", (text, depth) => expect(jsonNestingDepth(text)).toBe(depth));
});
