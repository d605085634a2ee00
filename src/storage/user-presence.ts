import type { PlatformId, PresenceEvent, PresenceEventReason } from "../../protocol";

/** An offline event held for the webhook grace: sent when `dueMs` passes, dropped if the platform comes back. */
export interface HeldOffline {
  platform: PlatformId;
  reason: Exclude<PresenceEventReason, "connect">;
  atMs: number;
  dueMs: number;
}

/**
 * A change of background held for the webhook grace: what receivers last
 * heard (`heard`, a platformMask), and when the `state` event is due if the
 * background still differs from it then. Undone within the grace, nothing is sent.
 */
export interface HeldBackground {
  heard: number;
  dueMs: number;
  /** The latest change of background while held: the event's `time`. */
  atMs: number;
}

/** While a user is invisible: since when, and what watchers see instead (offline since `lastSeenMs`, at `seq`). */
export interface Invisibility {
  sinceMs: number;
  seq: number;
  lastSeenMs?: number;
}

/** What a user sets about its own presence, beside its sockets (docs/protocol.md#your-own-presence). */
export interface PresenceSettings {
  invisible?: Invisibility;
  customStatus?: { text: string; expiresAtMs?: number };
}

/** What a user's object last reported about itself: one row, written only on a change. */
export interface StoredPresence {
  /** Per user, +1 on every change of a platform and every event sent after a hold; it only grows. */
  seq: number;
  /** platformMask of the live platforms. */
  platforms: number;
  /** platformMask of the live platforms whose every session is in the background. */
  background: number;
  /** When the last live session ended; absent until the user has been online. */
  lastSeenMs?: number;
  held: HeldOffline[];
  /** A background change held for the webhook grace, if any. */
  heldBackground?: HeldBackground;
  /** Events written with the change that made them and not yet handed to the queue (at least once). */
  outbox: PresenceEvent[];
  /** A publish to the shard failed; the object's alarm tries again. */
  publishPending: boolean;
  settings: PresenceSettings;
}

/** The state of a user never online: what a user object starts from. */
export const NEVER_ONLINE: StoredPresence = {
  seq: 0,
  platforms: 0,
  background: 0,
  held: [],
  outbox: [],
  publishPending: false,
  settings: {},
};

type Row = {
  seq: number;
  platforms: number;
  background: number;
  last_seen_ms: number | null;
  held: string;
  held_background: string | null;
  outbox: string;
  publish_pending: number;
  settings: string;
};

export class UserPresenceStore {
  private cached?: StoredPresence;

  constructor(private readonly sql: SqlStorage) {}

  read(): StoredPresence {
    this.cached ??=
      this.sql
        .exec<Row>(
          "SELECT seq, platforms, background, last_seen_ms, held, held_background, outbox, publish_pending, settings FROM presence_state WHERE id = 1",
        )
        .toArray()
        .map((row) => ({
          seq: row.seq,
          platforms: row.platforms,
          background: row.background,
          lastSeenMs: row.last_seen_ms ?? undefined,
          held: JSON.parse(row.held) as HeldOffline[],
          ...(row.held_background === null
            ? {}
            : { heldBackground: JSON.parse(row.held_background) as HeldBackground }),
          outbox: JSON.parse(row.outbox) as PresenceEvent[],
          publishPending: row.publish_pending === 1,
          settings: JSON.parse(row.settings) as PresenceSettings,
        }))[0] ?? NEVER_ONLINE;
    return this.cached;
  }

  /** Forgets everything (the user was deleted): seq, lastSeen and unsent events go. */
  erase(): void {
    this.sql.exec("DELETE FROM presence_state");
    this.cached = NEVER_ONLINE;
  }

  /** One row, whatever changed in it. */
  write(state: StoredPresence): void {
    this.sql.exec(
      `INSERT INTO presence_state (id, seq, platforms, last_seen_ms, held, outbox, publish_pending, settings, background, held_background)
       VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
       ON CONFLICT (id) DO UPDATE SET seq = ?1, platforms = ?2, last_seen_ms = ?3, held = ?4, outbox = ?5,
         publish_pending = ?6, settings = ?7, background = ?8, held_background = ?9`,
      state.seq,
      state.platforms,
      state.lastSeenMs ?? null,
      JSON.stringify(state.held),
      JSON.stringify(state.outbox),
      state.publishPending ? 1 : 0,
      JSON.stringify(state.settings),
      state.background,
      state.heldBackground ? JSON.stringify(state.heldBackground) : null,
    );
    this.cached = state;
  }
}
