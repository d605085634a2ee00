import { CloseCode, ErrCode, Route } from "../../protocol";
import {
  accountCheckAnswerSchema,
  allUsersUidAnswerSchema,
  deleteUserAnswerSchema,
  emptyAnswerSchema,
  onlineStatusAnswerSchema,
  openApiDocumentSchema,
  presenceGrantsAnswerSchema,
  tokenAnswerSchema,
  userInfoAnswerSchema,
  userSessionsAnswerSchema,
} from "../openapi/responses";
import {
  accountCheckBody,
  banUserBody,
  deleteUserBody,
  forceLogoutBody,
  getAllUsersUidBody,
  getPresenceGrantsBody,
  getUserInfoBody,
  getUserSessionsBody,
  onlineStatusBody,
  registerUserBody,
  setCustomStatusBody,
  setPresenceGrantsBody,
  updateUserInfoBody,
  userTokenBody,
} from "../schemas";
import { forceLogout, registerUser, userToken } from "./auth";
import { connect } from "./connect";
import { consoleEnabled, consoleEvents, consolePage, consoleScript, consoleWebhook } from "./console";
import { docsPage, openApiJson } from "./docs";
import { health } from "./health";
import {
  accountCheck,
  banUser,
  deleteUser,
  getAllUsersUid,
  getPresenceGrants,
  getUserSessions,
  setPresenceGrants,
} from "./manager";
import type { RouteEntry } from "./route-entry";
import { getUserInfo, onlineStatus, setCustomStatus, updateUserInfo } from "./user";

const TOKEN_ANSWER = { name: "TokenAnswer", schema: tokenAnswerSchema };
const EMPTY_ANSWER = { name: "EmptyAnswer", schema: emptyAnswerSchema };

/**
 * Every route, declared once: its method and path (from protocol/routes.ts),
 * its handlers and how the OpenAPI document presents it. src/index.ts
 * registers these and answers 405 from them; src/openapi/document.ts builds
 * the document's paths from them.
 */
