import type { Env } from "../env";
import type { UserSession } from "./user-session";

/** The one object that holds a user's sessions. */
export function userSession(env: Env, uid: string): DurableObjectStub<UserSession> {
  return env.USER_SESSIONS.get(env.USER_SESSIONS.idFromName(uid));
}
