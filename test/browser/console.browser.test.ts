/// <reference types="node" />
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { appServer, freshUid, workerUrl } from "../node/helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let context: BrowserContext;
let profileDir: string;
/** Script errors each page logged: the console must run clean under its CSP. */
const pageProblems = new Map<Page, string[]>();

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run the browser tests with npm run test:browser`);
  profileDir = mkdtempSync(join(tmpdir(), "imserver-chromium-"));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

async function openConsole(): Promise<Page> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  await page.goto(`${workerUrl()}/console`);
  await page.fill("#secret", inject("imSecret"));
  pageProblems.set(page, problems);
  return page;
}

function platformCell(page: Page, uid: string, platform: string) {
  return page.locator(`#status-table tr[data-uid="${uid}"] td[data-platform="${platform}"]`);
}

describe("the dev console in a real browser", () => {
  it("registers a user on one page, opens a session there, and another page sees it come online and go offline", async () => {
    const uid = freshUid("console");
    const operator = await openConsole();
    const watcher = await openConsole();

    // The watcher follows the uid before it exists: unknown uids are offline.
    await watcher.fill("#watch-uid", uid);
    await watcher.click("#watch-add");
    await expect.poll(() => watcher.locator(`#status-table tr[data-uid="${uid}"]`).getAttribute("data-status"), { timeout: 10_000 }).toBe("offline");

    await operator.fill("#reg-uid", uid);
    await operator.fill("#reg-name", "Console User");
    await operator.click("#reg-submit");
    await expect.poll(() => operator.textContent("#reg-result"), { timeout: 10_000 }).toBe(`registered ${uid}`);

    await operator.fill("#session-uid", uid);
    await operator.selectOption("#session-platform", "2");
    await operator.click("#session-open");
    await expect.poll(() => operator.locator(`#sessions tr[data-uid="${uid}"] td`).nth(2).textContent(), { timeout: 10_000 }).toBe("open");

    await expect.poll(() => platformCell(watcher, uid, "Android").textContent(), { timeout: 10_000 }).toBe("online");
    expect(await platformCell(watcher, uid, "Web").textContent()).toBe("–");
    expect(await watcher.locator(`#status-table tr[data-uid="${uid}"]`).getAttribute("data-status")).toBe("online");

    // What the watcher shows is what the API says.
    const [status] = await appServer().getUsersOnlineStatus([uid]);
    expect(status).toEqual({ userID: uid, status: "online", detailPlatformStatus: [{ platform: "Android", status: "online" }] });

    await operator.click(`#sessions tr[data-uid="${uid}"] button.disconnect`);
    await expect.poll(() => platformCell(watcher, uid, "Android").textContent(), { timeout: 10_000 }).toBe("–");

    for (const page of [operator, watcher]) {
      expect(pageProblems.get(page)).toEqual([]);
    }
  });

  it("shows the error envelope's code when the secret is wrong", async () => {
    const page = await openConsole();
    await page.fill("#secret", "wrong-secret");
    await page.fill("#reg-uid", freshUid("console"));
    await page.click("#reg-submit");
    await expect.poll(() => page.textContent("#reg-result"), { timeout: 10_000 }).toContain("401/401");
  });
});