export const ROUTE_TABLE: readonly RouteEntry[] = [
  {
    route: Route.registerUser,
    handlers: registerUser,
    doc: {
      kind: "appServer",
      operationId: "registerUser",
      summary: "Register a user and get a token",
      description:
        "Stores the user and answers a token for (uid, platform). A uid that exists is a 409/601 and its profile is left as it was. Under concurrent registers of one uid exactly one succeeds.",
      request: { name: "RegisterUserRequest", schema: registerUserBody },
      answer: TOKEN_ANSWER,
      errors: { 409: [ErrCode.alreadyRegistered] },
    },
  },
  {
    route: Route.userToken,
    handlers: userToken,
    doc: {
      kind: "appServer",
      operationId: "getUserToken",
      summary: "Issue a fresh token for a registered user",
      description:
        "Older tokens stay valid; only a kick, a force_logout or the user's deletion invalidates them. A banned user gets 403/603 until the ban ends.",
      request: { name: "UserTokenRequest", schema: userTokenBody },
      answer: TOKEN_ANSWER,
      errors: { 403: [ErrCode.banned], 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.forceLogout,
    handlers: forceLogout,
    doc: {
      kind: "appServer",
      operationId: "forceLogout",
      summary: "Log a user out of one platform, or of one session",
      description: `Closes the user's sessions on that platform with ${CloseCode.loggedOut} and invalidates every token of (uid, platform) issued up to the call (handshakes with them get 401/702). Tokens issued later work. With a connID (from get_user_sessions), only that session is closed and only its token invalidated.`,
      request: { name: "ForceLogoutRequest", schema: forceLogoutBody },
      answer: EMPTY_ANSWER,
      errors: { 404: [ErrCode.notRegistered, ErrCode.noSuchSession] },
    },
  },
  {
    route: Route.onlineStatus,
    handlers: onlineStatus,
    doc: {
      kind: "appServer",
      operationId: "getUsersOnlineStatus",
      summary: "Online status of up to 200 users",
      description:
        "One entry per requested uid in request order. `online` when the user has at least one live session; unknown uids are `offline`.",
      request: { name: "OnlineStatusRequest", schema: onlineStatusBody },
      answer: { name: "OnlineStatusAnswer", schema: onlineStatusAnswerSchema },
      errors: {},
    },
  },
  {
    route: Route.getUserInfo,
    handlers: getUserInfo,
    doc: {
      kind: "appServer",
      operationId: "getUserInfo",
      summary: "Profiles of up to 200 users",
      description:
        "One entry per registered uid asked, in request order, each once; unknown uids are left out. A banned user's entry carries bannedUntil.",
      request: { name: "GetUserInfoRequest", schema: getUserInfoBody },
      answer: { name: "UserInfoAnswer", schema: userInfoAnswerSchema },
      errors: {},
    },
  },
  {
    route: Route.updateUserInfo,
    handlers: updateUserInfo,
    doc: {
      kind: "appServer",
      operationId: "updateUserInfo",
      summary: "Change some of a user's profile fields",
      description:
        "Sets each field given (an empty string clears it) and leaves the others as they are; concurrent updates of different fields both land. At least one field.",
      request: { name: "UpdateUserInfoRequest", schema: updateUserInfoBody },
      answer: EMPTY_ANSWER,
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.setCustomStatus,
    handlers: setCustomStatus,
    doc: {
      kind: "appServer",
      operationId: "setCustomStatus",
      summary: "Set or clear a user's custom status",
      description:
        "As a client's `set` frame would: `customStatus` is `{text, expiresAt?}` (text 1–128 characters, no control characters; expiresAt Unix seconds, in the future, at most 30 days ahead) or `null` to clear it. It is the user's, across platforms; the latest set wins. Watchers who may see the user get an entry with it (or without it) within 2 s, and one without it at expiry; webhooks get a `state` event.",
      request: { name: "SetCustomStatusRequest", schema: setCustomStatusBody },
      answer: EMPTY_ANSWER,
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.accountCheck,
    handlers: accountCheck,
    doc: {
      kind: "appServer",
      operationId: "accountCheck",
      summary: "Which of up to 100 uids are registered",
      description: "One entry per requested id, in request order, duplicates kept.",
      request: { name: "AccountCheckRequest", schema: accountCheckBody },
      answer: { name: "AccountCheckAnswer", schema: accountCheckAnswerSchema },
      errors: {},
    },
  },
  {
    route: Route.getAllUsersUid,
    handlers: getAllUsersUid,
    doc: {
      kind: "appServer",
      operationId: "getAllUsersUid",
      summary: "Every registered uid, a page at a time",
      description:
        "Uids in ascending code-point order, at most `limit` (default 1000) per page; pass the answer's nextCursor to get the next page. Paging from no cursor to the end yields every user registered throughout, exactly once. A malformed cursor is a 400.",
      request: { name: "GetAllUsersUidRequest", schema: getAllUsersUidBody },
      answer: { name: "AllUsersUidAnswer", schema: allUsersUidAnswerSchema },
      errors: {},
    },
  },
  {
    route: Route.deleteUser,
    handlers: deleteUser,
    doc: {
      kind: "appServer",
      operationId: "deleteUser",
      summary: "Erase up to 100 users everywhere",
      description: `Erasure, not hiding: when the answer arrives, the profile, lastSeen, invalidations and subscriptions are gone from every store, the sessions were closed with ${CloseCode.accountDeleted}, watchers got a reset (seq 0) and webhooks an offline with reason deleted. Tokens issued before are refused for good, also after the uid is registered again. failedUidList lists the uids that were not registered. A call that fails part-way is finished by a retry.`,
      request: { name: "DeleteUserRequest", schema: deleteUserBody },
      answer: { name: "DeleteUserAnswer", schema: deleteUserAnswerSchema },
      errors: {},
    },
  },
  {
    route: Route.banUser,
    handlers: banUser,
    doc: {
      kind: "appServer",
      operationId: "banUser",
      summary: "Ban a user until a time, or lift a ban",
      description: `Until \`until\` (Unix seconds) user_token answers 403/603 and handshakes 401/706; the sessions open now are closed with ${CloseCode.banned} and webhooks send offline with reason banned. The ban ends by itself at that time; 0 or a past time lifts it now. The profile is kept.`,
      request: { name: "BanUserRequest", schema: banUserBody },
      answer: EMPTY_ANSWER,
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.getUserSessions,
    handlers: getUserSessions,
    doc: {
      kind: "appServer",
      operationId: "getUserSessions",
      summary: "A user's open sessions",
      description:
        "One entry per open, live session: its connID (which force_logout takes), platform, when it connected and when it last sent a frame (pings included).",
      request: { name: "GetUserSessionsRequest", schema: getUserSessionsBody },
      answer: { name: "UserSessionsAnswer", schema: userSessionsAnswerSchema },
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.setPresenceGrants,
    handlers: setPresenceGrants,
    doc: {
      kind: "appServer",
      operationId: "setPresenceGrants",
      summary: "Who may see a user's presence",
      description:
        "With PRESENCE_VISIBILITY `granted`, a client sees another user's presence only if that user granted it. `add` and `remove` (each at most 1,000 uids) change the users allowed to see `uid`; at most 10,000 grants per user, more is a 400 and changes nothing. Watchers already subscribed hear of it within 2 s: a grant sends them the real entry, a removal the entry of an unknown user.",
      request: { name: "SetPresenceGrantsRequest", schema: setPresenceGrantsBody },
      answer: EMPTY_ANSWER,
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.getPresenceGrants,
    handlers: getPresenceGrants,
    doc: {
      kind: "appServer",
      operationId: "getPresenceGrants",
      summary: "The users a user lets see its presence",
      description: "Paged as get_all_users_uid: uids in ascending code-point order, nextCursor until the last page.",
      request: { name: "GetPresenceGrantsRequest", schema: getPresenceGrantsBody },
      answer: { name: "PresenceGrantsAnswer", schema: presenceGrantsAnswerSchema },
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  { route: Route.connect, handlers: connect, doc: { kind: "websocket", operationId: "connectSession" } },
  { route: Route.connectWs, handlers: connect, doc: { kind: "websocket", operationId: "connectSessionWs" } },
  {
    route: Route.health,
    handlers: health,
    doc: {
      kind: "plain",
      operationId: "health",
      tag: "Operations",
      summary: "Liveness",
      description: "Answers 200 with the success envelope. Needs no secret and touches no storage.",
      answer: EMPTY_ANSWER,
      head: { operationId: "healthHead" },
    },
  },
  {
    route: Route.openApi,
    handlers: openApiJson(() => ROUTE_TABLE),
    doc: {
      kind: "plain",
      operationId: "openApiDocument",
      tag: "Documentation",
      summary: "This document (OpenAPI 3.1)",
      description:
        "Built from the route table and the request schemas the routes validate with. `servers` names the origin it was fetched from.",
      answer: { name: "OpenApiDocument", schema: openApiDocumentSchema },
    },
  },
  {
    route: Route.docs,
    handlers: docsPage(() => ROUTE_TABLE),
    doc: {
      kind: "plain",
      operationId: "docsPage",
      tag: "Documentation",
      summary: "This document as a page",
      description: "Rendered on the server from the same document; the page runs no scripts and loads nothing.",
      answer: { mediaType: "text/html" },
    },
  },
  { route: Route.consolePage, handlers: consolePage, enabled: consoleEnabled },
  { route: Route.consoleScript, handlers: consoleScript, enabled: consoleEnabled },
  { route: Route.consoleWebhook, handlers: consoleWebhook, enabled: consoleEnabled },
  { route: Route.consoleEvents, handlers: consoleEvents, enabled: consoleEnabled },
];
