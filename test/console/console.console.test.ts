import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
// What scripts/build-console.mjs bundled for this run (vitest.config.ts builds it first).
import CONSOLE_BUNDLE from "../../dist/console/app.js.txt";

describe("the dev console when CONSOLE_ENABLED is true", () => {
  it("serves the page with a same-origin-only policy and no inline script", async () => {
    const response = await SELF.fetch("http://im.test/console");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Content-Security-Policy")).toMatch(/script-src 'self'.*connect-src 'self'/);
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/console/app.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    for (const id of [
      "secret",
      "reg-uid",
      "reg-submit",
      "session-uid",
      "session-platform",
      "session-open",
      "watch-uid",
      "watcher",
      "status-note",
      "status-table",
      "presence-lookup",
      "custom-status-text",
      "custom-status-set",
      "grants-uids",
      "grants-add",
      "grants-next",
    ]) {
      expect(html).toContain(`id="${id}"`);
    }
  });

  it("says plainly that the console and its webhook receiver are for local development only", async () => {
    const html = await (await SELF.fetch("http://im.test/console")).text();
    expect(html).toContain("<strong>For local development only.</strong> This console and its webhook receiver");
    expect(html).toContain("never set it on a deployed worker");
    expect(html).toContain("A receiver for local development only");
  });

  it("serves the bundle of src/console/client as a JavaScript module, under the same policy", async () => {
    const response = await SELF.fetch("http://im.test/console/app.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    expect(response.headers.get("Content-Security-Policy")).toMatch(/script-src 'self'/);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.text()).toBe(CONSOLE_BUNDLE);
  });

  it("serves a script built from the console's modules, the SDK and protocol/, not a copy of them", () => {
    // esbuild names each bundled source in a comment.
    for (const source of ["src/console/client/main.ts", "sdk/client.ts", "protocol/socket.ts"]) {
      expect(CONSOLE_BUNDLE).toContain(`// ${source}\n`);
    }
  });
});
