import type { Context } from "hono";
import { ErrCode } from "../../protocol";
import type { AppEnv } from "../app-env";
import { envelope } from "../errors";

/** A success: `{errCode: 0, errMsg: "", ...extra}`. */
export function ok<Extra extends object>(c: Context<AppEnv>, extra?: Extra): Response {
  c.set("errCode", ErrCode.ok);
  return c.json(envelope(ErrCode.ok, "", extra), 200);
}
