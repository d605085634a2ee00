/// <reference types="node" />
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freshUid, workerUrl } from "../helpers";
import { nodeBinariesByMajor } from "../node-binaries";
import { filesUnder, type InstalledSdk, installPackedSdk, SDK_NAME } from "./packed-sdk";

const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

// Plain Node, no bundler and no vitest transform: what an AppServer or a Node client would run.
const PROGRAM = `
import { AppServerClient, Platform } from "${SDK_NAME}/appserver";
import { connect } from "${SDK_NAME}/client";
const [url, secret, uid] = process.argv.slice(2);
const appServer = new AppServerClient({ baseUrl: url, secret });
const { token } = await appServer.registerUser({ uid, platform: Platform.Web, name: "entry" });
const session = connect({ url, uid, token, platform: Platform.Web });
await new Promise((resolve) => session.on("pong", resolve));
const [status] = await appServer.getUsersOnlineStatus([uid]);
// What the user says about its presence: the app goes to the background, the AppServer sets a status.
session.setBackground(true);
await appServer.setCustomStatus({ uid, customStatus: { text: "packed", expiresAt: new Date(Date.now() + 3_600_000) } });
let later;
for (let tries = 0; tries < 100 && !later?.detailPlatformStatus?.[0]?.isBackground; tries++) {
  if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  [later] = await appServer.getUsersOnlineStatus([uid]);
}
session.close();
const [user] = await appServer.getUserInfo([uid]);
console.log(JSON.stringify({ status, later, name: user?.name }));
`;

