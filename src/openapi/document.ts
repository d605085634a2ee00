import type { z } from "zod";
import {
  CloseCode,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  ErrCode,
  type KnownErrCode,
  MAX_IDS_PER_FRAME,
  MAX_WATCHED_PER_SOCKET,
  PING,
  PLATFORM_NAMES,
  PONG,
  SIGNATURE_HEADER,
} from "../../protocol";
import type { Settings } from "../config";
import { FRAME_BUDGET } from "../presence/frame-budget";
import { UPGRADE_REQUIRED_HEADERS } from "../routes/connect";
import type { NamedSchema, OperationDoc, RouteEntry } from "../routes/route-entry";
import { connectQuery, LIMITS, setFrame, subscribeFrame, unsubscribeFrame } from "../schemas";
import { ERROR_CODE_DOCS, type ErrorCodeDoc, errorCodeDoc } from "./error-codes";
import { requestJsonSchema, responseJsonSchema } from "./json-schema";
import { errorEnvelopeSchema, errorFrameSchema, presenceEventBodySchema, presenceFrameSchema } from "./responses";

type Json = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: "query" | "header";
  required: boolean;
  description?: string | undefined;
  schema: Json;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { description: string; required?: boolean; schema: Json }>;
  content?: Partial<Record<"application/json" | "text/html", { schema: Json }>>;
}

/** A response shared by many operations, written once under components.responses. */
export interface OpenApiRef {
  $ref: string;
}

export type OpenApiResponseOrRef = OpenApiResponse | OpenApiRef;

/** Scheme name → scopes; `{}` alone means no credential outside the request itself. */
export type SecurityRequirement = Record<string, string[]>;

/** Where an AppServer operation's secret travels, which no OpenAPI security scheme can say (docs/api.md). */
export interface BodySecret {
  in: "body";
  field: string;
  description: string;
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  /** Required, so that every kind of operation states what it asks of the caller. */
  security: SecurityRequirement[];
  "x-body-secret"?: BodySecret;
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: { "application/json": { schema: Json } } };
  responses: Record<string, OpenApiResponseOrRef>;
}

type OperationMethod = "get" | "head" | "post";

export interface CloseCodeDoc {
  code: number;
  name: string;
  meaning: string;
}

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; summary: string; description: string };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<OperationMethod, OpenApiOperation>>>;
  webhooks: Record<string, { post: OpenApiOperation }>;
  components: {
    schemas: Record<string, Json>;
    responses: Record<string, OpenApiResponse>;
    securitySchemes: Record<string, Json>;
  };
  "x-error-codes": ErrorCodeDoc[];
  "x-limits": Record<string, number>;
  "x-platforms": Record<number, string>;
  "x-websocket": {
    paths: string[];
    heartbeat: { send: string; answer: string; timeoutSeconds: number };
    closeCodes: CloseCodeDoc[];
    /**
     * Presence subscriptions (docs/protocol.md#presence-subscriptions): JSON text frames, each
     * schema written here, not under components, where nothing in OpenAPI could refer to it.
     */
    frames: {
      description: string;
      client: Record<"subscribe" | "unsubscribe" | "set", Json>;
      server: Record<"presence" | "error", Json>;
      limits: { idsPerFrame: number; watchedPerSocket: number };
    };
  };
}

const PLATFORM_LIST = Object.entries(PLATFORM_NAMES)
  .map(([id, name]) => `${id} ${name}`)
  .join(", ");

