/** The one object that holds a user's sessions (its stub is typed by the generated Env). */
export function userSession(env: Env, uid: string) {
  return env.USER_SESSIONS.get(env.USER_SESSIONS.idFromName(uid));
}
