/// <reference types="node" />
// `IM_SECRET=… npm run smoke -- https://<worker-url> [--timeout <ms>]`
// A check of a live deployment (`wrangler dev` included), to run after every deploy
// (docs/deploying.md). Before the secret is sent anywhere it checks that the URL is this worker
// (/healthz); then it registers a throwaway user, gets it a Web token, connects and pings, sees it
// online, logs it out (the socket must close with 4002), sees it offline and deletes it. One line
// per step with its latency; the first failure names its step and why. Exit status: 0 all passed,
// 1 a step failed, 2 a usage error.
//
// The protocol files imported here have no imports of their own, so Node loads them as they are.

import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { parseArgs } from "node:util";
import { PLATFORM_NAMES, Platform } from "../protocol/platforms.ts";
import { Route } from "../protocol/routes.ts";
import { CloseCode, PING, PONG } from "../protocol/socket.ts";

const USAGE = `usage: IM_SECRET=<the AppServer secret> npm run smoke -- <http(s)://worker-url> [--timeout <ms>]

Checks a live deployment of imserver-edge, wrangler dev included: /healthz, then a throwaway
user (smoke-…) is registered, gets a token, connects a WebSocket and pings, reads online, is
logged out (close 4002), reads offline and is deleted. --timeout bounds each step (default
10000 ms). Exit status: 0 every step passed, 1 a step failed, 2 a usage error.`;

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long the status steps poll for the expected state, on top of the step's timeout. */
const POLL_WINDOW_MS = 5_000;
const POLL_INTERVAL_MS = 200;
const PLATFORM = Platform.Web;
const PLATFORM_NAME = PLATFORM_NAMES[PLATFORM];
/**
 * Not in protocol/routes.ts until the worker has it. Until then the worker answers 404 with
 * errCode 404, and the step is reported as skipped.
 */
const DELETE_USER_PATH = "/manager/delete_user";

function usageError(problem: string): never {
  console.error(`smoke: ${problem}\n\n${USAGE}`);
  process.exit(2);
}

