/**
 * The wire protocol, shared by the worker and the SDKs: error codes, platform
 * names, close codes, the heartbeat text, route paths and limits. It imports
 * nothing outside this folder, so the SDK build carries no server code.
 */
export { ErrCode, type KnownErrCode } from "./errors.js";
export {
  FRAME_BUDGET,
  MAX_UIDS_PER_MANAGE_CALL,
  MAX_UIDS_PER_PAGE,
  MAX_UIDS_PER_STATUS_QUERY,
  MAX_UIDS_PER_USER_INFO_QUERY,
} from "./limits.js";
export { PLATFORM_NAMES, Platform, type PlatformId, type PlatformName } from "./platforms.js";
export {
  type ClientFrame,
  type ClientPresenceFrame,
  type CustomStatus,
  type ErrorFrame,
  MAX_CUSTOM_STATUS_CHARS,
  MAX_CUSTOM_STATUS_SECONDS,
  MAX_IDS_PER_FRAME,
  MAX_WATCHED_PER_SOCKET,
  type PresenceFrame,
  SET_FAILED,
  type ServerPresenceFrame,
  type SetFrame,
  SUBSCRIBE_FAILED,
  type SubscribeFrame,
  UNSUBSCRIBE_FAILED,
  type UnsubscribeFrame,
  type WatchedUser,
} from "./presence-frames.js";
export { type AppServerRouteName, Route, type RouteName } from "./routes.js";
export { banEndOf, bannedCloseReason, CloseCode, PING, PONG } from "./socket.js";
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  MAX_SIGNATURES_PER_HEADER,
  type PlatformEvent,
  type PresenceEvent,
  type PresenceEventBody,
  type PresenceEventReason,
  SIGNATURE_HEADER,
  type StateEvent,
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookRefusal,
  type WebhookVerification,
} from "./webhook.js";
