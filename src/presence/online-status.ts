import type { UserPresence } from "./presence-index";
import { presenceShard, shardOf } from "./shards";

/**
 * What the presence shards know of many uids (live platforms, or lastSeen):
 * one call per shard that holds any of them, in parallel. Never touches (or
 * creates) a user's own object.
 */
export async function presenceOf(env: Env, uids: readonly string[], shardCount: number): Promise<Map<string, UserPresence>> {
  const byShard = new Map<number, Set<string>>();
  for (const uid of uids) {
    const shard = shardOf(uid, shardCount);
    let members = byShard.get(shard);
    if (!members) byShard.set(shard, (members = new Set()));
    members.add(uid);
  }
  const answers = await Promise.all(
    [...byShard].map(([shard, members]) => presenceShard(env, shard, shardCount).read([...members])),
  );
  return new Map(answers.flat().map((entry) => [entry.uid, entry]));
}
