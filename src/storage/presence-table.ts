import type { PlatformId } from "../platforms";

/** One platform of one user, live until a moment (heartbeat deadline or token expiry). */
export interface PlatformPresence {
  platform: PlatformId;
  liveUntilMs: number;
}

/**
 * A presence index shard's table: the last state each user object published.
 * Entries carry their own deadline, so a user whose object vanished (crash,
 * deploy) drops out by itself when the deadline passes.
 */
export class PresenceTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS presence (
      uid TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      live_until_ms INTEGER NOT NULL,
      platforms TEXT NOT NULL
    )`);
  }

  /** Stores a user's state unless a newer one is already there. Returns whether it was applied. */
  write(uid: string, version: number, platforms: PlatformPresence[]): boolean {
    const liveUntil = Math.max(0, ...platforms.map((p) => p.liveUntilMs));
    const cursor = this.sql.exec(
      `INSERT INTO presence (uid, version, live_until_ms, platforms) VALUES (?1, ?2, ?3, ?4)
       ON CONFLICT (uid) DO UPDATE SET version = ?2, live_until_ms = ?3, platforms = ?4
       WHERE excluded.version > presence.version`,
      uid,
      version,
      liveUntil,
      JSON.stringify(platforms),
    );
    return cursor.rowsWritten > 0;
  }

  /** Platforms live at nowMs for each of the uids that has any. */
  read(uids: readonly string[], nowMs: number): Map<string, PlatformId[]> {
    const live = new Map<string, PlatformId[]>();
    const rows = this.sql.exec<{ uid: string; platforms: string }>(
      `SELECT p.uid, p.platforms FROM presence p
       WHERE p.uid IN (SELECT value FROM json_each(?1)) AND p.live_until_ms > ?2`,
      JSON.stringify(uids),
      nowMs,
    );
    for (const row of rows) {
      const entries = JSON.parse(row.platforms) as PlatformPresence[];
      const platforms = entries.filter((e) => e.liveUntilMs > nowMs).map((e) => e.platform);
      if (platforms.length > 0) live.set(row.uid, platforms.sort((a, b) => a - b));
    }
    return live;
  }

  /** Forgets users who have been offline for a while; keeps the table small. */
  prune(olderThanMs: number): void {
    this.sql.exec("DELETE FROM presence WHERE live_until_ms < ?", olderThanMs);
  }
}
