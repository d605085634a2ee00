import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type { ClientPresenceFrame, ErrorFrame, PresenceEvent, PresenceFrame } from "../../protocol";
import * as sdk from "../../protocol";
import type { IssuedToken, RegisterUserInput, UserOnlineStatus, UserPlatformInput } from "../../sdk/appserver";
import type {
  errorFrameSchema,
  onlineStatusEntrySchema,
  presenceEventSchema,
  presenceFrameSchema,
  tokenAnswerSchema,
} from "../../src/openapi/responses";
import {
  LIMITS,
  type RegisterUserBody,
  type subscribeFrame,
  type UserTokenBody,
  type unsubscribeFrame,
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
const tokenAnswerSame: Assignable<IssuedToken, z.infer<typeof tokenAnswerSchema>["data"]> &
  Assignable<z.infer<typeof tokenAnswerSchema>["data"], IssuedToken> = true;
// The webhook event the SDK types is the one the OpenAPI document describes.
const eventFits: Assignable<PresenceEvent, z.infer<typeof presenceEventSchema>> = true;
const eventCovers: Assignable<keyof z.infer<typeof presenceEventSchema>, keyof PresenceEvent> = true;
// The presence frames the worker sends (typed by the protocol module) are the ones the OpenAPI document
// describes; the error frame it documents is one the SDK reads; the SDK's frames are ones the worker accepts.
const framesFit: Assignable<PresenceFrame, z.infer<typeof presenceFrameSchema>> &
  Assignable<z.infer<typeof errorFrameSchema>, ErrorFrame> &
  Assignable<ClientPresenceFrame, z.infer<typeof subscribeFrame> | z.infer<typeof unsubscribeFrame>> = true;

describe("the shared protocol module", () => {
  // The worker imports error codes, close codes, platforms and the heartbeat text from this module itself.
  it("holds the batch and page limits the worker's schemas enforce", () => {
    expect(LIMITS.userIdListLength).toBe(sdk.MAX_UIDS_PER_STATUS_QUERY);
    expect(LIMITS.userInfoListLength).toBe(sdk.MAX_UIDS_PER_USER_INFO_QUERY);
    expect(LIMITS.manageListLength).toBe(sdk.MAX_UIDS_PER_MANAGE_CALL);
    expect(LIMITS.pageLimit).toBe(sdk.MAX_UIDS_PER_PAGE);
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
      tokenAnswerSame,
      eventFits,
      eventCovers,
      framesFit,
    ]).toEqual(Array(9).fill(true));
  });
});
