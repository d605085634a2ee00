import type { UserPresence } from "./roster";

const encoder = new TextEncoder();

/** FNV-1a over the uid's UTF-8 bytes: stable, fast and evenly spread. */
function shardOf(uid: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(uid)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shardCount;
}

/**
 * The shard count is part of the name, so changing PRESENCE_SHARDS starts
 * from fresh shards instead of reading another layout's leftovers. An online
 * user moves to its new shard at its next verify (user-session.ts).
 */
export function presenceShardName(uid: string, shardCount: number): string {
  return shardName(shardOf(uid, shardCount), shardCount);
}

function shardName(shard: number, shardCount: number): string {
  return `presence-${shard}-of-${shardCount}`;
}

function presenceShard(env: Env, shard: number, shardCount: number) {
  return env.PRESENCE_SHARD.get(env.PRESENCE_SHARD.idFromName(shardName(shard, shardCount)));
}

export function presenceShardFor(env: Env, uid: string, shardCount: number) {
  return presenceShard(env, shardOf(uid, shardCount), shardCount);
}

/**
 * One call per shard that holds any of `uids`, all in parallel: the shape of
 * every read, watch and unwatch that spans shards. Answers come in shard order.
 */
export function callShards<T>(
  env: Env,
  uids: Iterable<string>,
  shardCount: number,
  call: (shard: ReturnType<typeof presenceShard>, members: string[]) => Promise<T>,
): Promise<T[]> {
  return Promise.all(
    [...groupByShard(uids, shardCount)].map(([shard, members]) => call(presenceShard(env, shard, shardCount), members)),
  );
}

/** One call to every shard of the current layout, all in parallel: for what may be anywhere (a deleted user's grants). */
export function everyShard<T>(
  env: Env,
  shardCount: number,
  call: (shard: ReturnType<typeof presenceShard>) => Promise<T>,
): Promise<T[]> {
  return Promise.all(Array.from({ length: shardCount }, (_, shard) => call(presenceShard(env, shard, shardCount))));
}

/**
 * As callShards, but every call runs to its end and each answer or failure
 * comes back with the uids it was for: a caller can undo what succeeded.
 */
export async function settleShards<T>(
  env: Env,
  uids: Iterable<string>,
  shardCount: number,
  call: (shard: ReturnType<typeof presenceShard>, members: string[]) => Promise<T>,
): Promise<(PromiseSettledResult<T> & { members: string[] })[]> {
  const groups = [...groupByShard(uids, shardCount)];
  const outcomes = await Promise.allSettled(
    groups.map(([shard, members]) => call(presenceShard(env, shard, shardCount), members)),
  );
  return outcomes.map((outcome, i) => ({ ...outcome, members: groups[i]?.[1] ?? [] }));
}

/** Uids grouped by the shard that holds them. */
function groupByShard(uids: Iterable<string>, shardCount: number): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const uid of uids) {
    const shard = shardOf(uid, shardCount);
    const members = groups.get(shard);
    if (members) members.push(uid);
    else groups.set(shard, [uid]);
  }
  return groups;
}

/**
 * What the presence shards know of many uids (live platforms, or lastSeen):
 * one call per shard that holds any of them, in parallel. Never touches (or
 * creates) a user's own object.
 */
export async function readPresence(
  env: Env,
  uids: readonly string[],
  shardCount: number,
): Promise<Map<string, UserPresence>> {
  const answers = await callShards(env, new Set(uids), shardCount, (shard, members) => shard.read(members));
  return new Map(answers.flat().map((entry) => [entry.uid, entry]));
}
