import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type { ClientPresenceFrame, ErrorFrame, PresenceEvent, PresenceFrame, SetFrame } from "../../protocol";
import * as sdk from "../../protocol";
import type {
  AccountStatus,
  BanUserInput,
  DeleteUsersResult,
  ForceLogoutInput,
  IssuedToken,
  PresenceGrantsPage,
  PresenceGrantsPageInput,
  RegisterUserInput,
  SetCustomStatusInput,
  SetPresenceGrantsInput,
  UpdateUserInfoInput,
  UserIdInput,
  UserIdPage,
  UserIdPageInput,
  UserInfo,
  UserOnlineStatus,
  UserPlatformInput,
  UserSession,
} from "../../sdk/appserver";
import type { CustomStatusInput } from "../../sdk/custom-status";
import type {
  accountCheckAnswerSchema,
  allUsersUidAnswerSchema,
  customStatusSchema,
  deleteUserAnswerSchema,
  errorFrameSchema,
  onlineStatusEntrySchema,
  presenceEventSchema,
  presenceFrameSchema,
  presenceGrantsAnswerSchema,
  tokenAnswerSchema,
  userInfoSchema,
  userSessionsAnswerSchema,
} from "../../src/openapi/responses";
import {
  type accountCheckBody,
  type banUserBody,
  type customStatus,
  type deleteUserBody,
  type forceLogoutBody,
  type getAllUsersUidBody,
  type getPresenceGrantsBody,
  type getUserInfoBody,
  type getUserSessionsBody,
  LIMITS,
  type RegisterUserBody,
  type setCustomStatusBody,
  type setFrame,
  type setPresenceGrantsBody,
  type subscribeFrame,
  type UserTokenBody,
  type unsubscribeFrame,
  type updateUserInfoBody,
} from "../../src/schemas";

// Compile-time: every SDK input is a valid request body once the secret is added, and covers every body field.
// Wrapped in a tuple so a union is checked whole, not member by member.
type Assignable<From, To> = [From] extends [To] ? true : false;
const registerFits: Assignable<RegisterUserInput & { secret: string }, RegisterUserBody> = true;
const registerCovers: Assignable<keyof RegisterUserBody, keyof RegisterUserInput | "secret"> = true;
const tokenFits: Assignable<UserPlatformInput & { secret: string }, UserTokenBody> = true;
// ...and every answer the SDK types is one the worker documents, field for field.
type StatusEntry = z.infer<typeof onlineStatusEntrySchema>;
type KeysOfEither<T> = T extends unknown ? keyof T : never;
const statusFits: Assignable<UserOnlineStatus, StatusEntry> = true;
const statusCovers: Assignable<keyof StatusEntry, KeysOfEither<UserOnlineStatus>> = true;
// Field for field one level down too: each platform's entry (isBackground) and the custom status.
type SdkPlatformStatus = Elements<Extract<UserOnlineStatus, { status: "online" }>["detailPlatformStatus"]>;
type SchemaPlatformStatus = Elements<NonNullable<StatusEntry["detailPlatformStatus"]>>;
const statusNestedSame: Assignable<SdkPlatformStatus, SchemaPlatformStatus> &
  Same<keyof SdkPlatformStatus, keyof SchemaPlatformStatus> &
  Same<sdk.CustomStatus, z.infer<typeof customStatusSchema>> &
  // keyof a union is the keys every member has: both entries' customStatus name expiresAt.
  Same<keyof NonNullable<UserOnlineStatus["customStatus"]>, keyof NonNullable<StatusEntry["customStatus"]>> = true;
const tokenAnswerSame: Assignable<IssuedToken, z.infer<typeof tokenAnswerSchema>["data"]> &
  Assignable<z.infer<typeof tokenAnswerSchema>["data"], IssuedToken> = true;

