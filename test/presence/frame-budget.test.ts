import { describe, expect, it } from "vitest";
import { countFrame, FRAME_BUDGET } from "../../src/presence/frame-budget";
import type { FrameWindow } from "../../src/presence/sockets";

function spend(frames: number, from: FrameWindow | undefined, nowMs: number): ReturnType<typeof countFrame> {
  let result = countFrame(from, nowMs);
  for (let i = 1; i < frames; i++) result = countFrame(result.frames, nowMs);
  return result;
}

describe("countFrame", () => {
  it("allows 20 frames in a window of 10 s and refuses the 21st", () => {
    expect(FRAME_BUDGET).toEqual({ frames: 20, windowMs: 10_000 });
    const twenty = spend(20, undefined, 1_000);
    expect(twenty).toEqual({ frames: { startMs: 1_000, count: 20 }, withinBudget: true });
    expect(countFrame(twenty.frames, 1_000 + 9_999).withinBudget).toBe(false);
  });

  it("starts a new window with the first frame after the last one ended", () => {
    const twenty = spend(20, undefined, 1_000);
    expect(countFrame(twenty.frames, 11_000)).toEqual({ frames: { startMs: 11_000, count: 1 }, withinBudget: true });
  });
});
