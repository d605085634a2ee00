import { base64url } from "jose";

/**
 * Page cursors: opaque to callers, and checked when they come back. A cursor
 * is the last key of a page, versioned and base64url-encoded, so its format
 * can change without old cursors being misread.
 */
const PREFIX = "c1.";
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function encodeCursor(lastKey: string): string {
  return PREFIX + base64url.encode(utf8.encode(lastKey));
}

/** The last key a cursor names, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  if (!cursor.startsWith(PREFIX) || !/^[A-Za-z0-9_-]+$/.test(cursor.slice(PREFIX.length))) return undefined;
  try {
    const key = strictUtf8.decode(base64url.decode(cursor.slice(PREFIX.length)));
    // A cursor names a key it gave out: re-encoding must give it back exactly.
    return key.length > 0 && encodeCursor(key) === cursor ? key : undefined;
  } catch {
    return undefined;
  }
}
