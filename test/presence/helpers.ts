import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { readSettings } from "../../src/config";
import { platformName } from "../../src/platforms";
import { presenceShardFor } from "../../src/presence/shards";
import { openSockets, readAttachment } from "../../src/presence/sockets";
import { userSession } from "../../src/presence/user-sessions";
import { onlinePlatforms, type TestSocket } from "../helpers";

export function sessionStub(uid: string) {
  return userSession(env, uid);
}

/** The presence shard that holds the user, as the worker finds it. */
export function shardStub(uid: string) {
  return presenceShardFor(env, uid, readSettings(env).presenceShards);
}

/** Open sockets the user's object holds, per platform id. */
export async function openSocketCount(uid: string, platform?: number): Promise<number> {
  return runInDurableObject(
    sessionStub(uid),
    (_instance, state) =>
      state
        .getWebSockets(platform === undefined ? undefined : `platform:${platform}`)
        .filter((ws) => ws.readyState === WebSocket.OPEN).length,
  );
}

/** The presence index (what the status route reads) and the user's own sockets say the same. */
export async function expectIndexAgreesWithSockets(uid: string): Promise<string[]> {
  const fromSockets = await runInDurableObject(sessionStub(uid), (_instance, state) =>
    [...new Set(openSockets(state).map((ws) => readAttachment(ws).platform))].sort((a, b) => a - b).map(platformName),
  );
  const fromIndex = await onlinePlatforms(uid);
  expect(fromIndex).toEqual(fromSockets);
  return fromIndex;
}

/** Pings every `everyMs` until stopped, like a client SDK. */
export function keepAlive(socket: TestSocket, everyMs = 250): () => void {
  const timer = setInterval(() => {
    try {
      socket.send("ping");
    } catch {
      clearInterval(timer);
    }
  }, everyMs);
  return () => clearInterval(timer);
}

/** The tables an object keeps in its SQLite, leaving out the runtime's own (`_cf_…`, `sqlite_…`). */
export function objectTables(sql: SqlStorage): string[] {
  return sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
    )
    .toArray()
    .map((t) => t.name);
}
