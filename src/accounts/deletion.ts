import { readSettings, type WorkerEnv } from "../config";
import { everyShard } from "../presence/shards";
import { userSession } from "../presence/user-sessions";
import { beginDeletions, finishDeletion, type PendingDeletion } from "../storage/users";

/**
 * Deleting users is erasure, not hiding (docs/security.md#your-users-data),
 * in one orchestrated path that is safe to retry:
 *
 * 1. D1, in one transaction: the profile goes, and a pending deletion (no
 *    personal data) takes its place. From here on the uid reads as not
 *    registered everywhere.
 * 2. Each user's object: sessions closed (4005), offline events queued, its
 *    subscriptions ended at the shards, every row gone but the one that
 *    refuses the old tokens.
 * 3. Every presence shard: the user's online row or lastSeen, its memory and
 *    a reset (seq 0) to its watchers (in its own shard), and every grant to
 *    or from it (in any).
 * 4. D1: the pending deletion goes.
 *
 * A step that fails leaves the pending deletion, so a retry (or a register of
 * the uid) runs steps 2–4 again; every step is a no-op once done, and never
 * touches a newer incarnation of the uid.
 */
export async function deleteUsers(env: WorkerEnv, uids: readonly string[]): Promise<{ failedUidList: string[] }> {
  const pending = await beginDeletions(env.DB, [...new Set(uids)], Date.now());
  await finishDeletions(env, pending);
  const deleted = new Set(pending.map((p) => p.uid));
  return { failedUidList: [...new Set(uids)].filter((uid) => !deleted.has(uid)) };
}

/** Steps 2–4 for deletions begun now or by an earlier call that did not finish. */
export async function finishDeletions(env: WorkerEnv, pending: readonly PendingDeletion[]): Promise<void> {
  if (pending.length === 0) return;
  await Promise.all(pending.map(({ uid, deletedAtMs }) => userSession(env, uid).erase(deletedAtMs)));
  // Every shard: a user's own state is in one, but grants pointing to it may be in any.
  const deletions = pending.map(({ uid, deletedAtMs }) => ({ uid, epoch: deletedAtMs }));
  await everyShard(env, readSettings(env).presenceShards, (shard) => shard.erase(deletions));
  await Promise.all(pending.map((deletion) => finishDeletion(env.DB, deletion)));
}
