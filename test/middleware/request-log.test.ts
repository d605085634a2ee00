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
    expect(records[0]).toMatchObject({
      route: "/auth/user_register",
      status: 200,
      errCode: 0,
      operationID: "op-log-1",
    });
    expect(records[0]!.durationMs).toEqual(expect.any(Number));
    expect(records).toContainEqual(expect.objectContaining({ route: "/ws", status: 101, errCode: 0 }));
    expect(records).toContainEqual(
      expect.objectContaining({ route: "/ws", status: 401, errCode: 705, operationID: "op-log-2" }),
    );
    expect(records).toContainEqual(expect.objectContaining({ status: 401, errCode: 401 }));

    const everything = lines.join("\n");
    for (const secretValue of [token, second, SECRET, "wrong-secret", token.split(".")[2]!]) {
      expect(everything).not.toContain(secretValue);
    }
  });

  it("cuts a client's operationID to its 64-character limit before logging, even on requests refused before validation", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));

    const huge = "運".repeat(20_000); // 60 KB of UTF-8
    await post("/user/get_users_online_status", { secret: "wrong-secret", userIDList: [], operationID: huge });
    await refusedConnect({ sendID: "u", token: "t", platformID: 1, operationID: "o".repeat(4_000) });

    const records = lines.map((line) => ({
      line,
      record: JSON.parse(line) as { operationID?: string; route: string },
    }));
    const atSecret = records.find((r) => r.record.route === "/user/get_users_online_status");
    const atHandshake = records.find((r) => r.record.route === "/ws");
    for (const logged of [atSecret, atHandshake]) {
      expect(logged).toBeDefined();
      expect(logged!.line.length).toBeLessThan(600);
      expect([...logged!.record.operationID!]).toHaveLength(64);
    }
    expect(atSecret!.record.operationID).toBe(`${"運".repeat(63)}…`);
    expect(atHandshake!.record.operationID).toBe(`${"o".repeat(63)}…`);
  });

  it("logs an operationID within the limit unchanged", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    const exact = "😀".repeat(64);
    await post("/user/get_users_online_status", { secret: SECRET, userIDList: [], operationID: exact });
    expect(lines.map((line) => JSON.parse(line) as { operationID?: string })).toContainEqual(
      expect.objectContaining({ operationID: exact }),
    );
  });
});
