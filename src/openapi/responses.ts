import { z } from "zod";
import { ErrCode, type KnownErrCode, PLATFORM_NAMES, type PresenceEventReason } from "../../protocol";

/** Answer shapes of docs/api.md and docs/protocol.md, for the document and for tests that check real answers against it. */

const platformName = z.enum(Object.values(PLATFORM_NAMES) as [string, ...string[]]);

export function errorEnvelopeSchema(codes: readonly KnownErrCode[]) {
  return z.object({
    errCode: z.literal(codes as [KnownErrCode, ...KnownErrCode[]]),
    errMsg: z.string().min(1),
  });
}

export const successEnvelopeSchema = z.object({ errCode: z.literal(ErrCode.ok), errMsg: z.literal("") });

export const tokenAnswerSchema = successEnvelopeSchema.extend({
  data: z.object({
    uid: z.string(),
    token: z.string().meta({ description: "pass as `token` when connecting the WebSocket" }),
    expiredTime: z.int().meta({ description: "the token's expiry, absolute Unix seconds" }),
  }),
});

/** A custom status as answers and frames carry it (docs/protocol.md#your-own-presence). */
export const customStatusSchema = z
  .object({
    text: z.string().meta({ description: "1–128 characters" }),
    expiresAt: z.int().optional().meta({ description: "Unix seconds; absent: until changed" }),
  })
  .meta({ description: "the user's custom status, while set and unexpired" });

export const onlineStatusEntrySchema = z.object({
  userID: z.string(),
  status: z.enum(["online", "offline"]),
  detailPlatformStatus: z
    .array(
      z.object({
        platform: platformName,
        status: z.literal("online"),
        isBackground: z.boolean().meta({
          description: "every live session on this platform has its app in the background (OpenIM v3's name)",
        }),
      }),
    )
    .optional()
    .meta({ description: "each live platform once; absent when offline" }),
  lastSeen: z.int().optional().meta({
    description:
      "offline users who have been online: Unix milliseconds of the moment their last live session ended; absent otherwise",
  }),
  customStatus: customStatusSchema.optional(),
  invisible: z
    .literal(true)
    .optional()
    .meta({ description: "the user is invisible: its watchers see it offline; you see the truth" }),
});

export const onlineStatusAnswerSchema = successEnvelopeSchema.extend({
  successResult: z
    .array(onlineStatusEntrySchema)
    .meta({ description: "one entry per requested uid, in request order, duplicates kept" }),
});

/** GET /openapi.json: an OpenAPI 3.1 document; the OpenAPI specification defines the rest of its shape. */
export const openApiDocumentSchema = z.looseObject({
  openapi: z.literal("3.1.0"),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.looseObject({})),
});

/** force_logout's answer, and /healthz's: the success envelope alone. */
export const emptyAnswerSchema = successEnvelopeSchema;

export const userInfoSchema = z.object({
  uid: z.string(),
  name: z.string(),
  icon: z.string(),
  gender: z.int().meta({ description: "0 unknown, 1 male, 2 female" }),
  mobile: z.string(),
  birth: z.string(),
  email: z.string(),
  ex: z.string(),
  createTime: z.int().meta({ description: "when the user registered, Unix seconds" }),
  bannedUntil: z.int().optional().meta({ description: "while a ban is in force: when it ends, Unix seconds" }),
  banReason: z.string().optional().meta({ description: "while a ban is in force: the reason it was given" }),
});

export const userInfoAnswerSchema = successEnvelopeSchema.extend({
  data: z.array(userInfoSchema).meta({
    description: "one entry per registered uid asked, in request order, each once; unknown uids are left out",
  }),
});

export const accountCheckAnswerSchema = successEnvelopeSchema.extend({
  result: z
    .array(z.object({ userID: z.string(), accountStatus: z.enum(["registered", "unregistered"]) }))
    .meta({ description: "one entry per requested id, in request order, duplicates kept" }),
});

export const allUsersUidAnswerSchema = successEnvelopeSchema.extend({
  uidList: z.array(z.string()).meta({ description: "registered uids in ascending code-point order" }),
  nextCursor: z
    .string()
    .optional()
    .meta({ description: "pass as `cursor` for the next page; absent on the last page" }),
});

export const deleteUserAnswerSchema = successEnvelopeSchema.extend({
  failedUidList: z
    .array(z.string())
    .meta({ description: "the uids that were not registered (nothing was done for them)" }),
});

