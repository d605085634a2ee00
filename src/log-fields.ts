import { LIMITS } from "./schemas";

/**
 * Client-supplied strings cut to their documented limit before they are
 * logged: a request refused at the secret or the schema has not been checked
 * against any limit, and must not write a log line of its own size.
 */
export function clipForLog(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text; // UTF-16 length bounds the code point count
  let seen = 0;
  let keptEnd = 0;
  for (const char of text) {
    seen++;
    if (seen > maxChars) return `${text.slice(0, keptEnd)}…`;
    if (seen < maxChars) keptEnd += char.length;
  }
  return text;
}

export function operationIdForLog(operationID: string | undefined): string | undefined {
  return operationID === undefined ? undefined : clipForLog(operationID, LIMITS.operationIdChars);
}
