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

  it("serves a script that asks for the webhook list with the secret, and not again with one that was refused", async () => {
    const script = await (await SELF.fetch("http://im.test/console/app.js")).text();
    expect(script).toContain('deliveries = (await api("/console/events", {})).data;');
    expect(script).toContain("if (!secret || secret === refusedEventsSecret) return;");
    expect(script).not.toContain('fetch("/console/events")');
  });

  it("serves its script, which heartbeats with the exact text ping", async () => {
    const response = await SELF.fetch("http://im.test/console/app.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    const script = await response.text();
    expect(script).toContain('const PING = "ping", PONG = "pong";');
    expect(script).toContain('"5":"Web"');
    expect(script).not.toMatch(/__[A-Z_]+__/);
  });

  it("serves a script that watches users over its own socket, in frames of at most 200 ids, and never polls the status route", async () => {
    const script = await (await SELF.fetch("http://im.test/console/app.js")).text();
    expect(script).toContain("const MAX_IDS_PER_FRAME = 200, KICKED = 4001;");
    expect(script).toContain('sendIds("subscribe", [...watched])');
    expect(script).toContain('sendIds("unsubscribe", removed)');
    expect(script).not.toContain("/user/get_users_online_status");
  });
});
