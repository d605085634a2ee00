import { describe, expect, it } from "vitest";
import * as sdk from "../../sdk/protocol";
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

describe("the SDK's copy of the protocol facts", () => {
  it("matches the server's error codes, close codes, platforms, heartbeat text and status batch limit", () => {
    expect(sdk.ErrCode).toEqual(ErrCode);
    expect(sdk.CloseCode).toEqual(CloseCode);
    expect(sdk.PLATFORM_NAMES).toEqual(PLATFORM_NAMES);
    expect(Object.fromEntries(Object.entries(sdk.Platform).map(([name, id]) => [id, name]))).toEqual(PLATFORM_NAMES);
    expect([sdk.PING, sdk.PONG]).toEqual([PING, PONG]);
    expect(sdk.MAX_UIDS_PER_STATUS_QUERY).toBe(LIMITS.userIdListLength);
    expect([registerFits, registerCovers, tokenFits]).toEqual([true, true, true]);
  });
});
