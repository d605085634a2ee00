import type { PlatformId } from "../platforms";
import { presenceShard, shardOf } from "./shards";

/**
 * Live platforms for many uids, read from the presence index: one call per
 * shard that holds any of them, in parallel. Never touches (or creates) a
 * user's own object.
 */
export async function livePlatformsOf(
  env: Env,
  uids: readonly string[],
  shardCount: number,
): Promise<Map<string, PlatformId[]>> {
  const byShard = new Map<number, Set<string>>();
  for (const uid of uids) {
    const shard = shardOf(uid, shardCount);
    let members = byShard.get(shard);
    if (!members) byShard.set(shard, (members = new Set()));
    members.add(uid);
  }
  const answers = await Promise.all(
    [...byShard].map(([shard, members]) => presenceShard(env, shard, shardCount).livePlatforms([...members])),
  );
  return new Map(answers.flat().map(({ uid, platforms }) => [uid, platforms]));
}