// The user-management routes. Requests are checked against what the schemas take (z.input: a cursor
// goes in as the string the server decodes); the SDK's batched calls send a list of ids it builds itself.
type Body<Schema extends z.ZodType> = z.input<Schema>;
type WithSecret<T> = T & { secret: string };
type Same<A, B> = Assignable<A, B> & Assignable<B, A>;
type Elements<T> = T extends readonly (infer Element)[] ? Element : never;
const updateFits: Assignable<WithSecret<UpdateUserInfoInput>, Body<typeof updateUserInfoBody>> = true;
const updateCovers: Assignable<keyof Body<typeof updateUserInfoBody>, KeysOfEither<UpdateUserInfoInput> | "secret"> =
  true;
const pageFits: Assignable<WithSecret<UserIdPageInput>, Body<typeof getAllUsersUidBody>> = true;
const pageCovers: Assignable<keyof Body<typeof getAllUsersUidBody>, keyof UserIdPageInput | "secret"> = true;
// banUser takes a Date too, and sends Unix seconds.
type BanWire = Omit<BanUserInput, "until"> & { until: number };
const banFits: Assignable<WithSecret<BanWire>, Body<typeof banUserBody>> = true;
const banCovers: Assignable<keyof Body<typeof banUserBody>, keyof BanUserInput | "secret"> = true;
const sessionsFits: Same<WithSecret<UserIdInput>, Body<typeof getUserSessionsBody>> = true;
const logoutFits: Assignable<WithSecret<ForceLogoutInput>, Body<typeof forceLogoutBody>> = true;
const logoutCovers: Assignable<keyof Body<typeof forceLogoutBody>, keyof ForceLogoutInput | "secret"> = true;
const listsFit: Assignable<{ secret: string; uidList: string[]; operationID?: string }, Body<typeof getUserInfoBody>> &
  Assignable<{ secret: string; userIDList: string[]; operationID?: string }, Body<typeof accountCheckBody>> &
  Assignable<{ secret: string; deleteUidList: string[]; operationID?: string }, Body<typeof deleteUserBody>> = true;
// Answers: what the SDK types is what the worker documents, field for field.
type UserInfoEntry = z.infer<typeof userInfoSchema>;
const userInfoFits: Assignable<UserInfo, UserInfoEntry> & Assignable<keyof UserInfoEntry, keyof UserInfo> = true;
const accountFits: Same<AccountStatus, Elements<z.infer<typeof accountCheckAnswerSchema>["result"]>> = true;
type AnswerFields<Schema extends z.ZodType> = Omit<z.infer<Schema>, "errCode" | "errMsg">;
const pageAnswerFits: Same<UserIdPage, AnswerFields<typeof allUsersUidAnswerSchema>> = true;
const deleteAnswerFits: Same<DeleteUsersResult, AnswerFields<typeof deleteUserAnswerSchema>> = true;
type SessionEntry = Elements<z.infer<typeof userSessionsAnswerSchema>["data"]>;
const sessionFits: Assignable<UserSession, SessionEntry> & Assignable<keyof SessionEntry, keyof UserSession> = true;
// The presence grants: the input wants add or remove (a union), so its keys are those of either member.
const grantsFit: Assignable<WithSecret<SetPresenceGrantsInput>, Body<typeof setPresenceGrantsBody>> = true;
const grantsCover: Assignable<
  keyof Body<typeof setPresenceGrantsBody>,
  KeysOfEither<SetPresenceGrantsInput> | "secret"
> = true;
const grantsPageFits: Assignable<WithSecret<PresenceGrantsPageInput>, Body<typeof getPresenceGrantsBody>> = true;
const grantsPageCovers: Assignable<keyof Body<typeof getPresenceGrantsBody>, keyof PresenceGrantsPageInput | "secret"> =
  true;
const grantsAnswerFits: Same<PresenceGrantsPage, AnswerFields<typeof presenceGrantsAnswerSchema>> = true;
// set_custom_status: the SDK takes a Date for expiresAt too, and sends Unix seconds (wireCustomStatus).
type CustomStatusWire = Omit<SetCustomStatusInput, "customStatus"> & { customStatus: sdk.CustomStatus | null };
const customStatusFits: Assignable<WithSecret<CustomStatusWire>, Body<typeof setCustomStatusBody>> = true;
const customStatusCovers: Assignable<keyof Body<typeof setCustomStatusBody>, keyof SetCustomStatusInput | "secret"> =
  true;
