import { describe, expect, it } from "vitest";
import * as sdk from "../../protocol";
import { ErrCode } from "../../src/errors";
import { PLATFORM_NAMES } from "../../src/platforms";
import { CloseCode, PING, PONG } from "../../src/presence/sockets";
import { LIMITS, type RegisterUserBody, type UserTokenBody } from "../../src/schemas";
import type { RegisterUserInput, UserPlatformInput } from "../../sdk/appserver";

// Compile-time: every SDK input is a valid request body once the secret is added, and covers every body field.
type Assignable<From, To> = From extends To ? true : false;
const registerFits: Assignable<RegisterUserInput & { secret: string }, RegisterUserBody> = true;
const registerCovers: Assignable<keyof RegisterUserBody, keyof RegisterUserInput | "secret"> = true;
const tokenFits: Assignable<UserPlatformInput & { secret: string }, UserTokenBody> = true;

describe("the shared protocol module", () => {
  it("is what the worker answers with: error codes, close codes, platforms, heartbeat text and status batch limit", () => {
    expect(ErrCode).toBe(sdk.ErrCode);
    expect(CloseCode).toBe(sdk.CloseCode);
    expect(PLATFORM_NAMES).toBe(sdk.PLATFORM_NAMES);
    expect([PING, PONG]).toEqual([sdk.PING, sdk.PONG]);
    expect(LIMITS.userIdListLength).toBe(sdk.MAX_UIDS_PER_STATUS_QUERY);
  });

  it("names each platform id the way the status route spells it", () => {
    expect(Object.fromEntries(Object.entries(sdk.Platform).map(([name, id]) => [id, name]))).toEqual(PLATFORM_NAMES);
  });

  it("keeps every SDK input a valid request body once the secret is added", () => {
    expect([registerFits, registerCovers, tokenFits]).toEqual([true, true, true]);
  });
});
