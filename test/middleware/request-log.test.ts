import { afterEach, describe, expect, it, vi } from "vitest";
import { connect, freshUid, post, refusedConnect, register, SECRET, tokenFor } from "../helpers";

describe("request log", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per request with route, status, errCode, duration and operationID, and never a token or secret", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));

    const uid = freshUid();
    const { token } = await register(uid, { operationID: "op-log-1" });
    const second = await tokenFor(uid, 1);
    const socket = await connect(uid, second, 1);
    socket.close();
    await refusedConnect({ sendID: uid, token: `${token}x`, platformID: 1, operationID: "op-log-2" });
    await post("/user/get_users_online_status", { secret: "wrong-secret", userIDList: [] });

    const records = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThanOrEqual(5);
    expect(records[0]).toMatchObject({ route: "/auth/user_register", status: 200, errCode: 0, operationID: "op-log-1" });
    expect(records[0]!.durationMs).toEqual(expect.any(Number));
    expect(records).toContainEqual(expect.objectContaining({ route: "/ws", status: 101, errCode: 0 }));
    expect(records).toContainEqual(expect.objectContaining({ route: "/ws", status: 401, errCode: 705, operationID: "op-log-2" }));
    expect(records).toContainEqual(expect.objectContaining({ status: 401, errCode: 401 }));

    const everything = lines.join("\n");
    for (const secretValue of [token, second, SECRET, "wrong-secret", token.split(".")[2]!]) {
      expect(everything).not.toContain(secretValue);
    }
  });
});