// The status both SDKs take names exactly the fields the server reads.
const customStatusInputCovers: Same<keyof CustomStatusInput, keyof z.input<typeof customStatus>> &
  Assignable<sdk.CustomStatus, z.input<typeof customStatus>> = true;
// The webhook event the SDK types is the one the OpenAPI document describes.
const eventFits: Assignable<PresenceEvent, z.infer<typeof presenceEventSchema>> = true;
const eventCovers: Assignable<keyof z.infer<typeof presenceEventSchema>, keyof PresenceEvent> = true;
// The presence frames the worker sends (typed by the protocol module) are the ones the OpenAPI document
// describes; the error frames it documents (400 and 500) are the ones it sends and the SDK reads; the SDK's
// frames are ones the worker accepts.
const framesFit: Assignable<PresenceFrame, z.infer<typeof presenceFrameSchema>> &
  Same<z.infer<typeof errorFrameSchema>, ErrorFrame> &
  Assignable<ClientPresenceFrame, z.infer<typeof subscribeFrame> | z.infer<typeof unsubscribeFrame>> &
  Assignable<SetFrame, z.input<typeof setFrame>> = true;

describe("the shared protocol module", () => {
  // The worker imports error codes, close codes, platforms and the heartbeat text from this module itself.
  it("holds the batch and page limits the worker's schemas enforce", () => {
    expect(LIMITS.userIdListLength).toBe(sdk.MAX_UIDS_PER_STATUS_QUERY);
    expect(LIMITS.userInfoListLength).toBe(sdk.MAX_UIDS_PER_USER_INFO_QUERY);
    expect(LIMITS.manageListLength).toBe(sdk.MAX_UIDS_PER_MANAGE_CALL);
    expect(LIMITS.pageLimit).toBe(sdk.MAX_UIDS_PER_PAGE);
  });

  it("spells a ban's close reason once: the end the worker writes is the end the SDK reads", () => {
    expect(sdk.bannedCloseReason(1_764_300_000)).toBe("banned until 1764300000");
    expect(sdk.banEndOf(sdk.bannedCloseReason(1_764_300_000))).toBe(1_764_300_000);
    for (const unreadable of [
      "banned",
      "banned until ",
      "banned until -1",
      "banned until 12s",
      "banned until 1e9",
      "",
    ]) {
      expect(sdk.banEndOf(unreadable), unreadable).toBeUndefined();
    }
  });

  it("names each platform id the way the status route spells it", () => {
    expect(Object.fromEntries(Object.entries(sdk.Platform).map(([name, id]) => [id, name]))).toEqual(
      sdk.PLATFORM_NAMES,
    );
  });

  it("keeps every SDK input a valid request body, and every SDK answer type what the worker documents", () => {
    expect([
      registerFits,
      registerCovers,
      tokenFits,
      statusFits,
      statusCovers,
      statusNestedSame,
      tokenAnswerSame,
      eventFits,
      eventCovers,
      framesFit,
    ]).toEqual(Array(10).fill(true));
  });

  it("keeps the user-management inputs valid request bodies, and their answer types what the worker documents", () => {
    expect([
      updateFits,
      updateCovers,
      pageFits,
      pageCovers,
      banFits,
      banCovers,
      sessionsFits,
      logoutFits,
      logoutCovers,
      listsFit,
      userInfoFits,
      accountFits,
      pageAnswerFits,
      deleteAnswerFits,
      sessionFits,
    ]).toEqual(Array(15).fill(true));
  });

  it("keeps the presence-grant inputs valid request bodies, and the grants page what the worker documents", () => {
    expect([grantsFit, grantsCover, grantsPageFits, grantsPageCovers, grantsAnswerFits]).toEqual(Array(5).fill(true));
  });

  it("keeps set_custom_status's input a valid request body, naming exactly the status fields the server reads", () => {
    expect([customStatusFits, customStatusCovers, customStatusInputCovers]).toEqual(Array(3).fill(true));
  });
});
