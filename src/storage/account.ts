/**
 * What a user's object knows of the account itself (one row): since when its
 * current incarnation exists, and a ban. Written only by delete_user and
 * ban_user, so it costs nothing while nothing changes.
 *
 * - `epochMs`: 0 for a user never deleted. When a user is deleted, every
 *   other row of the object goes and this one stays, holding the moment of the
 *   deletion: the tokens issued until then are refused for good, also after the
 *   uid is registered again (docs/security.md#your-users-data). It also orders
 *   the new user's presence after the old one's, whatever their `seq`.
 * - A ban ends by itself: it is compared with the clock where it is read.
 */
export interface Account {
  epochMs: number;
  ban?: { untilMs: number; reason: string };
}

const NEW_ACCOUNT: Account = { epochMs: 0 };

export class AccountStore {
  private cached?: Account;

  constructor(private readonly sql: SqlStorage) {}

  read(): Account {
    this.cached ??=
      this.sql
        .exec<{ epoch_ms: number; banned_until_ms: number | null; ban_reason: string | null }>(
          "SELECT epoch_ms, banned_until_ms, ban_reason FROM account_state WHERE id = 1",
        )
        .toArray()
        .map((row) => ({
          epochMs: row.epoch_ms,
          ...(row.banned_until_ms === null
            ? {}
            : { ban: { untilMs: row.banned_until_ms, reason: row.ban_reason ?? "" } }),
        }))[0] ?? NEW_ACCOUNT;
    return this.cached;
  }

  write(account: Account): void {
    this.sql.exec(
      `INSERT INTO account_state (id, epoch_ms, banned_until_ms, ban_reason) VALUES (1, ?1, ?2, ?3)
       ON CONFLICT (id) DO UPDATE SET epoch_ms = ?1, banned_until_ms = ?2, ban_reason = ?3`,
      account.epochMs,
      account.ban?.untilMs ?? null,
      account.ban?.reason ?? null,
    );
    this.cached = account;
  }

  /** The ban in force at `nowMs`, if any. */
  banAt(nowMs: number): Account["ban"] {
    const { ban } = this.read();
    return ban && nowMs < ban.untilMs ? ban : undefined;
  }
}