/** Prose for fields; their types and limits come from the schemas themselves. */
export const FIELD_NOTES: Record<string, string> = {
  secret: "The AppServer secret (IM_SECRET). Checked first, in constant time.",
  operationID: "Optional request id, logged with the request.",
  platform: `Platform id: ${PLATFORM_LIST}.`,
  uid: "The user id. Characters are Unicode code points.",
  name: "Display name; may be empty.",
  icon: "Avatar URL; the limit is in UTF-8 bytes.",
  gender: "0 unknown, 1 male, 2 female.",
  mobile: "Phone number.",
  birth: "Birth date, free text.",
  email: "Email address.",
  ex: "Free-form extra data.",
  userIDList: "The uids to look up; duplicates are answered twice.",
  uidList: `The uids whose profiles to read (at most ${LIMITS.userInfoListLength}); each is answered once.`,
  deleteUidList: `The uids to erase (at most ${LIMITS.manageListLength}).`,
  cursor: "nextCursor from the previous page's answer; leave out for the first page.",
  limit: `Uids per page, 1–${LIMITS.pageLimit}; default ${LIMITS.pageLimit}.`,
  until: "When the ban ends, Unix seconds; 0 or a past time lifts the ban now.",
  reason: "Why, for your records and the user's support; kept with the ban.",
  connID: "One session only: its connID from get_user_sessions. Its platform must be the `platform` given.",
  add: `Uids to let see the user (at most ${LIMITS.grantsPerCall}).`,
  remove: `Uids no longer to let see the user (at most ${LIMITS.grantsPerCall}).`,
  customStatus:
    "The user's custom status: `text` (1–128 characters, no control characters) and optional `expiresAt` (Unix seconds, in the future, at most 30 days ahead), or null to clear it.",
  sendID: "The connecting user's uid (OpenIM's name for it).",
  token: "A token from user_register or user_token for this uid and platform.",
  platformID: `The platform this session is on: ${PLATFORM_LIST}.`,
};

const CLOSE_CODE_MEANINGS: Record<keyof typeof CloseCode, string> = {
  kicked:
    'Kicked: a newer session opened on the same platform. Preceded by the text frame {"errCode":702,…}. Do not reconnect with the same token.',
  loggedOut:
    "Logged out by the AppServer (force_logout). Every older token of this platform is invalidated. Do not reconnect.",
  heartbeatTimeout: "Nothing (not even a ping) arrived within HEARTBEAT_TIMEOUT. Reconnect.",
  tokenExpired: "The session's token expired while connected. Get a fresh token, then reconnect.",
  accountDeleted: "The account was deleted (delete_user). Do not reconnect: every token it had is refused for good.",
  banned:
    "The user was banned (ban_user). The close reason says until when, as `banned until <Unix seconds>`; reconnect only after that.",
  tooManyFrames: `Too many frames: more than ${FRAME_BUDGET.frames} in ${FRAME_BUDGET.windowMs / 1000} s other than the exact \`ping\` (which is never limited). Reconnect with backoff, and send fewer frames.`,
};

function withFieldNotes(schema: Json): Json {
  const properties = schema.properties as Record<string, Json> | undefined;
  if (!properties) return schema;
  const described = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [name, { description: FIELD_NOTES[name], ...property }]),
  );
  return { ...schema, properties: described };
}

function ref(name: string): Json {
  return { $ref: `#/components/schemas/${name}` };
}

/** The response itself, or the one under components.responses that it refers to. */
export function resolveResponse(doc: OpenApiDocument, response: OpenApiResponseOrRef): OpenApiResponse {
  if (!("$ref" in response)) return response;
  const target = doc.components.responses[response.$ref.split("/").pop() ?? ""];
  if (!target) throw new Error(`unresolved response ${response.$ref}`);
  return target;
}

const RETRY_AFTER_HEADER = {
  "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer", minimum: 1 } },
};

const UPGRADE_REQUIRED_HEADER = {
  Upgrade: {
    description: "The protocol to upgrade to (RFC 9110 requires it on a 426).",
    required: true,
    schema: { const: UPGRADE_REQUIRED_HEADERS.Upgrade },
  },
};

const SWITCHING_PROTOCOLS_HEADERS = {
  Upgrade: {
    description: "The protocol now spoken.",
    required: true,
    schema: { const: UPGRADE_REQUIRED_HEADERS.Upgrade },
  },
  Connection: {
    description: "Says the connection was upgraded.",
    required: true,
    schema: { const: UPGRADE_REQUIRED_HEADERS.Connection },
  },
  "Sec-WebSocket-Accept": {
    description: "The client's Sec-WebSocket-Key, hashed as RFC 6455 §4.2.2 says; WebSocket clients check it.",
    required: true,
    schema: { type: "string" },
  },
};

