import { z } from "zod";
import { ErrCode, type KnownErrCode, PLATFORM_NAMES } from "../../protocol";

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

export const onlineStatusEntrySchema = z.object({
  userID: z.string(),
  status: z.enum(["online", "offline"]),
  detailPlatformStatus: z
    .array(z.object({ platform: platformName, status: z.literal("online") }))
    .optional()
    .meta({ description: "each live platform once; absent when offline" }),
  lastSeen: z.int().optional().meta({
    description:
      "offline users who have been online: Unix milliseconds of the moment their last live session ended; absent otherwise",
  }),
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

const presenceReason = z.enum(["connect", "close", "kicked", "logged_out", "heartbeat_timeout", "token_expired"]);

/** One presence event (docs/webhooks.md#events), as the webhook body carries it. */
export const presenceEventSchema = z.object({
  id: z.string().meta({ description: "unique, and the same on every retry: deduplicate on it" }),
  type: z.enum(["online", "offline"]),
  userID: z.string(),
  platformID: z.int().min(1).max(7),
  platform: platformName,
  reason: presenceReason.meta({
    description:
      "connect for online; close, kicked, logged_out, heartbeat_timeout or token_expired for offline. A same-platform kick leaves the platform online and sends nothing.",
  }),
  platforms: z.array(platformName).meta({ description: "the user's live platforms right after this change" }),
  seq: z.int().meta({ description: "per user, strictly increasing across all of that user's events" }),
  time: z.int().meta({ description: "Unix milliseconds of the change" }),
});

export const presenceEventBodySchema = z.object({
  events: z.array(presenceEventSchema).min(1).max(100),
});

/** A watched user's state in a `presence` frame (docs/protocol.md#presence-subscriptions). */
export const watchedUserSchema = z.discriminatedUnion("status", [
  z.object({
    userID: z.string(),
    status: z.literal("online"),
    platforms: z.array(platformName).min(1).meta({ description: "the user's live platforms, across all devices" }),
    seq: z.int().meta({ description: "per user, grows with every change: keep the highest, ignore older" }),
  }),
  z.object({
    userID: z.string(),
    status: z.literal("offline"),
    lastSeen: z
      .int()
      .optional()
      .meta({ description: "Unix ms when the last session ended; absent for a user never online" }),
    seq: z.int().meta({ description: "per user, grows with every change: 0 for a user never online" }),
  }),
]);

/** The server's frame after each subscribe (the snapshot of its ids) and for each change. */
export const presenceFrameSchema = z.object({
  type: z.literal("presence"),
  users: z.array(watchedUserSchema).min(1),
});

/** The server's answer to a bad frame or one over a limit; the socket stays open. */
export const errorFrameSchema = z.object({
  type: z.literal("error"),
  errCode: z.literal(400),
  errMsg: z.string(),
});
