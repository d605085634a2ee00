/// <reference types="node" />
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type PresenceEvent, SIGNATURE_HEADER, signWebhook } from "../../protocol";
import { appServer, freshUid, sleep, workerUrl } from "../node/helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let context: BrowserContext;
let profileDir: string;
/** Script errors each page logged: the console must run clean under its CSP. */
const pageProblems = new Map<Page, string[]>();
/** Paths each page requested over HTTP (a WebSocket handshake is not among them). */
const pageRequests = new Map<Page, string[]>();
/** Each page's WebSockets, in the order opened, with the text frames it sent on each. */
const pageSockets = new Map<Page, { url: URL; sent: string[] }[]>();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run the browser tests with npm run test:browser`);
  profileDir = mkdtempSync(join(tmpdir(), "imserver-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

async function openConsole(secret = inject("imSecret")): Promise<Page> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  const requests: string[] = [];
  page.on("request", (request) => requests.push(new URL(request.url()).pathname));
  const sockets: { url: URL; sent: string[] }[] = [];
  page.on("websocket", (socket) => {
    const record = { url: new URL(socket.url()), sent: [] as string[] };
    sockets.push(record);
    socket.on("framesent", ({ payload }) => record.sent.push(String(payload)));
  });
  await page.goto(`${workerUrl()}/console`);
  await page.fill("#secret", secret);
  pageProblems.set(page, problems);
  pageRequests.set(page, requests);
  pageSockets.set(page, sockets);
  return page;
}

/** The sockets the page opened as its own console user, to watch. */
async function watcherSockets(page: Page) {
  const uid = await page.textContent("#watcher");
  return (pageSockets.get(page) ?? []).filter((socket) => socket.url.searchParams.get("sendID") === uid);
}

/** The ids the page subscribed to on one socket (none if there is no such socket). */
function subscribedOn(socket: { sent: string[] } | undefined): string[] {
  return (socket?.sent ?? [])
    .filter((text) => text.startsWith("{"))
    .map((text) => JSON.parse(text) as { type: string; userIDs: string[] })
    .filter((frame) => frame.type === "subscribe")
    .flatMap((frame) => frame.userIDs);
}

function watchedRow(page: Page, uid: string) {
  return page.locator(`#status-table tr[data-uid="${uid}"]`);
}

function platformCell(page: Page, uid: string, platform: string) {
  return page.locator(`#status-table tr[data-uid="${uid}"] td[data-platform="${platform}"]`);
}

