import { CloseCode, ErrCode, Route } from "../../protocol";
import {
  emptyAnswerSchema,
  onlineStatusAnswerSchema,
  openApiDocumentSchema,
  tokenAnswerSchema,
} from "../openapi/responses";
import { forceLogoutBody, onlineStatusBody, registerUserBody, userTokenBody } from "../schemas";
import { forceLogout, registerUser, userToken } from "./auth";
import { connect } from "./connect";
import { consoleEnabled, consoleEvents, consolePage, consoleScript, consoleWebhook } from "./console";
import { docsPage, openApiJson } from "./docs";
import { health } from "./health";
import type { RouteEntry } from "./route-entry";
import { onlineStatus } from "./user";

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
      description: "Older tokens stay valid; only a kick or a force_logout invalidates them.",
      request: { name: "UserTokenRequest", schema: userTokenBody },
      answer: TOKEN_ANSWER,
      errors: { 404: [ErrCode.notRegistered] },
    },
  },
  {
    route: Route.forceLogout,
    handlers: forceLogout,
    doc: {
      kind: "appServer",
      operationId: "forceLogout",
      summary: "Log a user out of one platform",
      description: `Closes the user's sessions on that platform with ${CloseCode.loggedOut} and invalidates every token of (uid, platform) issued up to the call (handshakes with them get 401/702). Tokens issued later work.`,
      request: { name: "ForceLogoutRequest", schema: forceLogoutBody },
      answer: EMPTY_ANSWER,
      errors: { 404: [ErrCode.notRegistered] },
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