// A TypeScript consumer with Node's own resolution: the exports' "types" conditions must lead somewhere.
const TYPED_PROGRAM = `
import {
  AppServerClient,
  Platform,
  type IssuedToken,
  type PresenceEvent,
  type UserInfo,
  type UserOnlineStatus,
} from "${SDK_NAME}/appserver";
import { connect, type ClientSession, type CustomStatusInput, type WatchedUser } from "${SDK_NAME}/client";
const appServer = new AppServerClient({ baseUrl: "http://localhost:8787", secret: "s" });
export const token: Promise<IssuedToken> = appServer.getUserToken({ uid: "u", platform: Platform.Web });
export const users: Promise<UserInfo[]> = appServer.getUserInfo(["u"]);
export const uids: AsyncIterable<string> = appServer.allUserIds({ pageSize: 100 });
export const ban: Promise<void> = appServer.banUser({ uid: "u", until: new Date() });
export const granted: Promise<void> = appServer.setPresenceGrants({ uid: "u", add: ["v"] });
export const grantees: AsyncIterable<string> = appServer.allPresenceGrantees({ uid: "u" });
export const session: ClientSession = connect({ url: "http://localhost:8787", uid: "u", token: "t", platform: Platform.Web });
session.on("banned", ({ until }) => until);
session.setInvisible(true);
session.setBackground(true);
const meeting: CustomStatusInput = { text: "In a meeting", expiresAt: new Date(Date.now() + 3_600_000) };
session.setCustomStatus(meeting);
session.setCustomStatus({ text: "brb", expiresAt: Math.floor(Date.now() / 1000) + 600 });
session.setCustomStatus(null);
export const tab: ClientSession = connect({ url: "http://localhost:8787", uid: "u", token: "t", platform: Platform.Web, trackVisibility: true, document });
export const status: Promise<void> = appServer.setCustomStatus({ uid: "u", customStatus: meeting, operationID: "op" });
export const cleared: Promise<void> = appServer.setCustomStatus({ uid: "u", customStatus: null });
// A webhook event narrows on its type: a state event has the user's whole state, the others a platform.
export function describeEvent(event: PresenceEvent): string {
  if (event.type === "state") return \`\${event.background.join()} \${event.invisible} \${event.customStatus?.text ?? "none"}\`;
  return \`\${event.type} \${event.platform} \${event.reason}\`;
}
export const push = (entry: UserOnlineStatus): boolean =>
  entry.status === "offline" || entry.detailPlatformStatus.every((platform) => platform.isBackground);
export const said = (user: WatchedUser) => [user.status === "online" ? user.background : user.lastSeen, user.customStatus?.expiresAt];
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    module: "nodenext",
    moduleResolution: "nodenext",
    target: "es2022",
    // The declarations name AbortSignal: a consumer has it from the DOM lib or from @types/node.
    lib: ["es2022", "dom"],
    types: [],
  },
  files: ["typed.mts"],
};

// Node 20 has its WebSocket behind a flag (Node 22 has it global); without it, pass options.WebSocket.
const FLAGS_BY_MAJOR: Record<number, string[]> = { 20: ["--experimental-websocket"] };

// What the package may hold: its manifest, README and the built SDK and protocol; nothing from src/.
const PACKAGE_FILE = /^(package\.json|README\.md|dist\/(sdk|protocol)\/[\w-]+\.(js|d\.ts))$/;
const SERVER_DEPENDENCY = /\b(hono|zod|jose)\b/i;

const nodes = nodeBinariesByMajor();
let sdk: InstalledSdk;

beforeAll(() => {
  sdk = installPackedSdk();
}, 180_000);

afterAll(() => sdk?.cleanup());

/** Runs PROGRAM with `node` in the consumer project against the test worker: the uid it used, the status and name it read. */
function runProgram(node: string, major: number): { uid: string; status: unknown; later: unknown; name: unknown } {
  writeFileSync(join(sdk.project, "entry.mjs"), PROGRAM);
  const uid = freshUid(`entry-node${major}`);
  const run = spawnSync(node, [...(FLAGS_BY_MAJOR[major] ?? []), "entry.mjs", workerUrl(), inject("imSecret"), uid], {
    cwd: sdk.project,
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(run.status, `node ${major}: ${run.stderr}`).toBe(0);
  return { uid, ...(JSON.parse(run.stdout.trim()) as { status: unknown; later: unknown; name: unknown }) };
}

const onlineOnWeb = (uid: string) => ({
  userID: uid,
  status: "online",
  detailPlatformStatus: [{ platform: "Web", status: "online", isBackground: false }],
});
/** After the program's setBackground(true) and the AppServer's setCustomStatus. */
const inTheBackground = (uid: string) => ({
  userID: uid,
  status: "online",
  detailPlatformStatus: [{ platform: "Web", status: "online", isBackground: true }],
  customStatus: { text: "packed", expiresAt: expect.any(Number) },
});

describe(`${SDK_NAME}, packed and installed into a fresh project`, () => {
  it("brings nothing else: no dependencies of any kind, only the built SDK and protocol, no server library", () => {
    const manifest = JSON.parse(readFileSync(join(sdk.packageDir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(manifest.name).toBe(SDK_NAME);
    expect(Object.keys(manifest).filter((key) => /dependencies$/i.test(key))).toEqual([]);
    expect(readdirSync(join(sdk.project, "node_modules")).filter((name) => !name.startsWith("."))).toEqual([
      "@imserver-edge",
    ]);

    const files = filesUnder(sdk.packageDir);
    expect(files).toEqual(
      expect.arrayContaining([
        "README.md",
        "dist/sdk/appserver.js",
        "dist/sdk/appserver.d.ts",
        "dist/sdk/client.js",
        "dist/sdk/client.d.ts",
        "dist/protocol/index.js",
      ]),
    );
    expect(files.filter((file) => !PACKAGE_FILE.test(file))).toEqual([]);
    expect(files.filter((file) => SERVER_DEPENDENCY.test(readFileSync(join(sdk.packageDir, file), "utf8")))).toEqual(
      [],
    );
  });

  it("gives a TypeScript consumer the types of both entry points", () => {
    writeFileSync(join(sdk.project, "typed.mts"), TYPED_PROGRAM);
    writeFileSync(join(sdk.project, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG));
    const check = spawnSync(process.execPath, [TSC, "-p", sdk.project], { encoding: "utf8", timeout: 60_000 });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("works from plain Node 22: register, connect, pong, status, background and custom status, profile", () => {
    const node22 = nodes.get(22);
    if (!node22) throw new Error(`no Node 22 found (looked at ${process.execPath}, PATH and the node devDependency)`);
    const { uid, status, later, name } = runProgram(node22, 22);
    expect(status).toEqual(onlineOnWeb(uid));
    expect(later).toEqual(inTheBackground(uid));
    expect(name).toBe("entry");
  });

  it("works from plain Node 20: register, connect, pong, status, background and custom status, profile", (context) => {
    const node20 = nodes.get(20);
    if (!node20) {
      return context.skip("no Node 20 on this machine (PATH, /usr/bin, /usr/local/bin): the Node 20 half did not run");
    }
    const { uid, status, later, name } = runProgram(node20, 20);
    expect(status).toEqual(onlineOnWeb(uid));
    expect(later).toEqual(inTheBackground(uid));
    expect(name).toBe("entry");
  });
});