function readArguments(): { base: URL; secret: string; timeoutMs: number } {
  let parsed: ReturnType<typeof parseSmokeArgs>;
  try {
    parsed = parseSmokeArgs();
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const secret = process.env.IM_SECRET;
  if (!secret) usageError("IM_SECRET is not set: put the deployment's AppServer secret in it");
  if (positionals.length === 0) usageError("the worker's URL is missing");
  if (positionals.length > 1) usageError(`one URL only, got ${positionals.length} arguments`);
  let base: URL;
  try {
    base = new URL(positionals[0]!);
  } catch {
    usageError(`not a URL: ${positionals[0]}`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    usageError(`the URL must be http:// or https://, not ${base.protocol}//`);
  }
  const timeoutMs = values.timeout === undefined ? DEFAULT_TIMEOUT_MS : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    usageError(`--timeout must be a whole number of ms, not ${values.timeout}`);
  return { base: new URL(base.origin), secret, timeoutMs };
}

function parseSmokeArgs() {
  return parseArgs({
    options: { timeout: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
}

const { base, secret, timeoutMs } = readArguments();
const uid = `smoke-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;

/** A step's failure, with the words to print. */
class StepError extends Error {}

interface Envelope {
  errCode: number;
  errMsg: string;
  [field: string]: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

/** Why a request never got an answer: fetch's own message is "fetch failed", the system error is its cause. */
function networkReason(error: unknown): string {
  let cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof AggregateError && cause.errors.length > 0) cause = cause.errors[0];
  if (cause instanceof Error) return cause.message || (cause as { code?: string }).code || cause.name;
  return String(cause);
}

function describeAnswer(status: number, envelope: Envelope, headers?: Headers): string {
  const retryAfter = headers?.get("Retry-After");
  const answer = `HTTP ${status}, errCode ${envelope.errCode}, errMsg ${JSON.stringify(envelope.errMsg)}`;
  return retryAfter ? `${answer}, Retry-After ${retryAfter} s` : answer;
}

/** The JSON envelope every answer of the worker carries; anything else means the URL is not this worker. */
async function envelopeOf(response: Response, what: string): Promise<Envelope> {
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("Location");
    throw new StepError(`${what}: HTTP ${response.status}, redirected to ${location ?? "?"}; give the final URL`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!isObject(body) || typeof body.errCode !== "number" || typeof body.errMsg !== "string") {
    const type = response.headers.get("Content-Type") ?? "no content type";
    const start = JSON.stringify(text.slice(0, 80));
    throw new StepError(`${what}: HTTP ${response.status}, not an answer of this worker (${type}): ${start}`);
  }
  return body as Envelope;
}

async function send(path: string, init: RequestInit, signal: AbortSignal) {
  const url = new URL(path, base);
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal, redirect: "manual" });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new StepError(`cannot reach ${url.origin}: ${networkReason(error)}`);
  }
  const what = `${init.method ?? "GET"} ${path}`;
  return { status: response.status, headers: response.headers, envelope: await envelopeOf(response, what) };
}

/** An AppServer route: the secret and an operationID (the uid, to find the check's log lines) are added. */
function post(path: string, body: Record<string, unknown>, signal: AbortSignal) {
  return send(
    path,
    {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ secret, operationID: uid, ...body }),
    },
    signal,
  );
}

/** A POST that must succeed (HTTP 200, errCode 0); its envelope. */
async function call(path: string, body: Record<string, unknown>, signal: AbortSignal): Promise<Envelope> {
  const { status, headers, envelope } = await post(path, body, signal);
  if (status !== 200 || envelope.errCode !== 0) throw new StepError(describeAnswer(status, envelope, headers));
  return envelope;
}

function tokenOf(envelope: Envelope): string {
  const { data } = envelope;
  if (!isObject(data) || typeof data.token !== "string" || data.token === "" || data.uid !== uid) {
    throw new StepError(`errCode 0 but no token for ${uid} in data: ${JSON.stringify(data)}`);
  }
  return data.token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the socket ---

interface Closed {
  code: number;
  reason: string;
}

/** One client session, with what it has seen so far. */
class Session {
  readonly socket: WebSocket;
  /** True once open; false if it failed first. */
  readonly opened: Promise<boolean>;
  readonly closed: Promise<Closed>;
  closedWith?: Closed;
  /** Node 22's WebSocket reports a refused handshake with an error event and no close event. */
  errorMessage?: string;
  private readonly waiting: { resolve: (text: string) => void; reject: (error: StepError) => void }[] = [];

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.closed = new Promise((resolve) =>
      this.socket.addEventListener("close", (event) => {
        this.closedWith = { code: event.code, reason: event.reason };
        this.failWaiting();
        resolve(this.closedWith);
      }),
    );
    this.opened = new Promise((resolve) => {
      this.socket.addEventListener("open", () => resolve(true));
      this.socket.addEventListener("error", (event) => {
        this.errorMessage ??= event.message || "a socket error";
        this.failWaiting();
        resolve(false);
      });
      void this.closed.then(() => resolve(false));
    });
    this.socket.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : "(a binary frame)";
      for (const { resolve } of this.waiting.splice(0)) resolve(text);
    });
  }

  /** How the socket ended, if it has. */
  get ended(): string | undefined {
    if (this.closedWith) return `closed with ${this.closedWith.code} ${this.closedWith.reason}`.trim();
    return this.errorMessage === undefined ? undefined : `failed: ${this.errorMessage}`;
  }

  private failWaiting(): void {
    for (const { reject } of this.waiting.splice(0)) reject(new StepError(`the socket ${this.ended}`));
  }

  /** The next text frame; rejects if the socket ends first. */
  nextText(): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.ended) reject(new StepError(`the socket ${this.ended}`));
      else this.waiting.push({ resolve, reject });
    });
  }

  close(): void {
    if (this.ended === undefined) this.socket.close(1000, "smoke check done");
  }
}

function socketUrl(token: string): URL {
  const url = new URL(Route.connectWs.path, base);
  url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("sendID", uid);
  url.searchParams.set("platformID", String(PLATFORM));
  url.searchParams.set("operationID", uid);
  url.searchParams.set("token", token);
  return url;
}

/**
 * A WebSocket client cannot read a refused handshake's answer, so when the socket does not open
 * the same handshake is sent once more over plain HTTP to read it (e.g. 401 with errCode 705).
 */
function handshakeAnswer(token: string, signal: AbortSignal): Promise<string> {
  const url = socketUrl(token);
  url.protocol = base.protocol;
  const request = base.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const handshake = request(url.toString(), {
      signal,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
      },
    });
    handshake.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve("a second try was accepted: the first failed on the way");
    });
    handshake.on("response", (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        try {
          const body: unknown = JSON.parse(text);
          if (isObject(body) && typeof body.errCode === "number" && typeof body.errMsg === "string") {
            return resolve(`the handshake answered ${describeAnswer(response.statusCode ?? 0, body as Envelope)}`);
          }
        } catch {
          // not an envelope; described below
        }
        resolve(`the handshake answered HTTP ${response.statusCode}: ${JSON.stringify(text.slice(0, 80))}`);
      });
    });
    handshake.on("error", (error) => resolve(`the handshake failed: ${networkReason(error)}`));
    handshake.end();
  });
}

// --- steps ---

type Status = "ok" | "skip" | "FAIL";
/** What a step that passed has to say: a note after its latency, or why it was skipped. */
type Outcome = { note?: string; skipped?: string } | undefined;
type StepRun = (signal: AbortSignal) => Promise<Outcome>;

function report(status: Status, name: string, ms: number, note?: string): void {
  const line = `${status.padEnd(5)}${name.padEnd(10)}${String(Math.round(ms)).padStart(6)} ms`;
  console.log(note ? `${line}  ${note}` : line);
}

let failure: { step: string; reason: string } | undefined;
const counts = { ok: 0, skip: 0, FAIL: 0 };

/**
 * Runs one step within `limitMs`: a step still running then fails ("did not finish"), and its
 * signal aborts whatever it was waiting for. It resolves to whether the step passed (or was skipped).
 */
async function step(name: string, run: StepRun, limitMs = timeoutMs): Promise<boolean> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new StepError(`did not finish within ${limitMs} ms`));
    }, limitMs);
  });
  try {
    const outcome = await Promise.race([run(controller.signal), timedOut]);
    const status: Status = outcome?.skipped ? "skip" : "ok";
    counts[status]++;
    report(status, name, performance.now() - started, outcome?.skipped ?? outcome?.note);
    return true;
  } catch (error) {
    const reason = error instanceof StepError ? error.message : `unexpected error: ${String(error)}`;
    counts.FAIL++;
    report("FAIL", name, performance.now() - started, reason);
    failure ??= { step: name, reason };
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the uid's status until `matches` holds, for up to POLL_WINDOW_MS. */
async function pollStatus(want: string, matches: (entry: Record<string, unknown>) => boolean, signal: AbortSignal) {
  const deadline = performance.now() + POLL_WINDOW_MS;
  for (let reads = 1; ; reads++) {
    const { successResult } = await call(Route.onlineStatus.path, { userIDList: [uid] }, signal);
    const entry = Array.isArray(successResult) ? successResult[0] : undefined;
    if (!isObject(entry) || entry.userID !== uid) {
      throw new StepError(`errCode 0 but no entry for ${uid} in successResult: ${JSON.stringify(successResult)}`);
    }
    if (matches(entry)) return reads > 1 ? { note: `after ${reads} reads` } : undefined;
    if (performance.now() >= deadline) {
      throw new StepError(`not ${want} after ${reads} reads in ${POLL_WINDOW_MS} ms: ${JSON.stringify(entry)}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

const onlineOnWeb = (entry: Record<string, unknown>) =>
  entry.status === "online" &&
  Array.isArray(entry.detailPlatformStatus) &&
  entry.detailPlatformStatus.some((p) => isObject(p) && p.platform === PLATFORM_NAME && p.status === "online");

/** True if the answer has a list of failures (`failedUidList`, …), at its top or in `data`, that names the uid. */
function failedToDelete(envelope: Envelope): boolean {
  const fields = [envelope, isObject(envelope.data) ? envelope.data : {}].flatMap((o) => Object.entries(o));
  return fields.some(([name, value]) => /fail/i.test(name) && Array.isArray(value) && value.includes(uid));
}

async function deleteUser(signal: AbortSignal): Promise<Outcome> {
  const { status, headers, envelope } = await post(DELETE_USER_PATH, { deleteUidList: [uid] }, signal);
  if (status === 404 && envelope.errCode === 404) {
    return { skipped: `POST ${DELETE_USER_PATH} is not deployed yet (404, errCode 404); ${uid} stays registered` };
  }
  if (status !== 200 || envelope.errCode !== 0) throw new StepError(describeAnswer(status, envelope, headers));
  if (failedToDelete(envelope))
    throw new StepError(`errCode 0 but ${uid} is listed as not deleted: ${JSON.stringify(envelope)}`);
  return undefined;
}

const started = performance.now();
console.log(
  `smoke check of ${base.origin} as ${uid} (platform ${PLATFORM} ${PLATFORM_NAME}), ${timeoutMs} ms per step`,
);

let registered = false;
let token = "";
let session: Session | undefined;

type Step = [name: string, run: StepRun, limitMs?: number];

const STEPS: Step[] = [
  [
    "healthz",
    async (signal) => {
      // Before the secret is sent anywhere: a URL that is not this worker fails here.
      const { status, envelope } = await send(Route.health.path, { method: "GET" }, signal);
      if (status !== 200 || envelope.errCode !== 0) throw new StepError(describeAnswer(status, envelope));
      return undefined;
    },
  ],
  [
    "register",
    async (signal) => {
      const envelope = await call(Route.registerUser.path, { platform: PLATFORM, uid, name: "smoke check" }, signal);
      registered = true;
      tokenOf(envelope);
      return undefined;
    },
  ],
  [
    "token",
    async (signal) => {
      token = tokenOf(await call(Route.userToken.path, { platform: PLATFORM, uid }, signal));
      return undefined;
    },
  ],
  [
    "connect",
    async (signal) => {
      const connecting = performance.now();
      session = new Session(socketUrl(token).toString());
      if (!(await session.opened)) {
        const answer = await handshakeAnswer(token, signal);
        const where = `${socketUrl(token).origin}${Route.connectWs.path}`;
        throw new StepError(`the socket to ${where} never opened (${session.ended}); ${answer}`);
      }
      const openMs = performance.now() - connecting;
      const pinged = performance.now();
      const answer = session.nextText();
      session.socket.send(PING);
      const text = await answer;
      if (text !== PONG) throw new StepError(`sent "${PING}", got ${JSON.stringify(text.slice(0, 80))}`);
      return { note: `open ${Math.round(openMs)} ms, ${PONG} ${Math.round(performance.now() - pinged)} ms` };
    },
  ],
  ["online", (signal) => pollStatus(`online on ${PLATFORM_NAME}`, onlineOnWeb, signal), timeoutMs + POLL_WINDOW_MS],
  [
    "logout",
    async (signal) => {
      const open = session!;
      if (open.ended) throw new StepError(`the socket ${open.ended} before the logout`);
      await call(Route.forceLogout.path, { platform: PLATFORM, uid }, signal);
      const { code, reason } = await open.closed;
      if (code !== CloseCode.loggedOut) {
        throw new StepError(`the socket closed with ${code} ${reason}, not ${CloseCode.loggedOut}`);
      }
      return { note: `closed ${code} ${reason}` };
    },
  ],
  [
    "offline",
    (signal) => pollStatus("offline", (entry) => entry.status === "offline", signal),
    timeoutMs + POLL_WINDOW_MS,
  ],
];

// Each step runs only if the ones before it passed; the user is deleted even after a failure.
for (const [name, run, limitMs] of STEPS) if (!(await step(name, run, limitMs))) break;
session?.close();
if (registered) await step("delete", deleteUser);

const total = Math.round(performance.now() - started);
if (failure) {
  console.error(`smoke check FAILED at step "${failure.step}": ${failure.reason}`);
  process.exitCode = 1;
} else {
  const skipped = counts.skip ? `, ${counts.skip} skipped` : "";
  console.log(`smoke check passed: ${counts.ok} steps ok${skipped}, ${total} ms`);
}
// Nothing should keep the process alive now; if a socket or request still does, do not wait for it.
setTimeout(() => process.exit(), 1_000).unref();
