import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { WorkerEnv as Env } from "../src/config";
import { parseDuration, parseLoginPolicy, readSettings, requireImSecrets, requireSigningKeys } from "../src/config";
import { ApiError } from "../src/errors";

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["30", 30_000],
    ["500ms", 500],
    ["1.5s", 1_500],
    ["7d", 604_800_000],
    ["2h", 7_200_000],
    ["10m", 600_000],
  ])("reads %s as %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "0", "-1s", "abc", "10 parsecs", "1e3"])("refuses %j", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe("parseLoginPolicy", () => {
  it("reads both policies", () => {
    expect(parseLoginPolicy("kick_same_platform")).toEqual({ kind: "kick_same_platform" });
    expect(parseLoginPolicy("max_per_platform:3")).toEqual({ kind: "max_per_platform", max: 3 });
  });
  it.each(["", "max_per_platform:0", "max_per_platform", "allow_all"])("refuses %j", (text) =>
    expect(parseLoginPolicy(text)).toBeUndefined(),
  );
});

describe("settings", () => {
  const base = { ...env } as Env;

  it("defaults every var", () => {
    const settings = readSettings({ DB: env.DB } as Env);
    expect(settings).toEqual({
      tokenTtlSeconds: 604_800,
      heartbeatTimeoutMs: 30_000,
      maxBodyBytes: 65_536,
      loginPolicy: { kind: "kick_same_platform" },
      presenceShards: 1,
      visibility: "everyone",
      webhooks: { graceMs: 0, retryDelayMs: 10_000 },
    });
  });

  it("names a var with a bad value", () => {
    expect(() => readSettings({ ...base, HEARTBEAT_TIMEOUT: "soon" })).toThrow(
      /HEARTBEAT_TIMEOUT has an invalid value/,
    );
  });

  it("refuses a signing key that is short or equal to IM_SECRET", () => {
    const short = { ...base, TOKEN_SIGNING_KEY: "short" };
    expect(() => requireSigningKeys(short)).toThrow(/TOKEN_SIGNING_KEY is shorter than 32 characters/);
    const same = "x".repeat(32);
    expect(() => requireSigningKeys({ ...base, IM_SECRET: same, TOKEN_SIGNING_KEY: same })).toThrow(
      /must differ from IM_SECRET/,
    );
  });

  it("refuses an IM_SECRET longer than 32 characters", () => {
    expect(() => requireImSecrets({ ...base, IM_SECRET: "s".repeat(33) })).toThrow(ApiError);
  });
});