export const presenceGrantsAnswerSchema = successEnvelopeSchema.extend({
  userIDList: z.array(z.string()).meta({ description: "uids that may see the user, in ascending code-point order" }),
  nextCursor: z
    .string()
    .optional()
    .meta({ description: "pass as `cursor` for the next page; absent on the last page" }),
});

export const userSessionsAnswerSchema = successEnvelopeSchema.extend({
  data: z.array(
    z.object({
      connID: z.string().meta({ description: "this session's id: force_logout takes it to end this session only" }),
      platformID: z.int().min(1).max(7),
      platform: platformName,
      connectedAt: z.int().meta({ description: "Unix milliseconds" }),
      lastActiveAt: z.int().meta({ description: "its last frame, pings included, Unix milliseconds" }),
    }),
  ),
});

const presenceReason = z.enum([
  "connect",
  "close",
  "kicked",
  "logged_out",
  "heartbeat_timeout",
  "token_expired",
  "deleted",
  "banned",
] satisfies PresenceEventReason[]);

/** A platform of a user went online or offline (docs/webhooks.md#events). */
const platformEventSchema = z.object({
  id: z.string().meta({ description: "unique, and the same on every retry: deduplicate on it" }),
  type: z.enum(["online", "offline"]),
  userID: z.string(),
  platformID: z.int().min(1).max(7),
  platform: platformName,
  reason: presenceReason.meta({
    description:
      "connect for online; close, kicked, logged_out, heartbeat_timeout, token_expired, deleted (delete_user) or banned (ban_user) for offline. A same-platform kick leaves the platform online and sends nothing.",
  }),
  platforms: z.array(platformName).meta({ description: "the user's live platforms right after this change" }),
  seq: z.int().meta({ description: "per user, strictly increasing across all of that user's events" }),
  time: z.int().meta({ description: "Unix milliseconds of the change" }),
  invisible: z
    .literal(true)
    .optional()
    .meta({ description: "present while the user is invisible: watchers see it offline meanwhile" }),
});

/** A change of what the user says about its presence, with its whole state after it (docs/webhooks.md#events). */
const stateEventSchema = z.object({
  id: z.string().meta({ description: "unique, and the same on every retry: deduplicate on it" }),
  type: z.literal("state"),
  userID: z.string(),
  platforms: z.array(platformName).meta({ description: "the user's live platforms" }),
  background: z.array(platformName).meta({ description: "the live platforms whose app is in the background" }),
  invisible: z.boolean(),
  customStatus: customStatusSchema.nullable().meta({ description: "null when none (cleared, or expired)" }),
  seq: z.int().meta({ description: "per user, strictly increasing across all of that user's events" }),
  time: z.int().meta({ description: "Unix milliseconds of the change" }),
});

/** One presence event, as the webhook body carries it. */
export const presenceEventSchema = z.discriminatedUnion("type", [platformEventSchema, stateEventSchema]);

export const presenceEventBodySchema = z.object({
  events: z.array(presenceEventSchema).min(1).max(100),
});

/** A watched user's state in a `presence` frame (docs/protocol.md#presence-subscriptions). */
export const watchedUserSchema = z.discriminatedUnion("status", [
  z.object({
    userID: z.string(),
    status: z.literal("online"),
    platforms: z.array(platformName).min(1).meta({ description: "the user's live platforms, across all devices" }),
    background: z
      .array(platformName)
      .min(1)
      .optional()
      .meta({ description: "the live platforms whose app is in the background; absent when none" }),
    customStatus: customStatusSchema.optional(),
    seq: z.int().meta({ description: "per user, grows with every change: keep the highest, ignore older" }),
  }),
  z.object({
    userID: z.string(),
    status: z.literal("offline"),
    lastSeen: z
      .int()
      .optional()
      .meta({ description: "Unix ms when the last session ended; absent for a user never online" }),
    customStatus: customStatusSchema.optional(),
    seq: z.int().meta({ description: "per user, grows with every change: 0 for a user never online" }),
  }),
]);

/** The server's frame after each subscribe (the snapshot of its ids) and for each change. */
export const presenceFrameSchema = z.object({
  type: z.literal("presence"),
  users: z.array(watchedUserSchema).min(1),
});

/** The server's answer to a frame it refused (400) or could not carry out (500); the socket stays open. */
export const errorFrameSchema = z.object({
  type: z.literal("error"),
  errCode: z.literal([ErrCode.badRequest, ErrCode.internal]).meta({
    description:
      "400: a bad frame or one over a limit; 500: the server could not carry it out (nothing changed: send it again)",
  }),
  errMsg: z.string(),
});
