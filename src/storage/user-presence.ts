/** What a user's object last reported about itself: one row, written only on a change. */
export interface StoredPresence {
  /** +1 on every change of the live platforms. */
  seq: number;
  /** platformMask of the live platforms. */
  platforms: number;
  /** When the last live session ended; absent until the user has been online. */
  lastSeenMs?: number;
}

const NEVER_ONLINE: StoredPresence = { seq: 0, platforms: 0 };

export class UserPresenceStore {
  private cached?: StoredPresence;

  constructor(private readonly sql: SqlStorage) {}

  read(): StoredPresence {
    this.cached ??=
      this.sql
        .exec<{ seq: number; platforms: number; last_seen_ms: number | null }>(
          "SELECT seq, platforms, last_seen_ms FROM presence_state WHERE id = 1",
        )
        .toArray()
        .map((row) => ({ seq: row.seq, platforms: row.platforms, lastSeenMs: row.last_seen_ms ?? undefined }))[0] ??
      NEVER_ONLINE;
    return this.cached;
  }

  write(state: StoredPresence): void {
    this.sql.exec(
      `INSERT INTO presence_state (id, seq, platforms, last_seen_ms) VALUES (1, ?1, ?2, ?3)
       ON CONFLICT (id) DO UPDATE SET seq = ?1, platforms = ?2, last_seen_ms = ?3`,
      state.seq,
      state.platforms,
      state.lastSeenMs ?? null,
    );
    this.cached = state;
  }
}
