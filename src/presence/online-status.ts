import type { UserPresence } from "./presence-index";
import { callShards } from "./shards";

/**
 * What the presence shards know of many uids (live platforms, or lastSeen):
 * one call per shard that holds any of them, in parallel. Never touches (or
 * creates) a user's own object.
 */
export async function presenceOf(
  env: Env,
  uids: readonly string[],
  shardCount: number,
): Promise<Map<string, UserPresence>> {
  const answers = await callShards(env, new Set(uids), shardCount, (shard, members) => shard.read(members));
  return new Map(answers.flat().map((entry) => [entry.uid, entry]));
}
