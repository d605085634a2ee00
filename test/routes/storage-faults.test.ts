import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { postWithSettings, SECRET } from "../helpers";

/** A D1 binding whose every statement fails the way D1 does, with internals in the message. */
function failingD1(): D1Database {
  const fail = () =>
    Promise.reject(new Error("D1_ERROR: disk I/O error: INSERT INTO users (uid, name) VALUES (?1, ?2)"));
  const statement = { bind: () => statement, run: fail, first: fail, all: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail } as unknown as D1Database;
}

async function call(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const { status, body: answer } = await postWithSettings({ DB: failingD1() }, path, body);
  return { status, body: answer };
}

describe("when D1 fails", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers 500/500 with a generic message and logs the error with the operationID", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const [path, body] of [
      ["/auth/user_register", { secret: SECRET, platform: 1, uid: "d1-down", name: "x", operationID: "op-d1-1" }],
      ["/auth/user_token", { secret: SECRET, platform: 1, uid: "d1-down", operationID: "op-d1-2" }],
      ["/auth/force_logout", { secret: SECRET, platform: 1, uid: "d1-down", operationID: "op-d1-3" }],
    ] as const) {
      const answer = await call(path, body);
      expect(answer, path).toEqual({ status: 500, body: { errCode: 500, errMsg: "internal error" } });
      const logged = errors.mock.calls.map((args) => String(args[0])).find((line) => line.includes(body.operationID));
      expect(logged, `${path} logged with its operationID`).toBeDefined();
      expect(JSON.parse(logged!)).toMatchObject({ level: "error", operationID: body.operationID, route: path });
    }
  });

  it("leaves nothing half-written: the user does not exist once D1 is back", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await call("/auth/user_register", { secret: SECRET, platform: 1, uid: "d1-half", name: "x" });
    const row = await env.DB.prepare("SELECT uid FROM users WHERE uid = ?").bind("d1-half").first();
    expect(row).toBeNull();
  });
});
