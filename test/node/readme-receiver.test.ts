/// <reference types="node" />
/**
 * The README's webhook receiver, run exactly as written: the ```js block after
 * `<!-- receiver -->`, in a fresh project with the packed SDK installed, under
 * Node. It must take a signed body, skip a repeated one, refuse a tampered or
 * stale one, and survive whatever else arrives.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type PresenceEvent, signWebhook } from "../../protocol";
import { freePort } from "./free-port";
import { sleep } from "./helpers";
import { type InstalledSdk, installPackedSdk } from "./sdk/packed-sdk";

const README = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "README.md"), "utf8");
const SECRET = "readme-receiver-secret-0123456789abcdef";

let sdk: InstalledSdk;
let receiver: ChildProcess;
let url: string;
let output = "";

beforeAll(async () => {
  const code = /<!-- receiver -->\s*\n```js\n([\s\S]*?)\n```/.exec(README)?.[1];
  expect(code, "README.md has no <!-- receiver --> js block").toBeTruthy();
  sdk = installPackedSdk();
  writeFileSync(join(sdk.project, "receiver.mjs"), code!);
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  receiver = spawn(process.execPath, ["receiver.mjs"], {
    cwd: sdk.project,
    env: { ...process.env, PORT: String(port), PRESENCE_WEBHOOK_SECRET: SECRET },
  });
  receiver.stdout?.on("data", (chunk) => (output += String(chunk)));
  receiver.stderr?.on("data", (chunk) => (output += String(chunk)));
  for (
    let i = 0;
    i < 100 &&
    !(await fetch(url).then(
      () => true,
      () => false,
    ));
    i++
  )
    await sleep(100);
}, 180_000);

afterAll(() => {
  receiver?.kill();
  sdk?.cleanup();
});

const event = (seq: number, type: "online" | "offline" = "online"): PresenceEvent => ({
  id: `e${seq}`,
  type,
  userID: "ada",
  platformID: 5,
  platform: "Web",
  reason: type === "online" ? "connect" : "close",
  platforms: type === "online" ? ["Web"] : [],
  seq,
  time: 1_764_300_000_000 + seq,
});

async function deliver(body: string, signature: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: "POST", headers: { "X-IM-Signature": signature }, body });
  return { status: response.status, text: await response.text() };
}

const now = () => Math.floor(Date.now() / 1000);

it("applies a signed body, skips an event it already has, and refuses tampered or stale bodies", async () => {
  const first = JSON.stringify({ events: [event(1)] });
  expect(await deliver(first, await signWebhook(first, SECRET, now()))).toEqual({ status: 204, text: "" });
  // A retry of the same body: acknowledged, not applied twice.
  expect((await deliver(first, await signWebhook(first, SECRET, now()))).status).toBe(204);
  const state: PresenceEvent = {
    id: "e2",
    type: "state",
    userID: "ada",
    platforms: ["Web"],
    background: ["Web"],
    invisible: false,
    customStatus: null,
    seq: 2,
    time: 1_764_300_000_002,
  };
  const withState = JSON.stringify({ events: [state] });
  expect((await deliver(withState, await signWebhook(withState, SECRET, now()))).status).toBe(204);
  const second = JSON.stringify({ events: [event(3, "offline")] });
  expect((await deliver(second, await signWebhook(second, SECRET, now()))).status).toBe(204);

  expect(await deliver(second.replace("ada", "eve"), await signWebhook(second, SECRET, now()))).toEqual({
    status: 401,
    text: "mismatch",
  });
  expect(await deliver(second, await signWebhook(second, SECRET, now() - 600))).toEqual({ status: 401, text: "stale" });
  expect(await deliver(second, "nonsense")).toEqual({ status: 401, text: "malformed" });

  await sleep(100);
  expect(output.trim().split("\n")).toEqual([
    "ada online (connect): now on [Web]",
    "ada state: now on [Web]",
    "ada offline (close): now on []",
  ]);
});

/** A POST with the signature header sent once per value (several header lines, as a proxy might repeat it). */
function deliverWithHeaderLines(body: string, signatures: string[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: "POST", headers: { "X-IM-Signature": signatures } }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += String(chunk)));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

it("answers 400 to a signed body that is not a presence event body, and keeps serving", async () => {
  for (const body of ["{not json", "null", "{}", '{"events":"ada"}']) {
    expect((await deliver(body, await signWebhook(body, SECRET, now()))).status, body).toBe(400);
  }
  const third = JSON.stringify({ events: [event(4)] });
  expect((await deliver(third, await signWebhook(third, SECRET, now()))).status).toBe(204);
});

it("refuses a repeated signature header as malformed, and survives a sender that hangs up mid-body", async () => {
  const body = JSON.stringify({ events: [event(5, "offline")] });
  const signature = await signWebhook(body, SECRET, now());
  expect(await deliverWithHeaderLines(body, [signature, signature])).toEqual({ status: 401, text: "malformed" });

  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), "127.0.0.1", () => {
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nX-IM-Signature: ${signature}\r\n\r\n{"ev`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
    socket.on("error", reject);
  });
  await sleep(200);
  expect(await deliver(body, signature)).toEqual({ status: 204, text: "" });
  // Every body it accepted was applied once, in order, and nothing it refused crashed or logged an error.
  expect(output.trim().split("\n")).toEqual([
    "ada online (connect): now on [Web]",
    "ada state: now on [Web]",
    "ada offline (close): now on []",
    "ada online (connect): now on [Web]",
    "ada offline (close): now on []",
  ]);
});
