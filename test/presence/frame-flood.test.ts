import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FRAME_BUDGET } from "../../src/presence/frame-budget";
import { connect, freshUid, register, type TestSocket, tokenFor } from "../helpers";
import { openSocketCount, sessionStub } from "./helpers";

const SUBSCRIBE_FRAME = JSON.stringify({ type: "subscribe", userIDs: ["someone"] });

/** The frame budget's warnings the worker wrote while `during` ran. */
async function budgetWarnings(during: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  vi.spyOn(console, "warn").mockImplementation((line: unknown) => void lines.push(String(line)));
  await during();
  return lines.filter((line) => line.includes('"frame_budget_exceeded"'));
}

/** Sends `ping` and waits for this ping's own `pong`. */
async function pingWithin(socket: TestSocket, ms: number): Promise<void> {
  const index = socket.messages.length;
  socket.send("ping");
  await socket.indexOf((message) => message === "pong", ms, index);
}

describe("per-socket frame budget", () => {
  afterEach(() => vi.restoreAllMocks());

  it("closes a flooding socket with 1008 and one log line, while the user's socket on another platform keeps answering ping within 1 s", async () => {
    const uid = freshUid("flood");
    await register(uid);
    const flooder = await connect(uid, await tokenFor(uid, 1), 1);
    const other = await connect(uid, await tokenFor(uid, 5), 5);
    await pingWithin(other, 1_000);

    const warnings = await budgetWarnings(async () => {
      for (let i = 0; i < 20_000; i++) flooder.send(`frame ${i}`);
      for (let i = 0; i < 5; i++) await pingWithin(other, 1_000);
      expect(await flooder.closedWithin(5_000)).toMatchObject({ code: 1008 });
      await pingWithin(other, 1_000);
    });

    expect(warnings).toHaveLength(1);
    const warning = JSON.parse(warnings[0]!) as Record<string, unknown>;
    expect(warning).toMatchObject({ level: "warn", event: "frame_budget_exceeded", uid, platform: 1 });
    expect(warnings[0]).not.toContain("frame ");
    expect(await openSocketCount(uid, 5)).toBe(1);
    other.close();
  });

  it("allows a burst of 20 frames (e.g. subscribe frames), keeps the count across hibernation, and closes on the 21st", async () => {
    const uid = freshUid();
    const socket = await connect(uid, (await register(uid)).token, 1);
    for (let i = 0; i < FRAME_BUDGET.frames - 1; i++) socket.send(SUBSCRIBE_FRAME);
    // A case variant of ping is the 20th frame: the object answers it itself.
    socket.send("PING");
    await socket.indexOf((message) => message === "pong");
    expect(await openSocketCount(uid, 1)).toBe(1);

    await evictDurableObject(sessionStub(uid), { webSockets: "hibernate" });
    // The exact ping never counts: the runtime answers it without waking the object.
    await pingWithin(socket, 2_000);
    socket.send(SUBSCRIBE_FRAME);
    expect(await socket.closedWithin(2_000)).toMatchObject({ code: 1008 });
  });
});
