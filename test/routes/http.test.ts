import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { post, SECRET } from "../helpers";

describe("HTTP surface", () => {
  it("answers an unknown path with 404 in the envelope", async () => {
    const response = await SELF.fetch("http://im.test/nope", { method: "POST" });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errCode: 404, errMsg: expect.stringContaining("/nope") });
  });

  for (const path of ["/", "/ws"]) {
    it(`answers GET ${path} without an upgrade with 426, Upgrade: websocket and errCode 400`, async () => {
      const response = await SELF.fetch(`http://im.test${path}?sendID=a&token=b&platformID=1`);
      expect(response.status).toBe(426);
      // RFC 9110 §15.5.22: a 426 must say what to upgrade to.
      expect(response.headers.get("Upgrade")).toBe("websocket");
      expect(await response.json()).toEqual({ errCode: 400, errMsg: "expected a WebSocket upgrade" });
    });
  }

  it("answers a body over 64 KiB with 413/413", async () => {
    const answer = await post("/user/get_users_online_status", {
      secret: SECRET,
      userIDList: [],
      pad: "x".repeat(70_000),
    });
    expect(answer.status).toBe(413);
    expect(answer.body.errCode).toBe(413);
    expect(answer.body.errMsg).toMatch(/too large/);
  });

  it("answers a body that is not JSON-typed with a 4xx envelope", async () => {
    const answer = await post("/user/get_users_online_status", JSON.stringify({ secret: SECRET, userIDList: [] }), {
      "Content-Type": "text/plain",
    });
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({ errCode: 400, errMsg: "Content-Type must be application/json" });
  });

  it("answers invalid UTF-8 with 400", async () => {
    const response = await SELF.fetch("http://im.test/auth/user_register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ errCode: 400, errMsg: "body is not valid UTF-8" });
  });
});

describe("methods and nesting", () => {
  it("answers a known path with the wrong method with 405, an Allow header and the envelope", async () => {
    for (const [path, method, allowed] of [
      ["/auth/user_register", "GET", "POST"],
      ["/user/get_users_online_status", "PUT", "POST"],
      ["/auth/force_logout", "DELETE", "POST"],
      ["/ws", "POST", "GET, HEAD"],
    ] as const) {
      const response = await SELF.fetch(`http://im.test${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("Allow")).toBe(allowed);
      expect(await response.json()).toMatchObject({ errCode: 405, errMsg: expect.stringContaining(allowed) });
    }
  });

  it("answers deeply nested JSON with 400 before parsing it", async () => {
    const deep = `{"secret":"${SECRET}","userIDList":[],"x":${"[".repeat(5_000)}${"]".repeat(5_000)}}`;
    const answer = await post("/user/get_users_online_status", deep);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ errCode: 400, errMsg: "body nests deeper than 16 levels" });
  });

  it("does not count brackets inside strings as nesting", async () => {
    const answer = await post("/user/get_users_online_status", {
      secret: SECRET,
      userIDList: ["[[[[[[[[[[[[[[[[[[[[[[["],
    });
    expect(answer.status).toBe(200);
  });
});
