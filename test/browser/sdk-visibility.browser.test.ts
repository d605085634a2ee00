/// <reference types="node" />
// The client SDK's trackVisibility in a real browser: the SDK bundled for the browser (as an app's bundler
// would), in a headless Chromium page, against the real worker, following the page's real `document`.
//
// Headless Chromium reports every page visible whatever happens to its window or tab, and Playwright has
// no way to change that (microsoft/playwright#2286; minimising the window, switching tabs and
// Page.setWebLifecycleState were all tried). So the page's visibilityState getter is stubbed, and a
// real `visibilitychange` Event is dispatched on the real document, as a browser does when a tab is hidden.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { type BrowserContext, chromium, type Page, type WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Platform } from "../../sdk/appserver";
import { appServer, freshUid, workerUrl } from "../node/helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let context: BrowserContext;
let profileDir: string;
let bundle: string;

// The page's side: the stubbed visibility, a count of the document's visibilitychange listeners, and
// one session made with trackVisibility and no `document` option (so the SDK finds the global one).
const PAGE_SCRIPT = `
let visibility = "visible";
Object.defineProperty(document, "visibilityState", { configurable: true, get: () => visibility });
const listeners = new Set();
const add = document.addEventListener.bind(document);
const remove = document.removeEventListener.bind(document);
document.addEventListener = (type, listener, options) => {
  if (type === "visibilitychange") listeners.add(listener);
  add(type, listener, options);
};
document.removeEventListener = (type, listener, options) => {
  if (type === "visibilitychange") listeners.delete(listener);
  remove(type, listener, options);
};
let session;
const opens = [];
window.sdkTest = {
  connect(url, uid, token) {
    session = ImSdk.connect({ url, uid, token, platform: ImSdk.Platform.Web, trackVisibility: true, reconnect: { initialDelayMs: 50 } });
    session.on("open", (event) => opens.push(event));
    session.on("error", ({ error }) => console.error("session error: " + error.message));
    return new Promise((resolve) => session.on("pong", () => resolve(true)));
  },
  show(state) {
    visibility = state;
    document.dispatchEvent(new Event("visibilitychange"));
  },
  state: () => ({ session: session.state, opens: opens.length, listeners: listeners.size }),
  close: () => session.close(),
};
`;

interface PageApi {
  sdkTest: {
    connect(url: string, uid: string, token: string): Promise<boolean>;
    show(state: "visible" | "hidden"): void;
    state(): { session: string; opens: number; listeners: number };
    close(): void;
  };
}

const api = (page: Page) => ({
  connect: (uid: string, token: string) =>
    page.evaluate(([url, uid, token]) => (globalThis as unknown as PageApi).sdkTest.connect(url, uid, token), [
      workerUrl(),
      uid,
      token,
    ] as const),
  show: (state: "visible" | "hidden") =>
    page.evaluate((state) => (globalThis as unknown as PageApi).sdkTest.show(state), state),
  state: () => page.evaluate(() => (globalThis as unknown as PageApi).sdkTest.state()),
  close: () => page.evaluate(() => (globalThis as unknown as PageApi).sdkTest.close()),
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run the browser tests with npm run test:browser`);
  // The client entry point alone, for the browser, as a script that leaves the module on window.ImSdk.
  const built = await build({
    entryPoints: [join(import.meta.dirname, "../../sdk/client.ts")],
    bundle: true,
    format: "iife",
    globalName: "ImSdk",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  bundle = built.outputFiles[0]?.text ?? "";
  profileDir = mkdtempSync(join(tmpdir(), "imserver-chromium-sdk-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/** isBackground of the user's Web platform, as the AppServer reads it (undefined while offline). */
async function webInBackground(uid: string): Promise<boolean | undefined> {
  const [status] = await appServer().getUsersOnlineStatus([uid]);
  return status?.status === "online"
    ? status.detailPlatformStatus.find((p) => p.platform === "Web")?.isBackground
    : undefined;
}

/** The JSON frames the page sent on each of its sockets, in the order opened. */
function jsonFramesBySocket(sockets: { sent: string[] }[]): unknown[][] {
  return sockets.map(({ sent }) => sent.filter((text) => text.startsWith("{")).map((text) => JSON.parse(text)));
}

describe("the client SDK in a real browser", () => {
  it("trackVisibility: a hidden page puts the session in the background, also after a reconnect; a shown one brings it back; close removes the listener", async () => {
    const uid = freshUid("tab");
    const { token } = await appServer().registerUser({ uid, platform: Platform.Web, name: "Tab" });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      // Chromium logs the page's favicon.ico, which the worker answers 404.
      const text = message.text();
      if (message.type() === "error" && !text.startsWith("Failed to load resource")) problems.push(text);
    });
    const sockets: { sent: string[] }[] = [];
    page.on("websocket", (socket) => {
      const record = { sent: [] as string[] };
      sockets.push(record);
      socket.on("framesent", ({ payload }) => record.sent.push(String(payload)));
    });
    // The page's sockets pass through the test, which can close one as the server would.
    const routed: WebSocketRoute[] = [];
    await page.routeWebSocket(
      (url) => url.searchParams.get("sendID") === uid,
      (socket) => {
        routed.push(socket);
        socket.connectToServer();
      },
    );
    // A page the worker served: Chromium lets only a page from a local address open a socket to one.
    await page.goto(`${workerUrl()}/healthz`);
    await page.addScriptTag({ content: bundle });
    await page.addScriptTag({ content: PAGE_SCRIPT });
    const sdk = api(page);

    await sdk.connect(uid, token);
    expect(await sdk.state()).toEqual({ session: "open", opens: 1, listeners: 1 });
    expect(await webInBackground(uid)).toBe(false);

    await sdk.show("hidden");
    await expect.poll(() => webInBackground(uid), { timeout: 10_000 }).toBe(true);
    expect(jsonFramesBySocket(sockets)).toEqual([[{ type: "set", background: true }]]);

    // The server drops the socket while the page is hidden: the new socket says so right after its open.
    await routed[0]?.close({ code: 1011, reason: "restarting" });
    await expect.poll(async () => (await sdk.state()).opens, { timeout: 10_000 }).toBe(2);
    await expect
      .poll(() => jsonFramesBySocket(sockets)[1], { timeout: 10_000 })
      .toEqual([{ type: "set", background: true }]);
    expect(sockets[1]?.sent[0]).toBe("ping");
    await expect.poll(() => webInBackground(uid), { timeout: 10_000 }).toBe(true);

    await sdk.show("visible");
    await expect.poll(() => webInBackground(uid), { timeout: 10_000 }).toBe(false);
    expect(jsonFramesBySocket(sockets)[1]).toEqual([
      { type: "set", background: true },
      { type: "set", background: false },
    ]);

    await sdk.close();
    expect(await sdk.state()).toEqual({ session: "closed", opens: 2, listeners: 0 });
    await sdk.show("hidden");
    expect(sockets).toHaveLength(2);
    expect(problems).toEqual([]);
    await page.close();
  });
});