describe("the dev console in a real browser", () => {
  it("registers a user on one page, opens a session there, and another page's watched list follows it live over its own socket, without polling", async () => {
    const uid = freshUid("console");
    const operator = await openConsole();
    const watcher = await openConsole();

    // The watcher follows the uid before it exists: unknown uids are offline.
    await watcher.fill("#watch-uid", uid);
    await watcher.click("#watch-add");
    await expect.poll(() => watchedRow(watcher, uid).getAttribute("data-status"), { timeout: 10_000 }).toBe("offline");
    expect(await watchedRow(watcher, uid).locator("td.last-seen").textContent()).toBe("");

    // It learned that from its own socket: a ping first, then a subscribe naming the uid.
    const [firstSocket] = await watcherSockets(watcher);
    expect(firstSocket?.url.pathname).toBe("/ws");
    expect(firstSocket?.sent[0]).toBe("ping");
    expect(subscribedOn(firstSocket)).toContain(uid);

    await operator.fill("#reg-uid", uid);
    await operator.fill("#reg-name", "Console User");
    await operator.click("#reg-submit");
    await expect.poll(() => operator.textContent("#reg-result"), { timeout: 10_000 }).toBe(`registered ${uid}`);

    await operator.fill("#session-uid", uid);
    await operator.selectOption("#session-platform", "2");
    await operator.click("#session-open");
    await expect
      .poll(() => operator.locator(`#sessions tr[data-uid="${uid}"] td`).nth(2).textContent(), { timeout: 10_000 })
      .toBe("open");

    await expect.poll(() => platformCell(watcher, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");
    expect(await platformCell(watcher, uid, "Web").textContent()).toBe("–");
    expect(await watchedRow(watcher, uid).getAttribute("data-status")).toBe("online");

    // What the watcher shows is what the API says.
    const [status] = await appServer().getUsersOnlineStatus([uid]);
    expect(status).toEqual({
      userID: uid,
      status: "online",
      detailPlatformStatus: [{ platform: "Android", status: "online" }],
    });

    await operator.click(`#sessions tr[data-uid="${uid}"] button.disconnect`);
    await expect.poll(() => platformCell(watcher, uid, "Android").textContent(), { timeout: 10_000 }).toBe("–");
    expect(await watchedRow(watcher, uid).getAttribute("data-status")).toBe("offline");
    expect(await watchedRow(watcher, uid).locator("td.last-seen").textContent()).not.toBe("");

    // The watcher's own socket ends (its user logged out): it reconnects, subscribes anew and stays live.
    await appServer().forceLogout({ uid: (await watcher.textContent("#watcher")) ?? "", platform: 5 });
    await expect.poll(async () => (await watcherSockets(watcher)).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => subscribedOn((await watcherSockets(watcher))[1]), { timeout: 10_000 }).toContain(uid);
    expect((await watcherSockets(watcher))[1]?.sent[0]).toBe("ping");
    await expect.poll(() => watchedRow(watcher, uid).getAttribute("data-status"), { timeout: 10_000 }).toBe("offline");
    await operator.click("#session-open");
    await expect.poll(() => platformCell(watcher, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");

    // No polling: once settled, the pages fetch only the webhook list, and neither ever asked the status route.
    const before = new Map([operator, watcher].map((page) => [page, pageRequests.get(page)?.length]));
    await sleep(3_000);
    for (const page of [operator, watcher]) {
      const requests = pageRequests.get(page) ?? [];
      expect(new Set(requests.slice(before.get(page)))).toEqual(new Set(["/console/events"]));
      expect(requests).not.toContain("/user/get_users_online_status");
      expect(pageProblems.get(page)).toEqual([]);
    }
  });

  it("shows an error frame the socket answers, and keeps the row until it is unwatched", async () => {
    const page = await openConsole();
    const tooLong = "x".repeat(65);
    await page.fill("#watch-uid", tooLong);
    await page.click("#watch-add");
    await expect
      .poll(() => page.textContent("#status-note"), { timeout: 10_000 })
      .toMatch(/^error frame 400: userIDs\.\d+: /);
    expect(await watchedRow(page, tooLong).getAttribute("data-status")).toBe("unknown");
    await watchedRow(page, tooLong).locator("button.unwatch").click();
    expect(await watchedRow(page, tooLong).count()).toBe(0);
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("lists a signed webhook delivery only once the right secret is typed, and stops asking with a refused one", async () => {
    const uid = freshUid("hook");
    const event: PresenceEvent = {
      id: `${uid}-1`,
      type: "online",
      userID: uid,
      platformID: 2,
      platform: "Android",
      reason: "connect",
      platforms: ["Android"],
      seq: 1,
      time: Date.now(),
    };
    const body = JSON.stringify({ events: [event] });
    const signature = await signWebhook(body, inject("webhookSecret"), Math.floor(Date.now() / 1000));
    const delivered = await fetch(`${workerUrl()}/console/webhook`, {
      method: "POST",
      headers: { [SIGNATURE_HEADER]: signature },
      body,
    });
    expect(delivered.status).toBe(200);

    const refused = await openConsole("wrong-secret");
    const row = (page: Page) => page.locator(`#events-table tr[data-user="${uid}"]`);
    await sleep(5_000);
    expect(await row(refused).count()).toBe(0);
    // Polled every 2 s, the wrong secret was sent once at most.
    expect((pageRequests.get(refused) ?? []).filter((path) => path === "/console/events").length).toBeLessThanOrEqual(
      1,
    );

    const page = await openConsole();
    await expect.poll(() => row(page).count(), { timeout: 10_000 }).toBe(1);
    expect(await row(page).locator("td").nth(3).textContent()).toBe("online Android (connect)");
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("shows the error envelope's code when the secret is wrong", async () => {
    const page = await openConsole();
    await page.fill("#secret", "wrong-secret");
    await page.fill("#reg-uid", freshUid("console"));
    await page.click("#reg-submit");
    await expect.poll(() => page.textContent("#reg-result"), { timeout: 10_000 }).toContain("401/401");
  });
});
