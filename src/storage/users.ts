import type { PlatformId } from "../../protocol";
import { getOrInsertComputed } from "../lib/maps";

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
  // Either way the uid is registered now.
  rememberRegistered(db, user.uid);
  return result.meta.changes === 1;
}

/**
 * Users are never deleted, so "this uid is registered" stays true once seen:
 * the isolate remembers it and skips D1 on the next user_token or
 * force_logout. Only positive answers are kept (a uid can become registered
 * at any moment), the set is bounded, and entries age out so a row removed
 * by hand stops being trusted within a minute. Keyed by database, so two
 * bindings never share answers.
 */
const KNOWN_USER_TTL_MS = 60_000;
const KNOWN_USERS_MAX = 10_000;
const knownUsers = new WeakMap<D1Database, Map<string, number>>();

function rememberRegistered(db: D1Database, uid: string, nowMs = Date.now()): void {
  const known = getOrInsertComputed(knownUsers, db, () => new Map<string, number>());
  known.delete(uid); // re-insert: the Map's order is the eviction order
  known.set(uid, nowMs + KNOWN_USER_TTL_MS);
  const oldest = known.keys().next();
  if (known.size > KNOWN_USERS_MAX && !oldest.done) known.delete(oldest.value);
}

function knownRegistered(db: D1Database, uid: string, nowMs = Date.now()): boolean {
  const until = knownUsers.get(db)?.get(uid);
  return until !== undefined && nowMs < until;
}

export async function userExists(db: D1Database, uid: string): Promise<boolean> {
  if (knownRegistered(db, uid)) return true;
  const row = await db.prepare("SELECT 1 AS found FROM users WHERE uid = ?1").bind(uid).first<{ found: number }>();
  if (row !== null) rememberRegistered(db, uid);
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
