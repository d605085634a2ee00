import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import type { WorkerEnv as Env } from "../src/config";
import worker from "../src/index";

export const SECRET = "tuoyun";
const ORIGIN = "http://im.test";

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: { errCode: number; errMsg: string; [field: string]: unknown };
}

/** POSTs a JSON body (objects are serialised, strings sent as-is) through the worker's real entry point. */
export async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const response = await SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/**
 * POSTs through the worker's own fetch handler with some settings changed, for
 * settings a project cannot vary per test (secrets and their strength rules).
 */
export async function postWithSettings(
  settings: Partial<Env>,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  return fetchWithSettings(settings, path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Any request through the worker's own fetch handler with some settings changed; answers the envelope. */
export async function fetchWithSettings(
  settings: Partial<Env>,
  path: string,
  init: RequestInit = {},
): Promise<ApiAnswer> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...settings }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: response.status, headers: response.headers, body: await response.json() };
}

let counter = 0;
/** A uid no other test uses. */
export function freshUid(prefix = "user"): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

export interface TokenData {
  uid: string;
  token: string;
  expiredTime: number;
}

export async function register(uid: string, fields: Record<string, unknown> = {}): Promise<TokenData> {
  const answer = await post("/auth/user_register", { secret: SECRET, platform: 1, uid, name: "tester", ...fields });
  expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ errCode: 0 });
  return answer.body.data as TokenData;
}

export async function tokenFor(uid: string, platform: number): Promise<string> {
  const answer = await post("/auth/user_token", { secret: SECRET, uid, platform });
  expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ errCode: 0 });
  return (answer.body.data as TokenData).token;
}

export type StatusEntry = {
  userID: string;
  status: "online" | "offline";
  detailPlatformStatus?: { platform: string; status: string; isBackground: boolean }[];
  lastSeen?: number;
  customStatus?: { text: string; expiresAt?: number };
  invisible?: true;
};

export async function onlineStatus(userIDList: string[]): Promise<StatusEntry[]> {
  const answer = await post("/user/get_users_online_status", { secret: SECRET, userIDList });
  expect(answer.status).toBe(200);
  return answer.body.successResult as StatusEntry[];
}

/** The platform names a user is online on, per the status route. */
export async function onlinePlatforms(uid: string): Promise<string[]> {
  const [entry] = await onlineStatus([uid]);
  return entry?.detailPlatformStatus?.map((p) => p.platform) ?? [];
}

/** Polls the status route until it matches, failing after `withinMs`. */
export async function expectPlatformsWithin(uid: string, expected: string[], withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  let seen = await onlinePlatforms(uid);
  while (JSON.stringify(seen) !== JSON.stringify(expected) && Date.now() < deadline) {
    await sleep(25);
    seen = await onlinePlatforms(uid);
  }
  expect(seen).toEqual(expected);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** A client session over a real WebSocket, with what it received. */
export class TestSocket {
  readonly messages: string[] = [];
  readonly closed: Promise<CloseInfo>;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
    });
    ws.addEventListener("message", (event) => {
      this.messages.push(typeof event.data === "string" ? event.data : "<binary>");
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.accept();
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** Waits for the n-th message (0-based) to arrive. */
  async message(index: number, withinMs = 2_000): Promise<string> {
    const deadline = Date.now() + withinMs;
    while (this.messages.length <= index) {
      if (Date.now() > deadline) throw new Error(`no message #${index} within ${withinMs} ms`);
      await Promise.race([new Promise<void>((wake) => this.waiters.push(wake)), sleep(50)]);
    }
    return this.messages[index]!;
  }

  /** Waits for the first message from index `from` on that satisfies `match`; returns its index. */
  async indexOf(match: (message: string) => boolean, withinMs = 2_000, from = 0): Promise<number> {
    const deadline = Date.now() + withinMs;
    for (let index = from; ; index++) {
      const message = await this.message(index, Math.max(0, deadline - Date.now()));
      if (match(message)) return index;
    }
  }

  async closedWithin(ms: number): Promise<CloseInfo> {
    return Promise.race([
      this.closed,
      sleep(ms).then(() => {
        throw new Error(`socket not closed within ${ms} ms`);
      }),
    ]);
  }

  close(code = 1000): void {
    try {
      this.ws.close(code, "bye");
    } catch {
      // already closed
    }
  }
}

export function connectUrl(params: Record<string, string | number>, path = "/ws"): string {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  return `${ORIGIN}${path}?${query}`;
}

/** Opens a session; fails the test if the worker refuses it. */
export async function connect(uid: string, token: string, platform: number, path = "/ws"): Promise<TestSocket> {
  const response = await SELF.fetch(connectUrl({ sendID: uid, token, platformID: platform }, path), {
    headers: { Upgrade: "websocket" },
  });
  if (response.status !== 101 || !response.webSocket) {
    throw new Error(`connect refused: ${response.status} ${await response.text()}`);
  }
  return new TestSocket(response.webSocket);
}

/** Tries to open a session and returns the refusal (status and envelope). */
export async function refusedConnect(params: Record<string, string | number>, path = "/ws"): Promise<ApiAnswer> {
  const response = await SELF.fetch(connectUrl(params, path), { headers: { Upgrade: "websocket" } });
  expect(response.status, "expected the upgrade to be refused").not.toBe(101);
  return { status: response.status, headers: response.headers, body: await response.json() };
}
