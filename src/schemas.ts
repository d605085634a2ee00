import { z } from "zod";
import {
  MAX_CUSTOM_STATUS_CHARS,
  MAX_CUSTOM_STATUS_SECONDS,
  MAX_IDS_PER_FRAME,
  MAX_UIDS_PER_MANAGE_CALL,
  MAX_UIDS_PER_PAGE,
  MAX_UIDS_PER_STATUS_QUERY,
  MAX_UIDS_PER_USER_INFO_QUERY,
  type PlatformId,
} from "../protocol";
import { decodeCursor } from "./lib/cursor";
import { MAX_PLATFORM, MIN_PLATFORM } from "./platforms";

/** Request limits (docs/api.md): one source for the validators, the docs and the tests. */
export const LIMITS = {
  uidChars: 64,
  nameChars: 64,
  iconBytes: 1024,
  mobileChars: 32,
  birthChars: 16,
  emailChars: 64,
  exChars: 1024,
  operationIdChars: 64,
  userIdListLength: MAX_UIDS_PER_STATUS_QUERY,
  /** get_user_info */
  userInfoListLength: MAX_UIDS_PER_USER_INFO_QUERY,
  /** account_check and delete_user */
  manageListLength: MAX_UIDS_PER_MANAGE_CALL,
  /** get_all_users_uid's page, at most and by default */
  pageLimit: MAX_UIDS_PER_PAGE,
  banReasonChars: 128,
  connIdChars: 64,
  /** set_presence_grants: uids to add, and to remove, per call */
  grantsPerCall: 1000,
} as const;

/** Grants one user may hold (docs/api.md#post-managerset_presence_grants). */
export const MAX_GRANTS_PER_USER = 10_000;

const utf8 = new TextEncoder();

/** Length in Unicode code points: "张三" is 2, an emoji is 1. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function utf8ByteLength(text: string): number {
  return utf8.encode(text).byteLength;
}

function describe(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  return `a ${typeof input}`;
}

/** "is required" for a missing field, otherwise what was expected and what came. */
function typeError(expected: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? "is required" : `must be ${expected}, not ${describe(issue.input)}`;
}

const string = () => z.string({ error: typeError("a string") });

// The .meta() keywords publish each refined limit in the OpenAPI document (JSON Schema lengths count code points too).
export function chars(min: number, max: number) {
  return string()
    .refine((s) => codePointLength(s) >= min, min === 1 ? "must not be empty" : `at least ${min} characters`)
    .refine((s) => codePointLength(s) <= max, `at most ${max} characters`)
    .meta(min > 0 ? { minLength: min, maxLength: max } : { maxLength: max });
}

function maxBytes(max: number) {
  return string()
    .refine((s) => utf8ByteLength(s) <= max, `at most ${max} bytes (UTF-8)`)
    .meta({ "x-maxBytes": max });
}

/**
 * uid rules (docs/security.md#uid-rules). Every route refuses an id with a
 * lone surrogate: it cannot travel as UTF-8 (it comes back as U+FFFD), so
 * such a user could get a token yet never connect. Other routes keep ids
 * opaque: an id that could never be registered is simply unknown
 * (602/offline), and one registered before a rule was added keeps working.
 */
export const anyUid = chars(1, LIMITS.uidChars).refine((s) => s.isWellFormed(), {
  error: "must be well-formed Unicode (no lone surrogates)",
  abort: true,
});

/**
 * Registration also refuses an id that could pass for another: one holding a
 * character that shows as nothing or as a plain space, or one that NFKC
 * would change (a fullwidth or mathematical "a" looks like "a"; a decomposed
 * "é" like the composed one). The first rule broken is the one named.
 */
const CONTROL = /\p{Cc}/u;
const FORMAT = /\p{Cf}/u;
const WHITE_SPACE = /\p{White_Space}/u;
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
// Each rule stops the chain, so a refusal names one rule, the first broken.
const firstBroken = { abort: true } as const;

const registeredUid = anyUid
  .refine((s) => !CONTROL.test(s), { ...firstBroken, error: "must not contain control characters (Unicode Cc)" })
  .refine((s) => !FORMAT.test(s), {
    ...firstBroken,
    error: "must not contain format characters (Unicode Cf: zero-width, joiners, bidi controls, BOM)",
  })
  .refine((s) => !WHITE_SPACE.test(s), {
    ...firstBroken,
    error:
      "must not contain white space (Unicode White_Space: spaces of any width, NBSP, U+3000, line and paragraph separators)",
  })
  .refine((s) => !DEFAULT_IGNORABLE.test(s), {
    ...firstBroken,
    error:
      "must not contain default-ignorable characters (Unicode Default_Ignorable_Code_Point: fillers, variation selectors, U+034F)",
  })
  .refine((s) => s === s.normalize("NFKC"), {
    ...firstBroken,
    error:
      "must be unchanged by NFKC (no fullwidth, mathematical, ligature or other compatibility forms, no decomposed letters)",
  });

