import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("the dev console when CONSOLE_ENABLED is not set (as deployed)", () => {
  for (const path of ["/console", "/console/", "/console/app.js"]) {
    it(`answers GET ${path} with the 404 envelope`, async () => {
      const response = await SELF.fetch(`http://im.test${path}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ errCode: 404, errMsg: expect.any(String) });
    });
  }
});
