import type { PlatformId } from "../platforms";

/**
 * Invalidated tokens, in the user's Durable Object's own SQLite storage so
 * they survive eviction. Two kinds:
 * - a single token (by jti), invalidated when its session is kicked;
 * - every token of a platform issued up to a moment, set by force_logout.
 * Each row carries the time after which it no longer matters, because every
 * token it could match has expired anyway.
 */
export class RevocationStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS revoked_tokens (
      jti TEXT PRIMARY KEY,
      expires_at_ms INTEGER NOT NULL
    )`);
    sql.exec(`CREATE TABLE IF NOT EXISTS logout_cutoffs (
      platform INTEGER PRIMARY KEY,
      cutoff_ms INTEGER NOT NULL,
      expires_at_ms INTEGER NOT NULL
    )`);
  }

  revokeToken(jti: string, expiresAtMs: number): void {
    this.sql.exec(
      `INSERT INTO revoked_tokens (jti, expires_at_ms) VALUES (?, ?)
       ON CONFLICT (jti) DO NOTHING`,
      jti,
      expiresAtMs,
    );
  }

  /** Invalidates every token of the platform issued at or before cutoffMs. */
  revokePlatformUpTo(platform: PlatformId, cutoffMs: number, tokenTtlMs: number): void {
    this.sql.exec(
      `INSERT INTO logout_cutoffs (platform, cutoff_ms, expires_at_ms) VALUES (?1, ?2, ?3)
       ON CONFLICT (platform) DO UPDATE SET
         cutoff_ms = max(cutoff_ms, ?2), expires_at_ms = max(expires_at_ms, ?3)`,
      platform,
      cutoffMs,
      cutoffMs + tokenTtlMs,
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

  /** Drops rows that can no longer match a live token. */
  prune(nowMs: number): void {
    this.sql.exec("DELETE FROM revoked_tokens WHERE expires_at_ms <= ?", nowMs);
    this.sql.exec("DELETE FROM logout_cutoffs WHERE expires_at_ms <= ?", nowMs);
  }

}
