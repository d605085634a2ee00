/// <reference types="node" />
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { expect, inject, it } from "vitest";
import { freshUid, workerUrl } from "../helpers";

const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

// Plain Node, no bundler and no vitest transform: what an AppServer or a Node client would run.
const PROGRAM = `
import { AppServerClient, Platform } from "imserver-edge/appserver";
import { connect } from "imserver-edge/client";
const [url, secret, uid] = process.argv.slice(1);
const appServer = new AppServerClient({ baseUrl: url, secret });
const { token } = await appServer.registerUser({ uid, platform: Platform.Web, name: "entry" });
const session = connect({ url, uid, token, platform: Platform.Web });
await new Promise((resolve) => session.on("pong", resolve));
const [status] = await appServer.getUsersOnlineStatus([uid]);
session.close();
console.log(JSON.stringify(status));
`;

it("the built package entry points ./appserver and ./client work on their own in plain Node", () => {
  const build = spawnSync(process.execPath, [TSC, "-p", "tsconfig.sdk.json"], { encoding: "utf8" });
  expect(build.status, build.stdout + build.stderr).toBe(0);
  const uid = freshUid("entry");
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", PROGRAM, workerUrl(), inject("imSecret"), uid], {
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout.trim())).toEqual({
    userID: uid,
    status: "online",
    detailPlatformStatus: [{ platform: "Web", status: "online" }],
  });
});
