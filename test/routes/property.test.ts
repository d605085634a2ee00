import { env } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findUser } from "../../src/storage/users";
import { brokenBodies, hostileBodies } from "../arbitraries";
import { type ApiAnswer, post, register, SECRET } from "../helpers";

/**
 * Generated hostile input for every AppServer route. Whatever arrives, the
 * answer is a 2xx or 4xx envelope (docs/api.md#errors), and stored users only change when a
 * request succeeded.
 */

const ROUTES = hostileBodies(SECRET);

function expectEnvelope(status: number, body: ApiAnswer["body"]): void {
  expect(status >= 200 && status < 500, `status ${status}: ${JSON.stringify(body)}`).toBe(true);
  expect(typeof body.errCode).toBe("number");
  expect(typeof body.errMsg).toBe("string");
  expect(body.errCode === 0).toBe(status === 200);
  if (status !== 200) expect(body.errMsg.length).toBeGreaterThan(0);
}

describe("generated hostile requests", () => {
  for (const [path, arbitrary] of Object.entries(ROUTES)) {
    it(`${path}: only 2xx/4xx envelopes, and stored users change only on success`, async () => {
      // An existing user the generated requests may collide with.
      const existing = "pb-existing";
      if (!(await findUser(env.DB, existing))) await register(existing, { name: "keep me" });
      const existingBefore = await findUser(env.DB, existing);

      await fc.assert(
        fc.asyncProperty(arbitrary, fc.boolean(), async (body, collide) => {
          const sent: Record<string, unknown> = collide ? { ...body, uid: existing } : body;
          const uid = typeof sent.uid === "string" ? sent.uid : undefined;
          const before = uid ? await findUser(env.DB, uid) : null;

          const answer = await post(path, sent);
          expectEnvelope(answer.status, answer.body);

          if (uid) {
            const after = await findUser(env.DB, uid);
            const registered = path === "/auth/user_register" && answer.body.errCode === 0;
            if (registered) expect(after?.uid).toBe(uid);
            else expect(after).toEqual(before);
          }
        }),
        { numRuns: 150 },
      );
      expect(await findUser(env.DB, existing)).toEqual(existingBefore);
    });
  }

  it("raw bytes and broken JSON get a 4xx envelope", async () => {
    await fc.assert(
      fc.asyncProperty(brokenBodies, fc.constantFrom(...Object.keys(ROUTES)), async (text, path) => {
        const answer = await post(path, text);
        expectEnvelope(answer.status, answer.body);
      }),
      { numRuns: 200 },
    );
  });
});