/** Headers some statuses always carry, whichever errCode they come with. */
const HEADERS_BY_STATUS: Partial<Record<string, OpenApiResponse["headers"]>> = {
  426: UPGRADE_REQUIRED_HEADER,
  429: RETRY_AFTER_HEADER,
};

function errorResponse(status: string, codes: KnownErrCode[]): OpenApiResponse {
  return {
    description: codes.map((code) => `errCode ${code}: ${errorCodeDoc(code).meaning}`).join("\n\n"),
    ...(HEADERS_BY_STATUS[status] ? { headers: HEADERS_BY_STATUS[status] } : {}),
    content: { "application/json": { schema: responseJsonSchema(errorEnvelopeSchema(codes)) } },
  };
}

/** One response per HTTP status, listing the errCodes it can carry. */
function errorResponses(byStatus: Record<number, KnownErrCode[]>): Record<string, OpenApiResponse> {
  return Object.fromEntries(Object.entries(byStatus).map(([status, codes]) => [status, errorResponse(status, codes)]));
}

/**
 * The 405 of a path the table lists, to a method it does not take. OpenAPI has no place for
 * a path's other methods, so every operation refers to this one response.
 */
function methodNotAllowedResponse(): OpenApiResponse {
  const response = errorResponse("405", [ErrCode.methodNotAllowed]);
  return {
    ...response,
    description: `${response.description}\n\nAnswered to the methods this path does not list; the operation's own method never gets it.`,
    headers: {
      Allow: {
        description: "The methods this path takes, comma-separated (a path that takes GET also takes HEAD).",
        required: true,
        schema: { type: "string", examples: ["POST", "GET, HEAD"] },
      },
    },
  };
}

const METHOD_NOT_ALLOWED: OpenApiRef = { $ref: "#/components/responses/MethodNotAllowed" };

/** No credential in a header, query or cookie: public routes, and the AppServer routes, whose secret is in the body. */
const NO_SCHEME: SecurityRequirement[] = [{}];

const APPSERVER_SECRET: BodySecret = {
  in: "body",
  field: "secret",
  description:
    "The AppServer secret (IM_SECRET, or IM_SECRET_PREVIOUS during a rotation) travels in the JSON body's `secret` field, a required property of the request schema. " +
    "OpenAPI security schemes can only name a header, a query parameter or a cookie, so `security` is empty rather than naming a place the worker never reads. " +
    "A missing or wrong secret is a 401, checked before any other field.",
};

const CLIENT_TOKEN_SCHEME = "ClientToken";

const CLIENT_TOKEN: Json = {
  type: "apiKey",
  in: "query",
  name: "token",
  description:
    "A token from user_register or user_token, valid only with the sendID and platformID it was issued for (the same query). Checked before the upgrade: 401 with errCode 701–705.",
};

const COMMON_APPSERVER_ERRORS: Record<number, KnownErrCode[]> = {
  400: [ErrCode.badRequest],
  401: [ErrCode.notAuthorized],
  413: [ErrCode.tooLarge],
  415: [ErrCode.badRequest],
  429: [ErrCode.rateLimited],
  500: [ErrCode.internal],
};

function appServerOperation(doc: Extract<OperationDoc, { kind: "appServer" }>): OpenApiOperation {
  return {
    operationId: doc.operationId,
    tags: ["AppServer"],
    summary: doc.summary,
    description: doc.description,
    security: NO_SCHEME,
    "x-body-secret": APPSERVER_SECRET,
    requestBody: { required: true, content: { "application/json": { schema: ref(doc.request.name) } } },
    responses: {
      200: { description: "Success.", content: { "application/json": { schema: ref(doc.answer.name) } } },
      ...errorResponses({ ...COMMON_APPSERVER_ERRORS, ...doc.errors } as Record<number, KnownErrCode[]>),
    },
  };
}

