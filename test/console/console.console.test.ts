import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("the dev console when CONSOLE_ENABLED is true", () => {
  it("serves the page with a same-origin-only policy and no inline script", async () => {
    const response = await SELF.fetch("http://im.test/console");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Content-Security-Policy")).toMatch(/script-src 'self'.*connect-src 'self'/);
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/console/app.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
    for (const id of ["secret", "reg-uid", "reg-submit", "session-uid", "session-platform", "session-open", "watch-uid", "status-table"]) {
      expect(html).toContain(`id="${id}"`);
    }
  });

  it("serves its script, which heartbeats with the exact text ping", async () => {
    const response = await SELF.fetch("http://im.test/console/app.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    const script = await response.text();
    expect(script).toContain('const PING = "ping", PONG = "pong";');
    expect(script).toContain('"5":"Web"');
    expect(script).not.toContain("__PLATFORMS__");
  });
});
