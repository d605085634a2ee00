/**
 * Every route's method and path, spelled once. The worker registers its
 * routes from these (src/routes/table.ts), answers 405 from them, and builds
 * its OpenAPI document from them; the SDKs call them.
 */
export const Route = {
  registerUser: { method: "POST", path: "/auth/user_register" },
  userToken: { method: "POST", path: "/auth/user_token" },
  forceLogout: { method: "POST", path: "/auth/force_logout" },
  onlineStatus: { method: "POST", path: "/user/get_users_online_status" },
  getUserInfo: { method: "POST", path: "/user/get_user_info" },
  updateUserInfo: { method: "POST", path: "/user/update_user_info" },
  setCustomStatus: { method: "POST", path: "/user/set_custom_status" },
  accountCheck: { method: "POST", path: "/manager/account_check" },
  getAllUsersUid: { method: "POST", path: "/manager/get_all_users_uid" },
  deleteUser: { method: "POST", path: "/manager/delete_user" },
  banUser: { method: "POST", path: "/manager/ban_user" },
  getUserSessions: { method: "POST", path: "/manager/get_user_sessions" },
  setPresenceGrants: { method: "POST", path: "/manager/set_presence_grants" },
  getPresenceGrants: { method: "POST", path: "/manager/get_presence_grants" },
  /** The client's WebSocket, at OpenIM's root path and at /ws. */
  connect: { method: "GET", path: "/" },
  connectWs: { method: "GET", path: "/ws" },
  health: { method: "GET", path: "/healthz" },
  openApi: { method: "GET", path: "/openapi.json" },
  docs: { method: "GET", path: "/docs" },
  /** The dev console (local development only). */
  consolePage: { method: "GET", path: "/console" },
  consoleScript: { method: "GET", path: "/console/app.js" },
  /** The console's own webhook receiver (npm run dev points PRESENCE_WEBHOOK_URL here), and what it got. */
  consoleWebhook: { method: "POST", path: "/console/webhook" },
  consoleEvents: { method: "POST", path: "/console/events" },
} as const;

export type RouteName = keyof typeof Route;
export type AppServerRouteName =
  | "registerUser"
  | "userToken"
  | "forceLogout"
  | "onlineStatus"
  | "getUserInfo"
  | "updateUserInfo"
  | "setCustomStatus"
  | "accountCheck"
  | "getAllUsersUid"
  | "deleteUser"
  | "banUser"
  | "getUserSessions"
  | "setPresenceGrants"
  | "getPresenceGrants";
