/// <reference types="node" />
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page, type WebSocketRoute } from "playwright-core";
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

/** A console page, the secret typed in; `beforeLoad` runs before it loads (e.g. to route its sockets). */
async function openConsole(secret = inject("imSecret"), beforeLoad?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await context.newPage();
  await beforeLoad?.(page);
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

/**
 * The page's script errors, less the lines Chromium logs for every answer
 * with an error status: a test that provokes a refusal expects those.
 */
function scriptErrors(page: Page): string[] {
  return (pageProblems.get(page) ?? []).filter(
    (text) => !/^Failed to load resource: the server responded with a status of \d+/.test(text),
  );
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

function sessionRows(page: Page, uid: string) {
  return page.locator(`#sessions tr[data-uid="${uid}"]`);
}

/** The page's log, oldest line first. */
async function logLines(page: Page): Promise<string[]> {
  return (await page.locator("#log div").allTextContents()).reverse();
}

/** Opens a session from the page's sessions panel. */
async function openSession(page: Page, uid: string, platform: number): Promise<void> {
  await page.fill("#session-uid", uid);
  await page.selectOption("#session-platform", String(platform));
  await page.click("#session-open");
}

/** The AppServer's view of one user: its entry in get_users_online_status. */
async function statusOf(uid: string) {
  return (await appServer().getUsersOnlineStatus([uid]))[0];
}

/** A fresh user registered on Android, and the console alone in the browser. */
async function consoleWithUser(prefix: string, name: string): Promise<{ uid: string; page: Page }> {
  await closeOtherPages();
  const uid = freshUid(prefix);
  await appServer().registerUser({ uid, platform: 2, name });
  return { uid, page: await openConsole() };
}

/** Opens a session from the sessions panel and waits for its row (the `nth` of the uid's rows) to say open. */
async function openedSession(page: Page, uid: string, platform: number, nth = 0) {
  await openSession(page, uid, platform);
  const row = sessionRows(page, uid).nth(nth);
  await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("open");
  return row;
}

/** The page's sockets as `uid`, in the order opened. */
function socketsOf(page: Page, uid: string) {
  return (pageSockets.get(page) ?? []).filter((socket) => socket.url.searchParams.get("sendID") === uid);
}

/** An AppServer route called directly, not through the SDK: answers the raw envelope. */
async function post(route: string, fields: object): Promise<Record<string, unknown>> {
  const response = await fetch(`${workerUrl()}${route}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...fields, secret: inject("imSecret") }),
  });
  return (await response.json()) as Record<string, unknown>;
}

/** Types a uid into "Manage a user" and loads it into the panels below. */
async function manage(page: Page, uid: string): Promise<void> {
  await page.fill("#manage-uid", uid);
  await page.click("#manage-load");
}

/** A moment as a datetime-local input takes it (the page's local time, to the minute). */
function localMinute(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** A moment as a datetime-local input with step 1 takes it (the page's local time, to the second). */
function localSecond(date: Date): string {
  return `${localMinute(date)}:${String(date.getSeconds()).padStart(2, "0")}`;
}

/** The managed user's entry in "Presence as the AppServer sees it". */
function lookupRow(page: Page) {
  return page.locator("#presence-lookup tbody tr");
}

/** Refresh, then the cell of the status lookup: the lookup is read on demand, never polled. */
async function lookedUp(page: Page, cell: string): Promise<string | null> {
  await page.click("#presence-refresh");
  return lookupRow(page).locator(`td.${cell}`).textContent();
}

/** Pages of earlier tests share this origin's storage; closed, their sockets stay out of the next test's way. */
async function closeOtherPages(): Promise<void> {
  for (const page of context.pages()) await page.close();
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
      detailPlatformStatus: [{ platform: "Android", status: "online", isBackground: false }],
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

  it("words a state event in the webhook list as the other panels word presence", async () => {
    const uid = freshUid("state");
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const events: PresenceEvent[] = [
      {
        id: `${uid}-1`,
        type: "online",
        userID: uid,
        platformID: 2,
        platform: "Android",
        reason: "connect",
        platforms: ["Android", "Web"],
        seq: 1,
        time: Date.now(),
        invisible: true,
      },
      {
        id: `${uid}-2`,
        type: "state",
        userID: uid,
        platforms: ["Android", "Web"],
        background: ["Android"],
        invisible: true,
        customStatus: { text: "In a meeting", expiresAt },
        seq: 2,
        time: Date.now(),
      },
    ];
    const body = JSON.stringify({ events });
    const signature = await signWebhook(body, inject("webhookSecret"), Math.floor(Date.now() / 1000));
    const delivered = await fetch(`${workerUrl()}/console/webhook`, {
      method: "POST",
      headers: { [SIGNATURE_HEADER]: signature },
      body,
    });
    expect(delivered.status).toBe(200);

    const page = await openConsole();
    const row = (type: string) => page.locator(`#events-table tr[data-user="${uid}"][data-type="${type}"] td`);
    await expect.poll(() => row("state").count(), { timeout: 10_000 }).toBe(5);
    expect(await row("state").nth(3).textContent()).toMatch(
      new RegExp(
        `^state \\(background: Android; invisible; custom status "In a meeting" until .+ \\(${expiresAt}\\)\\)$`,
      ),
    );
    expect(await row("state").nth(4).textContent()).toBe("Android (background), Web");
    expect(await row("online").nth(3).textContent()).toBe("online Android (connect); invisible");
    expect(await row("online").nth(4).textContent()).toBe("Android, Web");
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("shows the error envelope's code when the secret is wrong", async () => {
    const page = await openConsole();
    await page.fill("#secret", "wrong-secret");
    await page.fill("#reg-uid", freshUid("console"));
    await page.click("#reg-submit");
    await expect.poll(() => page.textContent("#reg-result"), { timeout: 10_000 }).toContain("401/401");
  });

  it("leaves a session that a newer one on its platform kicked closed, and keeps the newer one open", async () => {
    const { uid, page } = await consoleWithUser("kick", "Kicked");
    await openedSession(page, uid, 2);
    await openedSession(page, uid, 2, 1);
    await expect
      .poll(() => sessionRows(page, uid).first().getAttribute("data-state"), { timeout: 10_000 })
      .toBe("closed");
    expect(await sessionRows(page, uid).first().locator("td.state").textContent()).toMatch(/^closed 4001\b/);
    expect(await sessionRows(page, uid).first().locator("button.disconnect").count()).toBe(0);
    // The SDK does not reconnect after a kick: a second later the newer session is still the one online.
    await sleep(1_000);
    expect(await sessionRows(page, uid).nth(1).getAttribute("data-state")).toBe("open");
    expect(await sessionRows(page, uid).first().getAttribute("data-state")).toBe("closed");
    expect(await logLines(page)).toContainEqual(expect.stringContaining(`session ${uid} on Android: kicked`));
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("reconnects a session whose socket is closed from the server side, with the SDK's growing jittered backoff, and shows it online again", async () => {
    await closeOtherPages();
    const uid = freshUid("drop");
    await appServer().registerUser({ uid, platform: 2, name: "Dropped" });
    // This user's sockets pass through the test: the first reaches the worker and is then closed as a
    // restarting server would close it; the next two are refused at once; the fourth reaches the worker.
    const routed: WebSocketRoute[] = [];
    const page = await openConsole(inject("imSecret"), (page) =>
      page.routeWebSocket(
        (url) => url.searchParams.get("sendID") === uid,
        (socket) => {
          routed.push(socket);
          if (routed.length === 2 || routed.length === 3) socket.close({ code: 1011, reason: "still restarting" });
          else socket.connectToServer();
        },
      ),
    );
    await openedSession(page, uid, 2);
    await expect.poll(() => platformCell(page, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");

    await routed[0]?.close({ code: 1011, reason: "restarting" });
    await expect.poll(() => routed.length, { timeout: 10_000 }).toBe(4);
    await expect.poll(() => sessionRows(page, uid).getAttribute("data-state"), { timeout: 10_000 }).toBe("open");
    expect(await sessionRows(page, uid).locator("td.reconnects").textContent()).toBe("3");

    // Each retry waited between half and all of a step that doubles from 500 ms, since no socket got a pong.
    const delays = (await logLines(page))
      .filter((line) => line.includes(`session ${uid} on Android: closed 1011`))
      .map((line) => Number(/reconnecting in ([\d.]+) s$/.exec(line)?.[1]));
    expect(delays).toHaveLength(3);
    for (const [attempt, delay] of delays.entries()) {
      const step = 0.5 * 2 ** attempt;
      expect(delay).toBeGreaterThanOrEqual(step / 2 - 0.05);
      expect(delay).toBeLessThanOrEqual(step + 0.05);
    }

    // The fourth socket is the one the worker holds: the watcher and the API see the user online.
    await expect.poll(() => platformCell(page, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");
    await expect.poll(async () => (await statusOf(uid))?.status, { timeout: 10_000 }).toBe("online");
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("keeps watching after the server drops the watcher's socket: the SDK reconnects it and subscribes again", async () => {
    const { uid, page } = await consoleWithUser("watched", "Watched");
    await openSession(page, uid, 2);
    await expect.poll(() => platformCell(page, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");
    const watcherUid = await page.textContent("#watcher");
    expect(await watcherSockets(page)).toHaveLength(1);

    // Watching and unwatching a user eleven times sends 22 frames: over the budget, the worker closes the socket (1008).
    const flood = freshUid("flood");
    for (let i = 0; i < 11; i++) {
      await page.fill("#watch-uid", flood);
      await page.click("#watch-add");
      await watchedRow(page, flood).locator("button.unwatch").click();
    }
    await expect.poll(async () => (await watcherSockets(page)).length, { timeout: 10_000 }).toBe(2);
    expect(await page.textContent("#watcher")).toBe(watcherUid);
    const lines = await logLines(page);
    expect(lines).toContainEqual(expect.stringMatching(/watcher socket closed, code 1008\b.*; the SDK reconnects in /));
    const [, second] = await watcherSockets(page);
    await expect.poll(() => subscribedOn(second), { timeout: 10_000 }).toContain(uid);
    expect(second?.sent[0]).toBe("ping");
    await expect.poll(() => page.textContent("#status-note"), { timeout: 10_000 }).toBe("live");

    // Live over the new socket: the user's session ends and the row follows.
    await sessionRows(page, uid).locator("button.disconnect").click();
    await expect.poll(() => watchedRow(page, uid).getAttribute("data-status"), { timeout: 10_000 }).toBe("offline");
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("shows a registered user's profile, saves only the fields changed, and logs a refused change with its errCode", async () => {
    const uid = freshUid("profile");
    await appServer().registerUser({ uid, platform: 2, name: "Before", email: "before@example.com" });
    const page = await openConsole();
    await manage(page, uid);
    await expect.poll(() => page.inputValue("#profile-name"), { timeout: 10_000 }).toBe("Before");
    expect(await page.inputValue("#profile-email")).toBe("before@example.com");
    expect(await page.inputValue("#profile-gender")).toBe("0");
    expect(await page.textContent("#profile-note")).toMatch(/^created .* \(\d+\)$/);

    await page.fill("#profile-name", "After");
    await page.selectOption("#profile-gender", "2");
    await page.click("#profile-save");
    await expect
      .poll(() => logLines(page), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining(`profile of ${uid} updated: name, gender`));
    const answer = await post("/user/get_user_info", { uidList: [uid] });
    expect(answer).toMatchObject({
      errCode: 0,
      data: [{ uid, name: "After", gender: 2, email: "before@example.com" }],
    });
    // Shown again after the save: what the worker now holds.
    await expect.poll(() => page.inputValue("#profile-name"), { timeout: 10_000 }).toBe("After");

    await page.fill("#profile-name", "x".repeat(65));
    await page.click("#profile-save");
    await expect
      .poll(() => logLines(page), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining("/user/update_user_info: 400/400 name: at most 64 characters"));

    const ghost = freshUid("ghost");
    await manage(page, ghost);
    await expect.poll(() => page.textContent("#profile-note"), { timeout: 10_000 }).toBe(`${ghost} is not registered`);
    expect(await page.inputValue("#profile-name")).toBe("");
    expect(await page.isDisabled("#profile-save")).toBe(true);
    await expect.poll(() => page.textContent("#user-sessions-note"), { timeout: 10_000 }).toContain("404/602");
    expect(scriptErrors(page)).toEqual([]);
  });

  it("lists the console's sessions as the server sees them, kicks one by its connID and logs a platform out", async () => {
    const { uid, page } = await consoleWithUser("sessions", "Sessions");
    await openSession(page, uid, 2);
    await openSession(page, uid, 5);
    const consoleRow = (platform: string) =>
      page.locator(`#sessions tr[data-uid="${uid}"][data-platform="${platform}"]`);
    await expect.poll(() => consoleRow("Android").getAttribute("data-state"), { timeout: 10_000 }).toBe("open");
    await expect.poll(() => consoleRow("Web").getAttribute("data-state"), { timeout: 10_000 }).toBe("open");

    await manage(page, uid);
    const serverRows = page.locator("#user-sessions tr");
    await expect.poll(() => serverRows.count(), { timeout: 10_000 }).toBe(2);
    const sessions = (await post("/manager/get_user_sessions", { uid })).data as { connID: string; platform: string }[];
    const android = sessions.find((session) => session.platform === "Android");
    expect(await page.locator("#user-sessions tr[data-platform=Android] td").first().textContent()).toBe(
      android?.connID,
    );

    await page.click("#user-sessions tr[data-platform=Android] button.kick");
    await expect.poll(() => consoleRow("Android").getAttribute("data-state"), { timeout: 10_000 }).toBe("closed");
    expect(await consoleRow("Android").locator("td.state").textContent()).toBe("closed 4002 (logged out)");
    // Shown again after the kick: only the Web session is left, and it stays open.
    await expect.poll(() => serverRows.count(), { timeout: 10_000 }).toBe(1);
    expect(await serverRows.first().getAttribute("data-platform")).toBe("Web");
    expect(await consoleRow("Web").getAttribute("data-state")).toBe("open");
    expect(await logLines(page)).toContainEqual(
      expect.stringContaining(`kicked session ${android?.connID} of ${uid} on Android`),
    );

    await page.selectOption("#logout-platform", "5");
    await page.click("#logout-submit");
    await expect.poll(() => consoleRow("Web").getAttribute("data-state"), { timeout: 10_000 }).toBe("closed");
    expect(await consoleRow("Web").locator("td.state").textContent()).toBe("closed 4002 (logged out)");
    await expect.poll(() => serverRows.count(), { timeout: 10_000 }).toBe(0);
    expect((await post("/manager/get_user_sessions", { uid })).data).toEqual([]);
    expect(pageProblems.get(page)).toEqual([]);
  });

  it("bans a user until the moment chosen: the console's session closes with 4006 and says until when, without retrying, until the ban is lifted", async () => {
    const { uid, page } = await consoleWithUser("banned", "Banned");
    await openedSession(page, uid, 2);

    await manage(page, uid);
    const until = new Date(Date.now() + 3_600_000);
    until.setSeconds(0, 0);
    const untilSeconds = until.getTime() / 1000;
    await page.fill("#ban-until", localMinute(until));
    await page.fill("#ban-reason", "spam");
    await page.click("#ban-submit");
    await expect.poll(() => sessionRows(page, uid).getAttribute("data-state"), { timeout: 10_000 }).toBe("closed");
    expect(await sessionRows(page, uid).locator("td.state").textContent()).toMatch(
      new RegExp(`^closed 4006 \\(banned until .+ \\(${untilSeconds}\\)\\)$`),
    );
    expect(await page.textContent("#moderation-result")).toMatch(
      new RegExp(`^banned ${uid} until .+ \\(${untilSeconds}\\)$`),
    );
    await expect.poll(() => page.textContent("#profile-note"), { timeout: 10_000 }).toContain(`banned until`);
    const [info] = (await post("/user/get_user_info", { uidList: [uid] })).data as { bannedUntil?: number }[];
    expect(info?.bannedUntil).toBe(untilSeconds);
    // Stopped: no socket follows the one the ban closed.
    await sleep(2_000);
    expect(socketsOf(page, uid)).toHaveLength(1);
    expect(await sessionRows(page, uid).getAttribute("data-state")).toBe("closed");

    // While banned, a new session is refused its token (603), said in the log.
    await openSession(page, uid, 2);
    await expect
      .poll(() => logLines(page), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining("/auth/user_token: 403/603 the user is banned until"));

    await page.click("#ban-lift");
    await expect
      .poll(() => page.textContent("#moderation-result"), { timeout: 10_000 })
      .toBe(`lifted the ban of ${uid}`);
    await expect.poll(() => page.textContent("#profile-note"), { timeout: 10_000 }).not.toContain("banned");
    await openedSession(page, uid, 2, 1);
    expect(scriptErrors(page)).toEqual([]);
  });

  it("deletes a user after a confirm step: the console's session closes with 4005 and stays closed, the profile is gone, failedUidList is shown", async () => {
    const { uid, page } = await consoleWithUser("deleted", "Deleted");
    await openedSession(page, uid, 2);
    await manage(page, uid);
    await expect.poll(() => page.inputValue("#profile-name"), { timeout: 10_000 }).toBe("Deleted");

    // The first click only asks; Cancel leaves the user be.
    await page.click("#delete-start");
    expect(await page.isVisible("#delete-confirm")).toBe(true);
    expect(await page.textContent("#delete-confirm")).toBe(`Delete ${uid} for good`);
    await page.click("#delete-cancel");
    expect(await page.isVisible("#delete-confirm")).toBe(false);
    expect((await post("/user/get_user_info", { uidList: [uid] })).data).toHaveLength(1);

    await page.click("#delete-start");
    await page.click("#delete-confirm");
    await expect
      .poll(() => page.textContent("#moderation-result"), { timeout: 10_000 })
      .toBe(`delete_user ${uid}: failedUidList []`);
    await expect.poll(() => sessionRows(page, uid).getAttribute("data-state"), { timeout: 10_000 }).toBe("closed");
    expect(await sessionRows(page, uid).locator("td.state").textContent()).toBe("closed 4005 (account deleted)");
    await expect.poll(() => page.textContent("#profile-note"), { timeout: 10_000 }).toBe(`${uid} is not registered`);
    await expect.poll(() => page.textContent("#user-sessions-note"), { timeout: 10_000 }).toContain("404/602");
    expect((await post("/user/get_user_info", { uidList: [uid] })).data).toEqual([]);
    await sleep(2_000);
    expect(socketsOf(page, uid)).toHaveLength(1);

    // A uid that is not registered comes back in failedUidList.
    await page.click("#delete-start");
    await page.click("#delete-confirm");
    await expect
      .poll(() => page.textContent("#moderation-result"), { timeout: 10_000 })
      .toBe(`delete_user ${uid}: failedUidList ["${uid}"]`);
    expect(scriptErrors(page)).toEqual([]);
  });

  it("sets background, a custom status that expires by itself and invisible from a session's row: the watched list shows what a watcher sees, the status lookup the truth", async () => {
    const { uid, page } = await consoleWithUser("presence", "Presence");
    const row = await openedSession(page, uid, 2);
    const note = row.locator(".presence-note");
    await expect.poll(() => platformCell(page, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");
    await manage(page, uid);
    await expect.poll(() => lookupRow(page).getAttribute("data-status"), { timeout: 10_000 }).toBe("online");
    expect(await lookupRow(page).locator("td.platforms").textContent()).toBe("Android");

    // Background: the SDK's setBackground, a set frame on that session's own socket.
    await row.locator("input.background").check();
    expect(await note.textContent()).toBe("setBackground(true): sent");
    await expect
      .poll(() => socketsOf(page, uid)[0]?.sent, { timeout: 10_000 })
      .toContain('{"type":"set","background":true}');
    await expect.poll(() => platformCell(page, uid, "Android").textContent(), { timeout: 10_000 }).toBe("background");
    expect(await watchedRow(page, uid).getAttribute("data-status")).toBe("online");
    expect(await watchedRow(page, uid).getAttribute("data-background")).toBe("Android");
    await expect.poll(() => lookedUp(page, "platforms"), { timeout: 10_000 }).toBe("Android (background)");
    expect(await lookupRow(page).getAttribute("data-background")).toBe("Android");
    expect(await statusOf(uid)).toMatchObject({
      status: "online",
      detailPlatformStatus: [{ platform: "Android", status: "online", isBackground: true }],
    });

    // A custom status about 3 s ahead: the watched list shows it, then drops it at its expiry, with no click.
    const expiresAt = Math.ceil(Date.now() / 1000) + 3;
    await row.locator("input.status-text").fill("In a meeting");
    await row.locator("input.status-until").fill(localSecond(new Date(expiresAt * 1000)));
    await row.locator("button.status-set").click();
    expect(await note.textContent()).toBe(`setCustomStatus({"text":"In a meeting","expiresAt":${expiresAt}}): sent`);
    await expect
      .poll(() => socketsOf(page, uid)[0]?.sent, { timeout: 2_500, interval: 100 })
      .toContain(`{"type":"set","customStatus":{"text":"In a meeting","expiresAt":${expiresAt}}}`);
    const customStatus = watchedRow(page, uid).locator("td.custom-status");
    await expect
      .poll(() => customStatus.textContent(), { timeout: 2_500, interval: 100 })
      .toMatch(new RegExp(`^"In a meeting" until .+ \\(${expiresAt}\\)$`));
    expect(Date.now()).toBeLessThan(expiresAt * 1000);
    const requestsBefore = pageRequests.get(page)?.length ?? 0;
    await expect.poll(() => customStatus.textContent(), { timeout: 10_000, interval: 100 }).toBe("");
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt * 1000);
    // Nothing was asked for it: the server's entry without it came over the watcher's socket.
    expect(new Set(pageRequests.get(page)?.slice(requestsBefore))).toEqual(new Set(["/console/events"]));
    expect(await platformCell(page, uid, "Android").textContent()).toBe("background");

    // Invisible: watchers see the user offline; the AppServer still sees it online, in the background, invisible.
    await row.locator("input.invisible").check();
    expect(await note.textContent()).toBe("setInvisible(true): sent");
    await expect
      .poll(() => socketsOf(page, uid)[0]?.sent, { timeout: 10_000 })
      .toContain('{"type":"set","invisible":true}');
    await expect.poll(() => watchedRow(page, uid).getAttribute("data-status"), { timeout: 10_000 }).toBe("offline");
    expect(await platformCell(page, uid, "Android").textContent()).toBe("–");
    expect(await watchedRow(page, uid).locator("td.last-seen").textContent()).not.toBe("");
    await expect.poll(() => lookedUp(page, "invisible"), { timeout: 10_000 }).toBe("invisible");
    expect(await lookupRow(page).getAttribute("data-status")).toBe("online");
    expect(await lookupRow(page).getAttribute("data-invisible")).toBe("true");
    expect(await lookupRow(page).locator("td.platforms").textContent()).toBe("Android (background)");
    expect(await row.getAttribute("data-state")).toBe("open");

    // Visible and in the foreground again.
    await row.locator("input.invisible").uncheck();
    await row.locator("input.background").uncheck();
    await expect.poll(() => platformCell(page, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");
    await expect.poll(() => lookedUp(page, "platforms"), { timeout: 10_000 }).toBe("Android");
    expect(await lookupRow(page).getAttribute("data-invisible")).toBeNull();
    expect(scriptErrors(page)).toEqual([]);
  });

  it("shows the error frame that refuses a session's set, and the set changes nothing", async () => {
    const { uid, page } = await consoleWithUser("refused", "Refused");
    const row = await openedSession(page, uid, 2);

    // The SDK checks a status by this machine's clock, the server by its own. A page an hour behind the
    // server passes an expiry 30 minutes ahead of it, which the server finds half an hour past: refused whole.
    await page.evaluate(() => {
      const clock = globalThis as unknown as { realNow?: () => number };
      clock.realNow = Date.now;
      Date.now = () => (clock.realNow?.() ?? 0) - 3_600_000;
    });
    await row.locator("input.status-text").fill("Late");
    await row.locator("input.status-minutes").fill("30");
    await row.locator("button.status-set").click();
    const note = row.locator(".presence-note.refused");
    await expect
      .poll(() => note.textContent(), { timeout: 10_000 })
      .toBe("refused: error frame 400: customStatus.expiresAt: must be in the future (Unix seconds)");
    // It went out, with an expiry already past by the real clock.
    const sentLate = socketsOf(page, uid)[0]?.sent.find((text) => text.includes('"Late"')) ?? "";
    expect(sentLate).toMatch(/^\{"type":"set","customStatus":\{"text":"Late","expiresAt":\d+\}\}$/);
    const lateAt = (JSON.parse(sentLate) as { customStatus: { expiresAt: number } }).customStatus.expiresAt;
    expect(lateAt).toBeLessThan(Date.now() / 1000 - 1700);
    expect(await logLines(page)).toContainEqual(
      expect.stringMatching(new RegExp(`^.*session ${uid} on Android: error frame 400: customStatus\\.`)),
    );
    expect(await statusOf(uid)).not.toHaveProperty("customStatus");
    expect(await row.getAttribute("data-state")).toBe("open");
    await page.evaluate(() => {
      const clock = globalThis as unknown as { realNow?: () => number };
      if (clock.realNow) Date.now = clock.realNow;
    });

    // The next set that goes out clears the refusal.
    await row.locator("input.status-text").fill("Fine");
    await row.locator("input.status-minutes").fill("");
    await row.locator("button.status-set").click();
    expect(await row.locator(".presence-note").textContent()).toBe('setCustomStatus({"text":"Fine"}): sent');
    expect(await row.locator(".presence-note.refused").count()).toBe(0);
    await expect.poll(async () => (await statusOf(uid))?.customStatus, { timeout: 10_000 }).toEqual({ text: "Fine" });
    expect(scriptErrors(page)).toEqual([]);
  });

  it("shows the client SDK's refusal of a session's custom status in the row, and sends nothing", async () => {
    const { uid, page } = await consoleWithUser("local", "Local");
    const row = await openedSession(page, uid, 2);
    const note = row.locator(".presence-note");

    // An expiry 31 days ahead: the SDK's RangeError names the rule, and no frame goes.
    await row.locator("input.status-text").fill("Sabbatical");
    await row.locator("input.status-until").fill(localSecond(new Date(Date.now() + 31 * 86_400_000)));
    await row.locator("button.status-set").click();
    expect(await note.textContent()).toBe(
      "refused before sending: customStatus.expiresAt: must be at most 30 days ahead",
    );
    expect(await note.getAttribute("class")).toContain("refused");
    expect(await logLines(page)).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `session ${uid} on Android: setCustomStatus\\(.*"Sabbatical".*\\) refused before sending: customStatus\\.expiresAt: must be at most 30 days ahead$`,
        ),
      ),
    );
    // An empty text, the same.
    await row.locator("input.status-text").fill("");
    await row.locator("input.status-until").fill("");
    await row.locator("button.status-set").click();
    expect(await note.textContent()).toBe("refused before sending: customStatus.text: must not be empty");
    expect(await note.getAttribute("class")).toContain("refused");

    // The next set goes out, and is the only one the socket carried.
    await row.locator("input.status-text").fill("Back");
    await row.locator("button.status-set").click();
    expect(await note.textContent()).toBe('setCustomStatus({"text":"Back"}): sent');
    expect(await note.getAttribute("class")).not.toContain("refused");
    const setFrames = () => (socketsOf(page, uid)[0]?.sent ?? []).filter((text) => text.startsWith('{"type":"set"'));
    await expect.poll(setFrames, { timeout: 10_000 }).toEqual(['{"type":"set","customStatus":{"text":"Back"}}']);
    await expect.poll(async () => (await statusOf(uid))?.customStatus, { timeout: 10_000 }).toEqual({ text: "Back" });
    expect(scriptErrors(page)).toEqual([]);
  });

  it("shows and sets the managed user's custom status with set_custom_status, and logs a refused one", async () => {
    const { uid, page } = await consoleWithUser("custom", "Custom");
    await page.fill("#watch-uid", uid);
    await page.click("#watch-add");
    await manage(page, uid);
    await expect.poll(() => lookupRow(page).getAttribute("data-status"), { timeout: 10_000 }).toBe("offline");
    expect(await lookupRow(page).locator("td.custom-status").textContent()).toBe("");

    const before = Math.round(Date.now() / 1000);
    await page.fill("#custom-status-text", "On holiday");
    await page.fill("#custom-status-minutes", "30");
    await page.click("#custom-status-set");
    const shown = /^"On holiday" until .+ \((\d+)\)$/;
    // Shown again after the call, with no Refresh.
    await expect
      .poll(() => lookupRow(page).locator("td.custom-status").textContent(), { timeout: 10_000 })
      .toMatch(shown);
    const expiresAt = Number(shown.exec((await lookupRow(page).locator("td.custom-status").textContent()) ?? "")?.[1]);
    expect(expiresAt - before).toBeGreaterThanOrEqual(1800);
    expect(expiresAt - before).toBeLessThanOrEqual(1805);
    expect(await statusOf(uid)).toEqual({
      userID: uid,
      status: "offline",
      customStatus: { text: "On holiday", expiresAt },
    });
    expect(await page.textContent("#custom-status-result")).toMatch(
      new RegExp(`^custom status of ${uid}: "On holiday" until`),
    );
    // Offline, the watchers see it too.
    await expect
      .poll(() => watchedRow(page, uid).locator("td.custom-status").textContent(), { timeout: 10_000 })
      .toMatch(shown);

    await page.fill("#custom-status-text", "x".repeat(129));
    await page.click("#custom-status-set");
    await expect
      .poll(() => page.textContent("#custom-status-result"), { timeout: 10_000 })
      .toMatch(/^\/user\/set_custom_status: 400\/400 customStatus\.text: /);
    expect(await logLines(page)).toContainEqual(expect.stringContaining("/user/set_custom_status: 400/400"));
    expect((await statusOf(uid))?.customStatus).toEqual({ text: "On holiday", expiresAt });

    await page.click("#custom-status-clear");
    await expect
      .poll(() => page.textContent("#custom-status-result"), { timeout: 10_000 })
      .toBe(`cleared the custom status of ${uid}`);
    await expect.poll(() => lookupRow(page).locator("td.custom-status").textContent(), { timeout: 10_000 }).toBe("");
    await expect
      .poll(() => watchedRow(page, uid).locator("td.custom-status").textContent(), { timeout: 10_000 })
      .toBe("");
    expect(await statusOf(uid)).not.toHaveProperty("customStatus");

    const ghost = freshUid("ghost");
    await manage(page, ghost);
    await page.fill("#custom-status-text", "Nobody");
    await page.click("#custom-status-set");
    await expect.poll(() => page.textContent("#custom-status-result"), { timeout: 10_000 }).toContain("404/602");
    expect(scriptErrors(page)).toEqual([]);
  });

  it("adds presence grants, lists them a page at a time, and removes one", async () => {
    const { uid, page } = await consoleWithUser("grants", "Grants");
    await page.fill("#grants-limit", "2");
    await manage(page, uid);
    const listed = () => page.locator("#grants tr").allTextContents();
    await expect
      .poll(() => page.textContent("#grants-note"), { timeout: 10_000 })
      .toBe(`${uid}: page 1, 0 uid(s), the last page`);
    expect(await page.isDisabled("#grants-next")).toBe(true);

    await page.fill("#grants-uids", "grant-c, grant-a grant-b");
    await page.click("#grants-add");
    await expect.poll(() => page.locator("#grants tr").count(), { timeout: 10_000 }).toBe(2);
    expect(await page.locator("#grants tr td:first-child").allTextContents()).toEqual(["grant-a", "grant-b"]);
    expect(await page.textContent("#grants-note")).toBe(`${uid}: page 1, 2 uid(s), more on the next`);
    expect(await logLines(page)).toContainEqual(
      expect.stringContaining(`presence grants of ${uid}: granted grant-c, grant-a, grant-b`),
    );
    expect(await post("/manager/get_presence_grants", { uid })).toMatchObject({
      errCode: 0,
      userIDList: ["grant-a", "grant-b", "grant-c"],
    });

    await page.click("#grants-next");
    await expect
      .poll(() => page.textContent("#grants-note"), { timeout: 10_000 })
      .toBe(`${uid}: page 2, 1 uid(s), the last page`);
    expect(await page.locator("#grants tr td:first-child").allTextContents()).toEqual(["grant-c"]);
    expect(await page.isDisabled("#grants-next")).toBe(true);

    await page.click('#grants tr[data-uid="grant-c"] button.remove');
    await expect.poll(listed, { timeout: 10_000 }).toEqual([]);
    expect(await post("/manager/get_presence_grants", { uid })).toMatchObject({ userIDList: ["grant-a", "grant-b"] });
    await page.click("#grants-first");
    await expect
      .poll(() => page.textContent("#grants-note"), { timeout: 10_000 })
      .toBe(`${uid}: page 1, 2 uid(s), the last page`);

    // A refusal, as the other panels show one: a uid over 64 characters is a 400.
    await page.fill("#grants-uids", "x".repeat(65));
    await page.click("#grants-add");
    await expect
      .poll(() => page.textContent("#grants-note"), { timeout: 10_000 })
      .toMatch(/^\/manager\/set_presence_grants: 400\/400 /);
    const ghost = freshUid("ghost");
    await manage(page, ghost);
    await expect.poll(() => page.textContent("#grants-note"), { timeout: 10_000 }).toContain("404/602");
    expect(await page.locator("#grants tr").count()).toBe(0);
    expect(scriptErrors(page)).toEqual([]);
  });

  it("watches as a new user when the tab's own user is deleted", async () => {
    await closeOtherPages();
    const page = await openConsole();
    await page.fill("#watch-uid", freshUid("watched"));
    await page.click("#watch-add");
    await expect.poll(() => page.textContent("#status-note"), { timeout: 10_000 }).toBe("live");
    const first = (await page.textContent("#watcher")) ?? "";
    expect(await post("/manager/delete_user", { deleteUidList: [first] })).toMatchObject({ failedUidList: [] });
    await expect.poll(() => page.textContent("#watcher"), { timeout: 10_000 }).not.toBe(first);
    await expect.poll(() => page.textContent("#status-note"), { timeout: 10_000 }).toBe("live");
    expect(await logLines(page)).toContainEqual(
      expect.stringContaining("watcher socket closed 4005 (account deleted); watching as a new user"),
    );
    expect(socketsOf(page, first)).toHaveLength(1);
    // No token was asked for the deleted uid: its 404 would be among the page's problems.
    expect(pageProblems.get(page)).toEqual([]);
  });
});