function plainOperation(doc: Extract<OperationDoc, { kind: "plain" }>): OpenApiOperation {
  return {
    operationId: doc.operationId,
    tags: [doc.tag],
    summary: doc.summary,
    description: doc.description,
    security: NO_SCHEME,
    responses: {
      200: {
        description: "Success.",
        content:
          "name" in doc.answer
            ? { "application/json": { schema: ref(doc.answer.name) } }
            : { "text/html": { schema: { type: "string" } } },
      },
    },
  };
}

/** The connect query as OpenAPI parameters, straight from the gateway's schema. */
function connectParameters(): OpenApiParameter[] {
  const schema = requestJsonSchema(connectQuery as z.ZodType);
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  return [
    ...Object.entries(properties).map(([name, property]) => ({
      name,
      in: "query" as const,
      required: required.has(name),
      description: FIELD_NOTES[name],
      schema: property,
    })),
    { name: "Upgrade", in: "header" as const, required: true, schema: { const: "websocket" } },
  ];
}

function connectOperation(operationId: string, path: string, settings: Settings): OpenApiOperation {
  const heartbeatSeconds = settings.heartbeatTimeoutMs / 1000;
  return {
    operationId,
    tags: ["Client sessions"],
    summary: `Open a client session (WebSocket) at ${path}`,
    description: [
      "The token is checked before the upgrade; a refusal is a plain HTTP answer with the JSON envelope. ",
      "Browsers cannot read that answer: their WebSocket only reports a close (1006) before `open`.",
      "",
      `After opening: send the text frame \`${PING}\` right away and at least every ${heartbeatSeconds} s `,
      `(HEARTBEAT_TIMEOUT); the server answers \`${PONG}\`. A session that sends nothing for that long is closed with ${CloseCode.heartbeatTimeout}.`,
      "",
      "Close codes the server uses:",
      ...(Object.keys(CloseCode) as (keyof typeof CloseCode)[]).map(
        (name) => `- **${CloseCode[name]}**: ${CLOSE_CODE_MEANINGS[name]}`,
      ),
    ].join("\n"),
    security: [{ [CLIENT_TOKEN_SCHEME]: [] }],
    parameters: connectParameters(),
    responses: {
      101: {
        description:
          "Switching Protocols: the session is open. The handshake is RFC 6455's; the Workers runtime writes these headers.",
        headers: SWITCHING_PROTOCOLS_HEADERS,
      },
      ...errorResponses({
        400: [ErrCode.badRequest],
        401: [
          ErrCode.tokenExpired,
          ErrCode.tokenInvalidated,
          ErrCode.tokenMalformed,
          ErrCode.tokenNotActiveYet,
          ErrCode.tokenUnknown,
          ErrCode.tokenUserBanned,
        ],
        426: [ErrCode.badRequest],
        429: [ErrCode.rateLimited],
        500: [ErrCode.internal],
      }),
    },
  };
}

/** What the worker POSTs to PRESENCE_WEBHOOK_URL (docs/webhooks.md), as an OpenAPI 3.1 webhook. */
function presenceWebhookOperation(settings: Settings): OpenApiOperation {
  const state = settings.webhooks.url === undefined ? "off on this deployment" : "on on this deployment";
  return {
    operationId: "presenceEvents",
    tags: ["Webhooks"],
    summary: "Presence events, POSTed to PRESENCE_WEBHOOK_URL",
    // The worker sends no credential: the receiver checks the signature header below, which no scheme type describes.
    security: NO_SCHEME,
    description: [
      `Sent when PRESENCE_WEBHOOK_URL is set (${state}). Each change of a user's live platforms makes one event per platform that changed; a body carries at most 100.`,
      "",
      `- **Signature**: \`${SIGNATURE_HEADER}: t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with PRESENCE_WEBHOOK_SECRET>\`. Check it on the raw body before parsing, and refuse a \`t\` older than ${DEFAULT_SIGNATURE_TOLERANCE_SECONDS / 60} minutes (the SDK's \`verifyWebhook\` does both).`,
      "- **Delivery**: at least once. Answer 2xx within 10 s; anything else is retried with backoff (the same event ids) for about four and a half hours, then dead-lettered.",
      "- **Order**: keep the highest `seq` per user and ignore older events; the latest event's `platforms` is the user's whole state.",
      `- **Grace**: a platform that goes offline and comes back within PRESENCE_WEBHOOK_GRACE (${settings.webhooks.graceMs / 1000} s here) sends nothing.`,
    ].join("\n"),
    parameters: [
      {
        name: SIGNATURE_HEADER,
        in: "header",
        required: true,
        schema: { type: "string", pattern: "^t=\\d+,v1=[0-9a-f]{64}$" },
      },
    ],
    requestBody: { required: true, content: { "application/json": { schema: ref("PresenceEventBody") } } },
    responses: { 200: { description: "Any 2xx within 10 s acknowledges every event in the body." } },
  };
}

