import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RevocationStore } from "../../src/storage/revocations";
import { freshUid } from "../helpers";
import { sessionStub } from "../presence/helpers";

describe("RevocationStore", () => {
  it("keeps force_logout cutoffs through any prune, and prunes a kicked token after its own expiry", async () => {
    await runInDurableObject(sessionStub(freshUid()), (_instance, state) => {
      const store = new RevocationStore(state.storage.sql);
      store.revokePlatformUpTo(1, 1_000);
      store.revokePlatformUpTo(2, 5_000);
      store.revokeToken("kicked", 3_000);
      expect(store.isRevoked({ jti: "kicked", platform: 3, issuedAtMs: 9_000 })).toBe(true);
      store.prune(10_000);

      expect(store.isRevoked({ jti: "a", platform: 1, issuedAtMs: 1_000 })).toBe(true);
      expect(store.isRevoked({ jti: "b", platform: 1, issuedAtMs: 1_001 })).toBe(false);
      expect(store.isRevoked({ jti: "c", platform: 2, issuedAtMs: 5_000 })).toBe(true);
      expect(store.isRevoked({ jti: "kicked", platform: 3, issuedAtMs: 9_000 })).toBe(false);
    });
  });
});