const platform = z
  .int({ error: typeError("an integer") })
  .min(MIN_PLATFORM, `must be ${MIN_PLATFORM}–${MAX_PLATFORM}`)
  .max(MAX_PLATFORM, `must be ${MIN_PLATFORM}–${MAX_PLATFORM}`)
  .transform((id) => id as PlatformId);

const gender = z
  .int({ error: typeError("an integer") })
  .min(0, "must be 0 (unknown), 1 (male) or 2 (female)")
  .max(2, "must be 0 (unknown), 1 (male) or 2 (female)");

const PROFILE_FIELD_NAMES = ["name", "icon", "gender", "mobile", "birth", "email", "ex"] as const;

/** Fields every AppServer request may carry. The secret itself is checked before the schema runs. */
const appServerRequest = {
  secret: string(),
  operationID: chars(0, LIMITS.operationIdChars).optional(),
};

/** A user's profile fields and their rules (docs/api.md#post-authuser_register), each optional. */
const profileFields = {
  name: chars(0, LIMITS.nameChars).optional(),
  icon: maxBytes(LIMITS.iconBytes).optional(),
  gender: gender.optional(),
  mobile: chars(0, LIMITS.mobileChars).optional(),
  birth: chars(0, LIMITS.birthChars).optional(),
  email: chars(0, LIMITS.emailChars).optional(),
  ex: chars(0, LIMITS.exChars).optional(),
};

export const registerUserBody = z.object({
  ...appServerRequest,
  platform,
  uid: registeredUid,
  ...profileFields,
  name: chars(0, LIMITS.nameChars),
});

export const userTokenBody = z.object({ ...appServerRequest, platform, uid: anyUid });

export const forceLogoutBody = userTokenBody.extend({
  /** One session only (docs/api.md#post-authforce_logout): its connID from get_user_sessions. */
  connID: chars(1, LIMITS.connIdChars).optional(),
});

/** A list of uids (lookups, like a status list's) of 1 to `max` entries. */
function uidList(max: number) {
  return z
    .array(anyUid, { error: typeError("an array of uids") })
    .min(1, "must name at least one uid")
    .max(max, `at most ${max} uids`);
}

export const getUserInfoBody = z.object({ ...appServerRequest, uidList: uidList(LIMITS.userInfoListLength) });

export const updateUserInfoBody = z
  .object({ ...appServerRequest, uid: anyUid, ...profileFields })
  .refine((body) => PROFILE_FIELD_NAMES.some((field) => body[field] !== undefined), {
    error: `at least one of ${PROFILE_FIELD_NAMES.join(", ")} must be given`,
  });

export const accountCheckBody = z.object({ ...appServerRequest, userIDList: uidList(LIMITS.manageListLength) });

export const getAllUsersUidBody = z.object({
  ...appServerRequest,
  cursor: string()
    .transform((cursor, ctx) => {
      const after = decodeCursor(cursor);
      if (after === undefined) ctx.addIssue({ code: "custom", message: "must be a nextCursor from an earlier answer" });
      return after ?? z.NEVER;
    })
    .optional(),
  limit: z
    .int({ error: typeError("an integer") })
    .min(1, `must be 1–${LIMITS.pageLimit}`)
    .max(LIMITS.pageLimit, `must be 1–${LIMITS.pageLimit}`)
    .optional(),
});

export const deleteUserBody = z.object({ ...appServerRequest, deleteUidList: uidList(LIMITS.manageListLength) });

/** Unix seconds up to the last second of year 9999: any later has no date to name. */
const MAX_UNIX_SECONDS = 253_402_300_799;

export const banUserBody = z.object({
  ...appServerRequest,
  uid: anyUid,
  until: z
    .int({ error: typeError("an integer") })
    .min(0, "must be Unix seconds, 0 or in the past to lift the ban")
    .max(MAX_UNIX_SECONDS, `must be at most ${MAX_UNIX_SECONDS} (year 9999)`),
  reason: chars(0, LIMITS.banReasonChars).optional(),
});

export const getUserSessionsBody = z.object({ ...appServerRequest, uid: anyUid });

/** A list of 0 to `max` uids. */
function optionalUidList(max: number) {
  return z
    .array(anyUid, { error: typeError("an array of uids") })
    .max(max, `at most ${max} uids`)
    .optional();
}

