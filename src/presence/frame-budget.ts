import type { PlatformId } from "../../protocol";
import { CloseCode, FRAME_BUDGET } from "../../protocol";
import { clipForLog } from "../log-fields";
import { LIMITS } from "../schemas";
import { closeQuietly, type FrameWindow } from "./sockets";

/**
 * A per-socket budget for the frames that wake the user's object: every
 * frame but the exact "ping", which the runtime answers by itself. One
 * flooding socket must not stall the user's other sessions, which share the
 * object. The figures are in protocol/, for the client SDK too.
 */
export { FRAME_BUDGET };

/** Counts one frame in the window it falls in; a window starts with the first frame after the last one ended. */
export function countFrame(
  spent: FrameWindow | undefined,
  nowMs: number,
): { frames: FrameWindow; withinBudget: boolean } {
  const current = spent && nowMs - spent.startMs < FRAME_BUDGET.windowMs ? spent : { startMs: nowMs, count: 0 };
  const frames = { startMs: current.startMs, count: current.count + 1 };
  return { frames, withinBudget: frames.count <= FRAME_BUDGET.frames };
}

/** Closes a socket that spent its budget with 1008, logging one line with the session's ids (truncated). */
export function closeFloodingSocket(
  ws: WebSocket,
  session: { uid: string | undefined; platform: PlatformId; jti: string },
): void {
  console.warn(
    JSON.stringify({
      level: "warn",
      event: "frame_budget_exceeded",
      uid: session.uid === undefined ? undefined : clipForLog(session.uid, LIMITS.uidChars),
      platform: session.platform,
      jti: session.jti.slice(0, 8),
      budget: `${FRAME_BUDGET.frames} frames per ${FRAME_BUDGET.windowMs / 1000} s`,
    }),
  );
  closeQuietly(ws, CloseCode.tooManyFrames, "too many frames");
}
