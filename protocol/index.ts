/**
 * The wire protocol, shared by the worker and the SDKs: error codes, platform
 * names, close codes, the heartbeat text, route paths and limits. It imports
 * nothing outside this folder, so the SDK build carries no server code.
 */
export { ErrCode, type KnownErrCode } from "./errors.js";
export { MAX_UIDS_PER_STATUS_QUERY } from "./limits.js";
export { Platform, PLATFORM_NAMES, type PlatformId, type PlatformName } from "./platforms.js";
export { Route, type AppServerRouteName, type RouteName } from "./routes.js";
export { CloseCode, PING, PONG } from "./socket.js";
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhook,
  type PresenceEvent,
  type PresenceEventBody,
  type PresenceEventReason,
  type VerifyWebhookOptions,
  type WebhookVerification,
} from "./webhook.js";
export {
  MAX_IDS_PER_FRAME,
  MAX_WATCHED_PER_SOCKET,
  type ClientPresenceFrame,
  type ErrorFrame,
  type PresenceFrame,
  type ServerPresenceFrame,
  type SubscribeFrame,
  type UnsubscribeFrame,
  type WatchedUser,
} from "./presence-frames.js";
