import type { PlatformId } from "../../protocol";

/** The only module that speaks SQL to D1: users, their bans, and deletions under way. */

/** The profile fields an AppServer sets and reads (docs/api.md#post-authuser_register). */
export interface Profile {
  name: string;
  icon: string;
  gender: number;
  mobile: string;
  birth: string;
  email: string;
  ex: string;
}

export interface NewUser extends Profile {
  uid: string;
  registeredPlatform: PlatformId;
  createdAtMs: number;
}

export interface StoredUser extends NewUser {
  /** Unix seconds; set while a ban is, or was, in force (an ended ban is not cleared). */
  bannedUntil?: number;
  banReason?: string;
}

const PROFILE_COLUMNS = [
  "name",
  "icon",
  "gender",
  "mobile",
  "birth",
  "email",
  "ex",
] as const satisfies readonly (keyof Profile)[];

interface UserRow extends Profile {
  uid: string;
  registered_platform: PlatformId;
  created_at: number;
  banned_until: number | null;
  ban_reason: string | null;
}

const SELECT_USER = `SELECT uid, ${PROFILE_COLUMNS.join(", ")}, registered_platform, created_at, banned_until, ban_reason FROM users`;

function toStoredUser(row: UserRow): StoredUser {
  const { registered_platform, created_at, banned_until, ban_reason, ...rest } = row;
  return {
    ...rest,
    registeredPlatform: registered_platform,
    createdAtMs: created_at,
    ...(banned_until === null ? {} : { bannedUntil: banned_until, banReason: ban_reason ?? "" }),
  };
}

/** Binds a list of uids as one JSON parameter, for `IN (SELECT value FROM json_each(?))`. */
const asJson = (uids: readonly string[]) => JSON.stringify(uids);

/**
 * One atomic statement: the primary key decides a race between concurrent
 * registers, and an existing row is never touched; nor is a uid whose
 * deletion has not finished taken. Returns false if the uid was taken.
 */
