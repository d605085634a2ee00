import type { ClientFrame } from "../../protocol";
import { clientFrame, describeIssues } from "../schemas";

/** A client's text frame (not the exact `ping`), parsed and checked: the frame, or why it is refused (400). */
export function parseClientFrame(text: string): { frame: ClientFrame } | { refusal: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { refusal: "expected the text frame ping, or a JSON subscribe, unsubscribe or set frame" };
  }
  const frame = clientFrame.safeParse(parsed);
  return frame.success ? { frame: frame.data } : { refusal: describeIssues(frame.error) };
}