export const setPresenceGrantsBody = z
  .object({
    ...appServerRequest,
    uid: anyUid,
    add: optionalUidList(LIMITS.grantsPerCall),
    remove: optionalUidList(LIMITS.grantsPerCall),
  })
  .refine((body) => (body.add?.length ?? 0) + (body.remove?.length ?? 0) > 0, {
    error: "add or remove must name at least one uid",
  })
  .refine((body) => !body.add?.some((uid) => body.remove?.includes(uid)), {
    error: "a uid may not be both added and removed",
  });

/**
 * A custom status (docs/protocol.md#your-own-presence): 1–128 characters with
 * no control characters, and an optional expiry in Unix seconds, in the
 * future and at most 30 days ahead. The same rules for a `set` frame and for
 * set_custom_status.
 */
export const customStatus = z.object(
  {
    text: chars(1, MAX_CUSTOM_STATUS_CHARS)
      .refine((s) => s.isWellFormed(), { ...firstBroken, error: "must be well-formed Unicode (no lone surrogates)" })
      .refine((s) => !CONTROL.test(s), "must not contain control characters (Unicode Cc)"),
    expiresAt: z
      .int({ error: typeError("an integer (Unix seconds)") })
      .refine((at) => at * 1000 > Date.now(), { ...firstBroken, error: "must be in the future (Unix seconds)" })
      .refine(
        (at) => at * 1000 <= Date.now() + MAX_CUSTOM_STATUS_SECONDS * 1000,
        `must be at most ${MAX_CUSTOM_STATUS_SECONDS / 86_400} days ahead`,
      )
      .optional(),
  },
  { error: typeError("an object with text (and expiresAt), or null to clear it") },
);

export const setCustomStatusBody = z.object({
  ...appServerRequest,
  uid: anyUid,
  customStatus: customStatus.nullable(),
});

export const getPresenceGrantsBody = z.object({
  ...appServerRequest,
  uid: anyUid,
  cursor: getAllUsersUidBody.shape.cursor,
  limit: getAllUsersUidBody.shape.limit,
});

export const onlineStatusBody = z.object({
  ...appServerRequest,
  userIDList: z
    .array(anyUid, { error: typeError("an array of uids") })
    .max(LIMITS.userIdListLength, `at most ${LIMITS.userIdListLength} uids`),
});

/** OpenIM's connect query: sendID, token, platformID (and an optional operationID). */
export const connectQuery = z.object({
  sendID: anyUid,
  token: z.string({ error: "is required" }).min(1, "must not be empty"),
  platformID: z
    .string({ error: "is required" })
    .regex(new RegExp(`^[${MIN_PLATFORM}-${MAX_PLATFORM}]$`), `must be an integer ${MIN_PLATFORM}–${MAX_PLATFORM}`)
    .transform((s) => Number(s) as PlatformId),
  operationID: chars(0, LIMITS.operationIdChars).optional(),
});

/**
 * The ids of a subscribe or unsubscribe frame: lookups, so any well-formed uid
 * (docs/protocol.md#presence-subscriptions), like a status list's.
 */
const watchedIds = z
  .array(anyUid, { error: typeError("an array of uids") })
  .min(1, "must name at least one uid")
  .max(MAX_IDS_PER_FRAME, `at most ${MAX_IDS_PER_FRAME} uids per frame`);

export const subscribeFrame = z.object({ type: z.literal("subscribe"), userIDs: watchedIds });
export const unsubscribeFrame = z.object({ type: z.literal("unsubscribe"), userIDs: watchedIds });

const flag = () => z.boolean({ error: typeError("true or false") });

/** Sets something about the user's own presence (docs/protocol.md#your-own-presence); at least one field. */
export const setFrame = z
  .object({
    type: z.literal("set"),
    invisible: flag().optional(),
    background: flag().optional(),
    customStatus: customStatus.nullable().optional(),
  })
  .refine(
    (frame) => frame.invisible !== undefined || frame.background !== undefined || frame.customStatus !== undefined,
    { error: "set: name what to set (invisible, background or customStatus)" },
  );

/** A client's JSON frame on its socket (docs/protocol.md). */
export const clientFrame = z.discriminatedUnion("type", [subscribeFrame, unsubscribeFrame, setFrame], {
  error: "type: must be subscribe, unsubscribe or set",
});

export type RegisterUserBody = z.infer<typeof registerUserBody>;
export type UserTokenBody = z.infer<typeof userTokenBody>;
export type OnlineStatusBody = z.infer<typeof onlineStatusBody>;

/** The first few problems of a failed parse, each as `field: rule`. */
export function describeIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.map(String).join(".") : "body"}: ${issue.message}`)
    .join("; ");
}
