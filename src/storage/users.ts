import type { PlatformId } from "../platforms";

/** The only module that speaks SQL to D1. */

export interface NewUser {
  uid: string;
  name: string;
  icon: string;
  gender: number;
  mobile: string;
  birth: string;
  email: string;
  ex: string;
  registeredPlatform: PlatformId;
  createdAtMs: number;
}

export type StoredUser = NewUser;

/**
 * One atomic statement: the primary key decides a race between concurrent
 * registers, and an existing row is never touched. Returns false if the uid
 * was already taken.
 */
export async function insertUser(db: D1Database, user: NewUser): Promise<boolean> {
  const result = await db
    .prepare(
      `INSERT INTO users (uid, name, icon, gender, mobile, birth, email, ex, registered_platform, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
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

export async function userExists(db: D1Database, uid: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 AS found FROM users WHERE uid = ?1").bind(uid).first<{ found: number }>();
  return row !== null;
}

export async function findUser(db: D1Database, uid: string): Promise<StoredUser | null> {
  return db
    .prepare(
      `SELECT uid, name, icon, gender, mobile, birth, email, ex,
              registered_platform AS registeredPlatform, created_at AS createdAtMs
       FROM users WHERE uid = ?1`,
    )
    .bind(uid)
    .first<StoredUser>();
}
