import {
  type ClientPresenceFrame,
  MAX_IDS_PER_FRAME,
  MAX_WATCHED_PER_SOCKET,
  type WatchedUser,
} from "../protocol/index.js";

export type { WatchedUser } from "../protocol/index.js";

/** Called with a watched user's state: first the current one, then each change. */
export type PresenceListener = (user: WatchedUser) => void;

/**
 * The users a session watches and what it knows of each (docs/protocol.md#presence-subscriptions). It
 * decides which frames go out and which entries reach the listeners; the
 * session only moves frames. Entries are kept per user by `seq`: one that is
 * not newer than the one already known is dropped, so a listener never sees
 * a user's state go back in time, whatever the order frames arrive in. The
 * exception is `seq` 0, a reset (the user was deleted, or is unknown): it
 * replaces whatever is known, and the entries after it count from there (a
 * uid registered again starts again from 1). So does the snapshot a new
 * socket gets: a reset it missed while away may lie behind it.
 */
export class Watchlist {
  private readonly listeners = new Map<string, Set<PresenceListener>>();
  private readonly known = new Map<string, WatchedUser>();
  /** Users whose next entry is the snapshot that answers a new socket's subscribe. */
  private readonly awaitingSnapshot = new Set<string>();
  /**
   * Users subscribed on this socket whom no entry has answered yet: a subscribe
   * on its way, or one the server could not carry out (retryFrames).
   */
  private readonly unanswered = new Set<string>();

  /** `reportError` hears what a listener throws; the other listeners still run. */
  constructor(private readonly reportError: (error: Error) => void) {}

  /** Every watched uid, in the order first watched. */
  get userIDs(): string[] {
    return [...this.listeners.keys()];
  }

  /** Whether every watched user's subscription has been answered by an entry. */
  get allAnswered(): boolean {
    return this.unanswered.size === 0;
  }

  /** The newest state known for a watched user. */
  stateOf(userID: string): WatchedUser | undefined {
    return this.known.get(userID);
  }

  /**
   * Adds a listener for each uid. Returns the subscribe frames for the uids
   * not watched before. A listener added to a uid already known hears its
   * state at once. Throws when the session would watch more than the server
   * allows per socket.
   */
  add(userIDs: readonly string[], listener: PresenceListener): ClientPresenceFrame[] {
    const unique = [...new Set(userIDs)];
    const added = unique.filter((id) => !this.listeners.has(id));
    if (this.listeners.size + added.length > MAX_WATCHED_PER_SOCKET) {
      throw new RangeError(
        `a session watches at most ${MAX_WATCHED_PER_SOCKET} users (${this.listeners.size} already, ${added.length} more asked)`,
      );
    }
    for (const id of unique) {
      const set = this.listeners.get(id) ?? new Set<PresenceListener>();
      this.listeners.set(id, set);
      set.add(listener);
      // Heard after watch() returns, like every other entry.
      const state = this.known.get(id);
      if (state) queueMicrotask(() => this.known.get(id) === state && set.has(listener) && this.call(listener, state));
    }
    for (const id of added) this.unanswered.add(id);
    return frames("subscribe", added);
  }

  /**
   * Removes a listener from each uid, or every listener when none is given.
   * Returns the unsubscribe frames for the uids nobody listens to any more.
   */
  remove(userIDs: readonly string[], listener?: PresenceListener): ClientPresenceFrame[] {
    const dropped: string[] = [];
    for (const id of new Set(userIDs)) {
      const set = this.listeners.get(id);
      if (!set) continue;
      if (listener) set.delete(listener);
      if (listener && set.size > 0) continue;
      this.listeners.delete(id);
      this.known.delete(id);
      this.awaitingSnapshot.delete(id);
      this.unanswered.delete(id);
      dropped.push(id);
    }
    return frames("unsubscribe", dropped);
  }

  /**
   * After a (re)connect: the server forgot the old socket's subscriptions, so
   * all of them go again, and each user's next entry is taken as the snapshot
   * that answers them (see supersedes).
   */
  resubscribeFrames(): ClientPresenceFrame[] {
    for (const id of this.listeners.keys()) {
      this.awaitingSnapshot.add(id);
      this.unanswered.add(id);
    }
    return frames("subscribe", this.userIDs);
  }

  /**
   * After a subscribe the server could not carry out (an error frame 500,
   * SUBSCRIBE_FAILED): the subscribe frames for the users no entry has
   * answered yet, in the order first watched. The error frame does not say
   * which frame failed, so these may include some still on their way;
   * subscribing to a user twice is harmless. Users the socket already watches
   * are not sent again: a failed subscribe leaves them watched.
   */
  retryFrames(): ClientPresenceFrame[] {
    return frames(
      "subscribe",
      this.userIDs.filter((id) => this.unanswered.has(id)),
    );
  }

  /** A `presence` frame's entries: the newer ones (and resets) are kept and passed to their listeners. */
  apply(users: readonly WatchedUser[]): void {
    for (const user of users) {
      const listeners = this.listeners.get(user.userID);
      if (!listeners) continue; // unwatched while the frame was on its way
      // Any entry, even one dropped as old, says the server has the subscription.
      this.unanswered.delete(user.userID);
      if (!this.supersedes(user)) continue;
      this.known.set(user.userID, user);
      for (const listener of [...listeners]) this.call(listener, user);
    }
  }

  /** Whether an entry replaces what is known of its user. */
  private supersedes(user: WatchedUser): boolean {
    const known = this.known.get(user.userID);
    const snapshot = this.awaitingSnapshot.delete(user.userID);
    if (!known) return true;
    // A new socket's snapshot is the user's state now. While the session was away the user may
    // have been deleted and registered again (the reset went to the old socket, or to none), so
    // a lower seq, or the same seq with another state, is a new user's: only a repeat is dropped.
    if (snapshot) return !sameEntry(user, known);
    // A reset replaces any state, whatever its seq; only a reset already known makes it a repeat.
    if (user.seq === 0) return known.seq !== 0;
    return user.seq > known.seq;
  }

  private call(listener: PresenceListener, user: WatchedUser): void {
    try {
      listener(user);
    } catch (error) {
      this.reportError(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** The same state: everything an entry says, background and custom status included. */
function sameEntry(a: WatchedUser, b: WatchedUser): boolean {
  if (a.seq !== b.seq || a.customStatus?.text !== b.customStatus?.text) return false;
  if (a.customStatus?.expiresAt !== b.customStatus?.expiresAt) return false;
  if (a.status === "online" && b.status === "online")
    return a.platforms.join() === b.platforms.join() && (a.background ?? []).join() === (b.background ?? []).join();
  return a.status === "offline" && b.status === "offline" && a.lastSeen === b.lastSeen;
}

/** Frames of at most MAX_IDS_PER_FRAME ids each. */
function frames(type: ClientPresenceFrame["type"], userIDs: readonly string[]): ClientPresenceFrame[] {
  const out: ClientPresenceFrame[] = [];
  for (let i = 0; i < userIDs.length; i += MAX_IDS_PER_FRAME)
    out.push({ type, userIDs: userIDs.slice(i, i + MAX_IDS_PER_FRAME) });
  return out;
}
