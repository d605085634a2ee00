import type { PlatformId } from "../../protocol";

/**
 * Invalidated tokens, in the user's Durable Object's own SQLite storage so
 * they survive eviction. Two kinds:
 * - a single token (by jti), invalidated when its session is kicked. The row
 *   carries that token's own expiry and is pruned after it;
 * - every token of a platform issued up to a moment, set by force_logout.
 *   Kept for good, at most one row per platform (7 per user): the tokens it
 *   covers may carry any lifetime TOKEN_TTL ever had, longer than today's,
 *   so no expiry computed now is safe.
 */
export class RevocationStore {
  constructor(private readonly sql: SqlStorage) {}

  revokeToken(jti: string, expiresAtMs: number): void {
    this.sql.exec(
      `INSERT INTO revoked_tokens (jti, expires_at_ms) VALUES (?, ?)
       ON CONFLICT (jti) DO NOTHING`,
      jti,
      expiresAtMs,
    );
  }

  /** Invalidates every token of the platform issued at or before cutoffMs. */
  revokePlatformUpTo(platform: PlatformId, cutoffMs: number): void {
    this.sql.exec(
      `INSERT INTO logout_cutoffs (platform, cutoff_ms) VALUES (?1, ?2)
       ON CONFLICT (platform) DO UPDATE SET cutoff_ms = max(cutoff_ms, ?2)`,
      platform,
      cutoffMs,
    );
  }

  isRevoked(token: { jti: string; platform: PlatformId; issuedAtMs: number }): boolean {
    const byJti = this.sql.exec("SELECT 1 FROM revoked_tokens WHERE jti = ?", token.jti).toArray();
    if (byJti.length > 0) return true;
    const cutoff = this.sql
      .exec<{ cutoff_ms: number }>("SELECT cutoff_ms FROM logout_cutoffs WHERE platform = ?", token.platform)
      .toArray()[0];
    return cutoff !== undefined && token.issuedAtMs <= cutoff.cutoff_ms;
  }

  /** Forgets every invalidation (the user was deleted: its account epoch refuses all its tokens instead). */
  erase(): void {
    this.sql.exec("DELETE FROM revoked_tokens");
    this.sql.exec("DELETE FROM logout_cutoffs");
  }

  /** Drops kicked-token rows that can no longer match a live token (cutoffs stay, see above). */
  prune(nowMs: number): void {
    this.sql.exec("DELETE FROM revoked_tokens WHERE expires_at_ms <= ?", nowMs);
  }
}
