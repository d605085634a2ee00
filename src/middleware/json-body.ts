import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ErrCode } from "../../protocol";
import type { AppEnv } from "../app-env";
import { readSettings } from "../config";
import { ApiError } from "../errors";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** No request of ours nests deeper than 2; anything past this is an attack or a mistake. */
export const MAX_JSON_DEPTH = 16;

/** The deepest array/object nesting in JSON text, counting brackets outside strings. */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) depth--;
  }
  return deepest;
}

/** 413 past MAX_BODY_BYTES, decided before anything is parsed (Content-Length or streamed count). */
export const limitBody = createMiddleware<AppEnv>((c, next) =>
  bodyLimit({
    maxSize: readSettings(c.env).maxBodyBytes,
    onError: () => {
      throw new ApiError(
        413,
        ErrCode.tooLarge,
        `request body too large: at most ${readSettings(c.env).maxBodyBytes} bytes`,
      );
    },
  })(c, next),
);

/**
 * The body must be UTF-8 JSON whose top level is an object. Anything else is
 * a 400 before the secret is looked at (docs/api.md#errors).
 */
export const jsonObjectBody = createMiddleware<AppEnv>(async (c, next) => {
  const contentType = c.req.header("Content-Type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    throw new ApiError(415, ErrCode.badRequest, "Content-Type must be application/json");
  }
  let text: string;
  try {
    text = strictUtf8.decode(await c.req.arrayBuffer());
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw ApiError.badRequest("body is not valid UTF-8");
  }
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH) {
    throw ApiError.badRequest(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw ApiError.badRequest("body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw ApiError.badRequest("body must be a JSON object");
  }
  const body = parsed as Record<string, unknown>;
  c.set("body", body);
  if (typeof body.operationID === "string") c.set("operationID", body.operationID);
  await next();
});