export async function insertUser(db: D1Database, user: NewUser): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO users (uid, name, icon, gender, mobile, birth, email, ex, registered_platform, created_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
       WHERE NOT EXISTS (SELECT 1 FROM pending_deletions WHERE uid = ?1)
       ON CONFLICT (uid) DO NOTHING`,
    )
    .bind(
      user.uid,
      user.name,
      user.icon,
      user.gender,
      user.mobile,
      user.birth,
      user.email,
      user.ex,
      user.registeredPlatform,
      user.createdAtMs,
    )
    .run();
  return result.meta.changes === 1;
}

/**
 * Read from D1 each time: users can be deleted, so no isolate may remember
 * that a uid is registered.
 */
export async function findUser(db: D1Database, uid: string): Promise<StoredUser | null> {
  const row = await db.prepare(`${SELECT_USER} WHERE uid = ?1`).bind(uid).first<UserRow>();
  return row === null ? null : toStoredUser(row);
}

export async function userExists(db: D1Database, uid: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS found FROM users WHERE uid = ?1").bind(uid).first()) !== null;
}

/** The registered users among `uids`, each once. */
export async function findUsers(db: D1Database, uids: readonly string[]): Promise<StoredUser[]> {
  const { results } = await db
    .prepare(`${SELECT_USER} WHERE uid IN (SELECT value FROM json_each(?1))`)
    .bind(asJson(uids))
    .all<UserRow>();
  return results.map(toStoredUser);
}

/** Which of `uids` are registered. */
export async function registeredAmong(db: D1Database, uids: readonly string[]): Promise<Set<string>> {
  const { results } = await db
    .prepare("SELECT uid FROM users WHERE uid IN (SELECT value FROM json_each(?1))")
    .bind(asJson(uids))
    .all<{ uid: string }>();
  return new Set(results.map((row) => row.uid));
}

/**
 * Sets the given profile fields of one user in one statement, leaving the
 * others as they are: two updates of different fields both land. Returns
 * false if the uid is not registered.
 */
export async function updateProfile(db: D1Database, uid: string, fields: Partial<Profile>): Promise<boolean> {
  const columns = PROFILE_COLUMNS.filter((column) => fields[column] !== undefined);
  if (columns.length === 0) throw new Error("updateProfile needs a field to change");
  const result = await db
    .prepare(`UPDATE users SET ${columns.map((column, i) => `${column} = ?${i + 2}`).join(", ")} WHERE uid = ?1`)
    .bind(uid, ...columns.map((column) => fields[column] as string | number))
    .run();
  return result.meta.changes === 1;
}

/**
 * Uids after `afterUid` (exclusive), in ascending code-point order (SQLite
 * compares TEXT as UTF-8 bytes, whose order is the code points'), at most
 * `limit` and one more to tell whether a next page exists.
 */
export async function uidsAfter(db: D1Database, afterUid: string | undefined, limit: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      afterUid === undefined
        ? "SELECT uid FROM users ORDER BY uid LIMIT ?1"
        : "SELECT uid FROM users WHERE uid > ?2 ORDER BY uid LIMIT ?1",
    )
    .bind(limit + 1, ...(afterUid === undefined ? [] : [afterUid]))
    .all<{ uid: string }>();
  return results.map((row) => row.uid);
}

/** Sets or lifts (undefined) a user's ban. Returns false if the uid is not registered. */
export async function setBan(
  db: D1Database,
  uid: string,
  ban: { untilSeconds: number; reason: string } | undefined,
): Promise<boolean> {
  const result = await db
    .prepare("UPDATE users SET banned_until = ?2, ban_reason = ?3 WHERE uid = ?1")
    .bind(uid, ban?.untilSeconds ?? null, ban?.reason ?? null)
    .run();
  return result.meta.changes === 1;
}

/** A deletion whose erasure has to be finished: the uid, and the moment it began. */
export interface PendingDeletion {
  uid: string;
  deletedAtMs: number;
}

/**
 * Begins deleting these uids, in one transaction: each registered one's row
 * goes, and a pending deletion (no personal data) takes its place until its
 * erasure is finished. Returns every pending deletion among them, those begun
 * now and those an earlier call left unfinished: a uid neither registered nor
 * pending is not returned.
 */
export async function beginDeletions(
  db: D1Database,
  uids: readonly string[],
  nowMs: number,
): Promise<PendingDeletion[]> {
  const list = asJson(uids);
  const [, , pending] = await db.batch<{ uid: string; deleted_at_ms: number }>([
    db
      .prepare(
        `INSERT INTO pending_deletions (uid, deleted_at_ms)
         SELECT uid, ?2 FROM users WHERE uid IN (SELECT value FROM json_each(?1))
         ON CONFLICT (uid) DO NOTHING`,
      )
      .bind(list, nowMs),
    db.prepare("DELETE FROM users WHERE uid IN (SELECT value FROM json_each(?1))").bind(list),
    db
      .prepare("SELECT uid, deleted_at_ms FROM pending_deletions WHERE uid IN (SELECT value FROM json_each(?1))")
      .bind(list),
  ]);
  return (pending?.results ?? []).map((row) => ({ uid: row.uid, deletedAtMs: row.deleted_at_ms }));
}

export async function pendingDeletion(db: D1Database, uid: string): Promise<PendingDeletion | undefined> {
  const row = await db
    .prepare("SELECT deleted_at_ms FROM pending_deletions WHERE uid = ?1")
    .bind(uid)
    .first<{ deleted_at_ms: number }>();
  return row === null ? undefined : { uid, deletedAtMs: row.deleted_at_ms };
}

/** The erasure is complete: nothing of the deleted user is left in D1. */
export async function finishDeletion(db: D1Database, deletion: PendingDeletion): Promise<void> {
  await db
    .prepare("DELETE FROM pending_deletions WHERE uid = ?1 AND deleted_at_ms = ?2")
    .bind(deletion.uid, deletion.deletedAtMs)
    .run();
}