export interface DocumentOptions {
  serverUrl: string;
  settings: Settings;
  /** The route table: every route with a `doc` becomes a path. */
  routes: readonly RouteEntry[];
}

function headOperation(
  doc: Extract<OperationDoc, { kind: "plain" }>,
  operationId: string,
  path: string,
): OpenApiOperation {
  return {
    operationId,
    tags: [doc.tag],
    summary: `${doc.summary} (HEAD)`,
    description: `The answer of \`GET ${path}\`, status and headers, without its body.`,
    security: NO_SCHEME,
    responses: { 200: { description: "Success, without a body." } },
  };
}

function ownOperations(doc: OperationDoc, route: RouteEntry["route"], settings: Settings) {
  const method = route.method.toLowerCase() as OperationMethod;
  const operations: [OperationMethod, OpenApiOperation][] = [];
  if (doc.kind === "appServer") operations.push([method, appServerOperation(doc)]);
  else if (doc.kind === "websocket") operations.push([method, connectOperation(doc.operationId, route.path, settings)]);
  else {
    operations.push([method, plainOperation(doc)]);
    if (doc.head) operations.push(["head", headOperation(doc, doc.head.operationId, route.path)]);
  }
  return operations;
}

/** The operations of one table entry, each with the 405 its path gives other methods, whatever its kind. */
function operations(doc: OperationDoc, route: RouteEntry["route"], settings: Settings) {
  return Object.fromEntries(
    ownOperations(doc, route, settings).map(([method, op]) => [
      method,
      { ...op, responses: { ...op.responses, 405: METHOD_NOT_ALLOWED } },
    ]),
  );
}

/** The document's paths, and the request and answer schemas they refer to, from the route table. */
function pathsOf(routes: readonly RouteEntry[], settings: Settings) {
  const paths: OpenApiDocument["paths"] = {};
  const schemas: Record<string, Json> = {};
  const named = (entry: NamedSchema, json: Json) => (schemas[entry.name] ??= json);
  for (const { route, doc } of routes) {
    if (!doc) continue;
    paths[route.path] = { ...paths[route.path], ...operations(doc, route, settings) };
    if (doc.kind === "appServer") named(doc.request, withFieldNotes(requestJsonSchema(doc.request.schema)));
    if (doc.kind !== "websocket" && "name" in doc.answer) named(doc.answer, responseJsonSchema(doc.answer.schema));
  }
  return { paths, schemas };
}

