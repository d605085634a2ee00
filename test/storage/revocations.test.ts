import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RevocationStore } from "../../src/storage/revocations";
import { freshUid } from "../helpers";
import { sessionStub } from "../presence/helpers";

describe("RevocationStore", () => {
  it("keeps force_logout cutoffs through any prune, and upgrades an object whose cutoffs had an expiry column", async () => {
    await runInDurableObject(sessionStub(freshUid()), (_instance, state) => {
      const sql = state.storage.sql;
      // The shape objects were created with before cutoffs were kept for good.
      sql.exec("DROP TABLE logout_cutoffs");
      sql.exec("CREATE TABLE logout_cutoffs (platform INTEGER PRIMARY KEY, cutoff_ms INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL)");
      sql.exec("INSERT INTO logout_cutoffs VALUES (1, 1000, 2000)");

      const store = new RevocationStore(sql);
      store.revokePlatformUpTo(2, 5_000);
      store.revokeToken("kicked", 3_000);
      store.prune(10_000);

      expect(store.isRevoked({ jti: "a", platform: 1, issuedAtMs: 1_000 })).toBe(true);
      expect(store.isRevoked({ jti: "b", platform: 1, issuedAtMs: 1_001 })).toBe(false);
      expect(store.isRevoked({ jti: "c", platform: 2, issuedAtMs: 5_000 })).toBe(true);
      expect(store.isRevoked({ jti: "kicked", platform: 3, issuedAtMs: 9_000 })).toBe(false);
    });
  });
});
