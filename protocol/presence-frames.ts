import type { ErrCode } from "./errors.js";
import type { PlatformName } from "./platforms.js";

/**
 * Presence subscriptions over the client's own socket (docs/protocol.md#presence-subscriptions): the JSON
 * text frames a client sends to watch other users, and the ones it gets back.
 */

/** Ids one subscribe or unsubscribe frame may carry. */
export const MAX_IDS_PER_FRAME = 200;
/** Users one socket may watch at once. */
export const MAX_WATCHED_PER_SOCKET = 3_000;

export interface SubscribeFrame {
  type: "subscribe";
  userIDs: string[];
}

export interface UnsubscribeFrame {
  type: "unsubscribe";
  userIDs: string[];
}

export type ClientPresenceFrame = SubscribeFrame | UnsubscribeFrame;

/** A custom status ("In a meeting"): at most 128 characters, no control characters. */
export interface CustomStatus {
  text: string;
  /** Unix seconds; it clears itself then. At most 30 days ahead; none: until changed. */
  expiresAt?: number;
}

export const MAX_CUSTOM_STATUS_CHARS = 128;
/** How far ahead a custom status may expire. */
export const MAX_CUSTOM_STATUS_SECONDS = 30 * 24 * 3600;

/**
 * Sets something about this user's own presence (docs/protocol.md#your-own-presence).
 * `invisible` and `customStatus` are the user's, across platforms and reconnects;
 * `background` is this socket's (the app went to the background, or came back).
 */
export interface SetFrame {
  type: "set";
  invisible?: boolean;
  background?: boolean;
  /** `null` clears it. */
  customStatus?: CustomStatus | null;
}

/** Every JSON frame a client may send. */
export type ClientFrame = ClientPresenceFrame | SetFrame;

/**
 * A watched user's state, across all of their platforms. `seq` grows with
 * every change: a client keeps the highest per user and ignores older ones.
 * `seq` 0 is a reset (a deleted or unknown user): it replaces whatever the
 * client held, and the next entry may carry any seq (a uid registered again
 * starts again from 1).
 */
export type WatchedUser =
  | {
      userID: string;
      status: "online";
      platforms: PlatformName[];
      /** The live platforms whose app is in the background; absent when none. */
      background?: PlatformName[];
      customStatus?: CustomStatus;
      seq: number;
    }
  /** `lastSeen` (Unix ms): when the last session ended, for a user who has been online. */
  | { userID: string; status: "offline"; lastSeen?: number; customStatus?: CustomStatus; seq: number };

/** A snapshot after each subscribe (every id it named), then one entry per change. */
export interface PresenceFrame {
  type: "presence";
  users: WatchedUser[];
}

/**
 * The errMsg of the error frame (500) that answers a subscribe the server
 * could not carry out: nothing changed, and the same frame may go again.
 */
export const SUBSCRIBE_FAILED = "subscribe failed: nothing changed; try again";
/** The same for an unsubscribe: the socket still watches what it watched. */
export const UNSUBSCRIBE_FAILED = "unsubscribe failed: nothing changed; try again";
/** The same for a `set`: the user's presence is as it was. */
export const SET_FAILED = "set failed: nothing changed; try again";

/**
 * A frame the server refused (400: a bad frame, or one over a limit) or could
 * not carry out (500: SUBSCRIBE_FAILED, UNSUBSCRIBE_FAILED, SET_FAILED). Either way nothing changed, and the socket stays open.
 */
export interface ErrorFrame {
  type: "error";
  errCode: typeof ErrCode.badRequest | typeof ErrCode.internal;
  errMsg: string;
}

export type ServerPresenceFrame = PresenceFrame | ErrorFrame;