/** The OpenAPI 3.1 document of the whole contract, built from the request schemas the routes validate with. */
export function buildOpenApiDocument({ serverUrl, settings, routes }: DocumentOptions): OpenApiDocument {
  const { paths, schemas } = pathsOf(routes, settings);
  return {
    openapi: "3.1.0",
    info: {
      title: "IMServer on the edge",
      version: "1.0.0",
      summary: "OpenIM v1 compatible identity and presence: AppServer routes and client WebSocket sessions.",
      description: [
        'Every answer is a JSON envelope, `{"errCode": int, "errMsg": string, …}`, except this document and its page (/openapi.json, /docs); success is `errCode` 0 with an empty `errMsg`.',
        "",
        "- The `secret` is checked first: a request with a missing or wrong secret gets 401 whatever else is wrong, except a body that is not a JSON object (400).",
        "- Security: an AppServer route's secret is a field of its JSON body (`x-body-secret`), which no OpenAPI security scheme can name, so its `security` is `[{}]`. The WebSocket handshake declares `ClientToken`, the query's `token`. Every other route is public.",
        '- Unknown fields are ignored. Types are strict (`"platform": "1"` is a 400) and `null` is never a value.',
        `- A path not listed here answers 404 (errCode ${ErrCode.notFound}) whatever the method; a listed path answers the methods it does not list with 405 and an \`Allow\` header (the MethodNotAllowed response).`,
        "- Lengths in characters count Unicode code points (`minLength`/`maxLength`); `x-maxBytes` counts UTF-8 bytes. `x-rules` lists each check with the wording a 400 uses.",
        `- Bodies larger than ${settings.maxBodyBytes} bytes get 413. Tokens live ${settings.tokenTtlSeconds} s.`,
        "",
        "All error codes are in `x-error-codes`; all field limits in `x-limits` and on each schema.",
      ].join("\n"),
    },
    servers: [{ url: serverUrl }],
    tags: [
      {
        name: "AppServer",
        description: "Called by your backend with the shared secret, in the body's `secret` field.",
      },
      { name: "Client sessions", description: "WebSocket sessions held by client SDKs, one per platform." },
      { name: "Operations", description: "For load balancers and monitors." },
      { name: "Documentation", description: "This document, as JSON and as a page." },
      { name: "Webhooks", description: "What the worker sends to your AppServer." },
    ],
    paths,
    webhooks: { presenceEvents: { post: presenceWebhookOperation(settings) } },
    components: {
      schemas: {
        ...schemas,
        PresenceEventBody: responseJsonSchema(presenceEventBodySchema),
      },
      responses: { MethodNotAllowed: methodNotAllowedResponse() },
      securitySchemes: { [CLIENT_TOKEN_SCHEME]: CLIENT_TOKEN },
    },
    "x-error-codes": ERROR_CODE_DOCS,
    "x-limits": { ...LIMITS, maxBodyBytes: settings.maxBodyBytes },
    "x-platforms": PLATFORM_NAMES,
    "x-websocket": {
      paths: routes.filter((entry) => entry.doc?.kind === "websocket").map((entry) => entry.route.path),
      heartbeat: { send: PING, answer: PONG, timeoutSeconds: settings.heartbeatTimeoutMs / 1000 },
      closeCodes: (Object.keys(CloseCode) as (keyof typeof CloseCode)[]).map((name) => ({
        code: CloseCode[name],
        name,
        meaning: CLOSE_CODE_MEANINGS[name],
      })),
      frames: {
        description: [
          "Presence subscriptions on the same socket. After each subscribe: one `presence` frame, the snapshot of every id it named.",
          "A `set` frame sets the user's own presence: `invisible` and `customStatus` (the user's, across platforms), `background` (this socket's app state).",
          "Then one `presence` entry per change of a watched user's state across platforms, within 2 s; per user in `seq` order, never older than one already sent.",
          "A bad frame or one over a limit: an `error` frame with errCode 400; a frame the server could not carry out: one with 500 (nothing changed: send it again). Either way the socket stays open. Subscriptions end with the socket: resubscribe after a reconnect.",
          "Each frame counts against the frame budget (see close code tooManyFrames).",
        ].join(" "),
        client: {
          subscribe: requestJsonSchema(subscribeFrame),
          unsubscribe: requestJsonSchema(unsubscribeFrame),
          set: requestJsonSchema(setFrame),
        },
        server: { presence: responseJsonSchema(presenceFrameSchema), error: responseJsonSchema(errorFrameSchema) },
        limits: { idsPerFrame: MAX_IDS_PER_FRAME, watchedPerSocket: MAX_WATCHED_PER_SOCKET },
      },
    },
  };
}
