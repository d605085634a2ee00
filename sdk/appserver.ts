import {
  type CustomStatus,
  ErrCode,
  MAX_UIDS_PER_MANAGE_CALL,
  MAX_UIDS_PER_STATUS_QUERY,
  MAX_UIDS_PER_USER_INFO_QUERY,
  type PlatformId,
  type PlatformName,
  Route,
} from "../protocol/index.js";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { type CustomStatusInput, wireCustomStatus } from "./custom-status.js";
import { ImApiError, ImNetworkError, isImApiError } from "./errors.js";

// Presence webhooks (docs/webhooks.md): check a delivery's X-IM-Signature before trusting its body.
// A delivery's events are a union on `type`: "online" and "offline" (PlatformEvent), "state" (StateEvent).
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  ErrCode,
  MAX_CUSTOM_STATUS_CHARS,
  MAX_CUSTOM_STATUS_SECONDS,
  MAX_SIGNATURES_PER_HEADER,
  PLATFORM_NAMES,
  Platform,
  type PlatformEvent,
  type PlatformId,
  type PlatformName,
  type PresenceEvent,
  type PresenceEventBody,
  type PresenceEventReason,
  SIGNATURE_HEADER,
  type StateEvent,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookRefusal,
  type WebhookVerification,
} from "../protocol/index.js";
export type { CustomStatus, CustomStatusInput } from "./custom-status.js";
export { ImApiError, ImNetworkError, isImApiError } from "./errors.js";

/** The subset of fetch the client uses: the global fetch of browsers, Node 18+ and Workers fits. */
export type FetchLike = (
  url: string,
  init: { method: "POST"; headers: Record<string, string>; body: string; signal: AbortSignal },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface RetryOptions extends BackoffOptions {
  /** Total tries for a retryable call, the first included. */
  attempts: number;
}

export interface AppServerClientOptions {
  /** Where the worker is, e.g. "https://im.example.com". */
  baseUrl: string;
  /** The AppServer secret (IM_SECRET). Keep it on your server. */
  secret: string;
  fetch?: FetchLike;
  /** Per-attempt timeout; a timeout counts as a network error. Default 10 s. */
  timeoutMs?: number;
  /** For the calls that are safe to repeat (each method says). Default 3 attempts, 200 ms doubling to at most 2 s. */
  retry?: Partial<RetryOptions>;
  /** Random source for jitter (tests pin it). */
  random?: () => number;
}

export interface RegisterUserInput {
  uid: string;
  platform: PlatformId;
  name: string;
  icon?: string;
  gender?: 0 | 1 | 2;
  mobile?: string;
  birth?: string;
  email?: string;
  ex?: string;
  operationID?: string;
}

export interface UserPlatformInput {
  uid: string;
  platform: PlatformId;
  operationID?: string;
}

export interface IssuedToken {
  uid: string;
  token: string;
  /** Absolute Unix seconds. */
  expiredTime: number;
}

/**
 * `invisible`: the user is invisible; its watchers see it offline, the AppServer the truth.
 * `customStatus`: while set and unexpired, online or offline.
 */
export type UserOnlineStatus =
  | {
      userID: string;
      status: "online";
      /** `isBackground`: every live session on the platform has its app in the background (decide on pushes by it). */
      detailPlatformStatus: { platform: PlatformName; status: "online"; isBackground: boolean }[];
      customStatus?: CustomStatus;
      invisible?: true;
    }
  /** `lastSeen`: Unix ms when the last session ended; only for users who have been online. */
  | { userID: string; status: "offline"; lastSeen?: number; customStatus?: CustomStatus; invisible?: true };

/** A user's profile fields, as registerUser and updateUserInfo take them and getUserInfo answers them. */
export interface ProfileFields {
  name: string;
  icon: string;
  /** 0 unknown, 1 male, 2 female. */
  gender: 0 | 1 | 2;
  mobile: string;
  birth: string;
  email: string;
  ex: string;
}

/** Some profile fields, at least one: an update that names none does not compile (the server would answer 400). */
export type ProfileUpdate = {
  [Field in keyof ProfileFields]: Pick<ProfileFields, Field> & Partial<ProfileFields>;
}[keyof ProfileFields];

/** updateUserInfo's input: the uid and the fields to set (an empty string clears one). */
export type UpdateUserInfoInput = { uid: string; operationID?: string } & ProfileUpdate;

/** A registered user, as getUserInfo answers. */
export interface UserInfo extends ProfileFields {
  uid: string;
  /** When the user registered, Unix seconds. */
  createTime: number;
  /** While a ban is in force: when it ends, Unix seconds. Absent otherwise. */
  bannedUntil?: number;
  /** While a ban is in force: the reason banUser gave (possibly empty). Absent otherwise. */
  banReason?: string;
}

export interface AccountStatus {
  userID: string;
  accountStatus: "registered" | "unregistered";
}

export interface UserIdPageInput {
  /** The nextCursor of the page before; none for the first page. */
  cursor?: string;
  /** Uids per page, 1–1000. Default 1000. */
  limit?: number;
  operationID?: string;
}

/** One page of registered uids, in ascending code-point order. */
export interface UserIdPage {
  uidList: string[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface DeleteUsersResult {
  /** The uids that were not registered, each once: nothing was done for them. */
  failedUidList: string[];
}

export interface UserIdInput {
  uid: string;
  operationID?: string;
}

export interface BanUserInput extends UserIdInput {
  /** When the ban ends: a Date, or Unix seconds. 0 or a moment already past lifts a ban. */
  until: Date | number;
  /** Up to 128 characters, kept with the ban. */
  reason?: string;
}

export interface SetCustomStatusInput extends UserIdInput {
  /**
   * `{ text, expiresAt? }`, or `null` to clear it. `expiresAt` is Unix seconds
   * or a Date (rounded up to the next second); without it the status holds
   * until changed.
   */
  customStatus: CustomStatusInput | null;
}

/** One open session of a user, as getUserSessions answers. */
export interface UserSession {
  /** This session's id: forceLogout({ …, connID }) ends this session only. */
  connID: string;
  platformID: PlatformId;
  platform: PlatformName;
  /** Unix ms. */
  connectedAt: number;
  /** The session's last frame, pings included, Unix ms. */
  lastActiveAt: number;
}

export interface ForceLogoutInput extends UserPlatformInput {
  /** One session only (a connID from getUserSessions): only it closes, only its token is invalidated. */
  connID?: string;
}

/**
 * setPresenceGrants' input: the user whose presence is shared (`uid`), and
 * the uids to let see it (`add`), to stop letting see it (`remove`), or both;
 * each list at most 1,000 uids. The type wants at least one of the two.
 */
export type SetPresenceGrantsInput = UserIdInput &
  ({ add: string[]; remove?: string[] } | { add?: string[]; remove: string[] });

/** getPresenceGrants' input: whose grants, and which page. */
export interface PresenceGrantsPageInput extends UserIdPageInput {
  uid: string;
}

/** One page of the uids a user lets see its presence, in ascending code-point order. */
export interface PresenceGrantsPage {
  userIDList: string[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export type RegisterOutcome =
  /** This call created the user. */
  | "registered"
  /** The uid existed before this call (or another caller registered it concurrently). */
  | "already_registered"
  /** An earlier attempt of this call got no answer, then 601: that attempt may have created the user, or someone else did. */
  | "ambiguous";

const DEFAULT_RETRY: RetryOptions = { attempts: 3, initialDelayMs: 200, maxDelayMs: 2_000, factor: 2 };
/** Batches of one batched read in flight at once. */
const READ_CONCURRENCY = 4;

interface Envelope {
  errCode: number;
  errMsg: string;
  [field: string]: unknown;
}

function isEnvelope(value: unknown): value is Envelope {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Envelope).errCode === "number" &&
    typeof (value as Envelope).errMsg === "string"
  );
}

/** 429 and 5xx may pass; anything else will answer the same again. */
function isTransient(error: ImApiError): boolean {
  return error.status === 429 || error.status >= 500;
}

/** Seconds from a Retry-After header, if it holds a number. */
function retryAfterMs(header: string | null): number | undefined {
  const seconds = header === null ? NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * The list `field` of an answer, checked to be one (and, when `length` is
 * given, to have one entry per id asked): anything else is not an answer to
 * this request.
 */
function listIn<T>(answer: Envelope, field: string, route: string, length?: number): T[] {
  const list = answer[field];
  if (!Array.isArray(list) || (length !== undefined && list.length !== length)) {
    throw new ImApiError(ErrCode.internal, 200, `${field} does not match the request`, route);
  }
  return list as T[];
}

/** Unix seconds for ban_user: a Date is rounded up, so the ban lasts at least until that moment. */
function unixSeconds(until: Date | number): number {
  if (typeof until === "number") return until;
  const ms = until.getTime();
  if (Number.isNaN(ms)) throw new RangeError("until: an invalid Date");
  return Math.max(0, Math.ceil(ms / 1000));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Runs `work` over `items` with at most `limit` in flight; results keep the input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) {
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The AppServer side of the API: register users, issue tokens, query presence,
 * log users out, read and change profiles, list, ban and delete users, and
 * decide who may see whose presence. Every call resolves to typed data or
 * throws ImApiError / ImNetworkError. Only calls that are safe to repeat are
 * retried.
 */
export class AppServerClient {
  private readonly baseUrl: string;
  private readonly secret: string;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly random: () => number;

  constructor(options: AppServerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.secret = options.secret;
    this.fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.random = options.random ?? Math.random;
  }

  /**
   * POST /auth/user_register. Never retried: a retry after a lost answer could
   * meet its own first attempt as 601. Use registerOrGetToken for a safe retry.
   */
  async registerUser(input: RegisterUserInput): Promise<IssuedToken> {
    const answer = await this.call(Route.registerUser.path, input, { retryable: false });
    return answer.data as IssuedToken;
  }

  /**
   * Registers, or, when the uid exists, issues a token for it instead. A
   * register that got no answer is retried (at most `retry.attempts` times);
   * a 601 after such a loss is reported as "ambiguous", because the lost
   * attempt may have stored this profile or another caller's may be stored.
   */
  async registerOrGetToken(input: RegisterUserInput): Promise<IssuedToken & { outcome: RegisterOutcome }> {
    let lostAnswers = 0;
    for (;;) {
      try {
        return { ...(await this.registerUser(input)), outcome: "registered" };
      } catch (error) {
        if (isImApiError(error, ErrCode.alreadyRegistered)) {
          const token = await this.getUserToken({
            uid: input.uid,
            platform: input.platform,
            operationID: input.operationID,
          });
          return { ...token, outcome: lostAnswers > 0 ? "ambiguous" : "already_registered" };
        }
        const retryable = error instanceof ImNetworkError || (error instanceof ImApiError && isTransient(error));
        if (!retryable || ++lostAnswers >= this.retry.attempts) throw error;
        await sleep(backoffDelay(lostAnswers, this.retry, this.random));
      }
    }
  }

  /** POST /auth/user_token. Retried on network errors, 429 and 5xx: an extra token harms nobody. */
  async getUserToken(input: UserPlatformInput): Promise<IssuedToken> {
    const answer = await this.call(Route.userToken.path, input, { retryable: true });
    return answer.data as IssuedToken;
  }

  /**
   * POST /user/get_users_online_status for any number of uids: lists longer
   * than 200 go in batches, and the result keeps the order (and duplicates) of `uids`.
   */
  async getUsersOnlineStatus(
    uids: readonly string[],
    options: { operationID?: string } = {},
  ): Promise<UserOnlineStatus[]> {
    const batches = chunk(uids, MAX_UIDS_PER_STATUS_QUERY);
    const answers = await mapLimited(batches, READ_CONCURRENCY, async (batch) => {
      const answer = await this.call(
        Route.onlineStatus.path,
        { userIDList: batch, operationID: options.operationID },
        { retryable: true },
      );
      return listIn<UserOnlineStatus>(answer, "successResult", Route.onlineStatus.path, batch.length);
    });
    return answers.flat();
  }

  /**
   * POST /auth/force_logout: the platform's sessions, or with `connID` one
   * session only. Not retried: a repeat would also invalidate tokens issued
   * between the two tries, and one with a connID would answer 604 once the
   * first had ended that session. Safe to call again yourself.
   */
  async forceLogout(input: ForceLogoutInput): Promise<void> {
    await this.call(Route.forceLogout.path, input, { retryable: false });
  }

  /**
   * POST /user/get_user_info for any number of uids: the profiles of the
   * registered ones, in the order of `uids`, each once; unknown uids are left
   * out. Lists longer than 200 go in batches. A read, so retried.
   */
  async getUserInfo(uids: readonly string[], options: { operationID?: string } = {}): Promise<UserInfo[]> {
    // Each once across batches too: the server dedupes only within a call.
    const batches = chunk([...new Set(uids)], MAX_UIDS_PER_USER_INFO_QUERY);
    const answers = await mapLimited(batches, READ_CONCURRENCY, async (batch) => {
      const answer = await this.call(
        Route.getUserInfo.path,
        { uidList: batch, operationID: options.operationID },
        { retryable: true },
      );
      return listIn<UserInfo>(answer, "data", Route.getUserInfo.path);
    });
    return answers.flat();
  }

  /**
   * POST /user/update_user_info: sets the fields given (an empty string
   * clears one) and leaves the others as they are. Throws 602 for an unknown
   * uid. Retried: setting the same values again changes nothing. (A retry can
   * land after another caller's update of the same field, and win over it.)
   */
  async updateUserInfo(input: UpdateUserInfoInput): Promise<void> {
    await this.call(Route.updateUserInfo.path, input, { retryable: true });
  }

  /**
   * POST /user/set_custom_status: sets the user's custom status, or clears it
   * with `null`, as the user's own `set` frame would; watchers hear of it
   * within 2 s, and again when it expires. The server checks it (1–128
   * characters, no control characters; an expiry in the future, at most 30
   * days ahead) and throws 400 naming the rule, changing nothing; 602 for an
   * unknown uid. An invalid Date throws a RangeError before anything is sent.
   * Retried: setting the status the user has already changes nothing, so a
   * repeat after a lost answer lands where the first attempt did. (A retry can
   * land after another caller's change of the status, and win over it; one
   * sent after the expiry has passed is refused with 400, the status having
   * expired by then anyway.)
   */
  async setCustomStatus(input: SetCustomStatusInput): Promise<void> {
    const { customStatus, ...rest } = input;
    await this.call(
      Route.setCustomStatus.path,
      { ...rest, customStatus: wireCustomStatus(customStatus) },
      { retryable: true },
    );
  }

  /**
   * POST /manager/account_check for any number of ids: one entry per id, in
   * order, duplicates kept. Lists longer than 100 go in batches. A read, so retried.
   */
  async accountCheck(userIDs: readonly string[], options: { operationID?: string } = {}): Promise<AccountStatus[]> {
    const batches = chunk(userIDs, MAX_UIDS_PER_MANAGE_CALL);
    const answers = await mapLimited(batches, READ_CONCURRENCY, async (batch) => {
      const answer = await this.call(
        Route.accountCheck.path,
        { userIDList: batch, operationID: options.operationID },
        { retryable: true },
      );
      return listIn<AccountStatus>(answer, "result", Route.accountCheck.path, batch.length);
    });
    return answers.flat();
  }

  /**
   * POST /manager/get_all_users_uid: one page of registered uids, in
   * code-point order after `cursor`. A read, so retried. A cursor that is
   * not a nextCursor of this server throws 400. See allUserIds for every page.
   */
  async getAllUsersUid(input: UserIdPageInput = {}): Promise<UserIdPage> {
    const answer = await this.call(Route.getAllUsersUid.path, input, { retryable: true });
    const uidList = listIn<string>(answer, "uidList", Route.getAllUsersUid.path);
    return typeof answer.nextCursor === "string" ? { uidList, nextCursor: answer.nextCursor } : { uidList };
  }

  /**
   * Every registered uid, in code-point order, one page (`pageSize`, default
   * 1000) fetched at a time as the loop asks for more. The server pages by
   * key, so every user registered throughout the loop comes exactly once;
   * one added or deleted meanwhile may or may not come.
   */
  async *allUserIds(
    options: { pageSize?: number; operationID?: string } = {},
  ): AsyncGenerator<string, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.getAllUsersUid({ cursor, limit: options.pageSize, operationID: options.operationID });
      yield* page.uidList;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /**
   * POST /manager/delete_user for any number of uids, in batches of 100, one
   * batch at a time: erases each user everywhere and closes their sessions
   * (4005). Resolves once every batch is complete. Retried: the server
   * finishes a deletion that failed part-way when it is asked again. After a
   * lost answer, though, the retry finds the users the first attempt deleted
   * no longer registered, and lists them in failedUidList: read that list
   * as "not registered now". A call that throws may have deleted some
   * batches; calling it again with the same list finishes the rest.
   */
  async deleteUsers(uids: readonly string[], options: { operationID?: string } = {}): Promise<DeleteUsersResult> {
    const failedUidList: string[] = [];
    // One at a time: each batch reaches up to 100 users' objects and their presence shards.
    for (const batch of chunk([...new Set(uids)], MAX_UIDS_PER_MANAGE_CALL)) {
      const answer = await this.call(
        Route.deleteUser.path,
        { deleteUidList: batch, operationID: options.operationID },
        { retryable: true },
      );
      failedUidList.push(...listIn<string>(answer, "failedUidList", Route.deleteUser.path));
    }
    return { failedUidList };
  }

  /**
   * POST /manager/ban_user: until `until`, user_token throws 603 and
   * handshakes are refused; the sessions open now are closed with 4006. The
   * ban ends by itself then; 0 or a past moment lifts it now (see liftBan).
   * Throws 602 for an unknown uid. Retried: a ban is set, not added, so a
   * repeat changes nothing. (A retry can land after another caller's change
   * of the same ban, and win over it.)
   */
  async banUser(input: BanUserInput): Promise<void> {
    const { until, ...rest } = input;
    await this.call(Route.banUser.path, { ...rest, until: unixSeconds(until) }, { retryable: true });
  }

  /** Lifts a user's ban now: banUser with `until: 0`. Retried, like banUser. */
  async liftBan(input: UserIdInput): Promise<void> {
    await this.banUser({ ...input, until: 0 });
  }

  /**
   * POST /manager/get_user_sessions: the user's open sessions.
   * Throws 602 for an unknown uid. A read, so retried.
   */
  async getUserSessions(input: UserIdInput): Promise<UserSession[]> {
    const answer = await this.call(Route.getUserSessions.path, input, { retryable: true });
    return listIn<UserSession>(answer, "data", Route.getUserSessions.path);
  }

  /**
   * POST /manager/set_presence_grants: lets the `add` uids see `uid`'s
   * presence and stops letting the `remove` uids see it, when the worker runs
   * with PRESENCE_VISIBILITY `granted` (in `everyone` mode grants are kept but
   * change nothing). Watchers already subscribed hear of it within 2 s. The
   * uids granted need not be registered. Throws 602 for an unknown `uid`, and
   * 400 (changing nothing) for a uid both added and removed, a list over
   * 1,000, or a user that would hold more than 10,000 grants. Retried: adding
   * a uid already granted, or removing one that is not, changes nothing, so a
   * repeat after a lost answer lands where the first attempt did. (A retry can
   * land after another caller's change of the same grants, and win over it.)
   */
  async setPresenceGrants(input: SetPresenceGrantsInput): Promise<void> {
    await this.call(Route.setPresenceGrants.path, input, { retryable: true });
  }

  /**
   * POST /manager/get_presence_grants: one page of the uids that may see
   * `uid`'s presence, in code-point order after `cursor`. Throws 602 for an
   * unknown uid, 400 for a cursor that is not a nextCursor of this server. A
   * read, so retried. See allPresenceGrantees for every page.
   */
  async getPresenceGrants(input: PresenceGrantsPageInput): Promise<PresenceGrantsPage> {
    const answer = await this.call(Route.getPresenceGrants.path, input, { retryable: true });
    const userIDList = listIn<string>(answer, "userIDList", Route.getPresenceGrants.path);
    return typeof answer.nextCursor === "string" ? { userIDList, nextCursor: answer.nextCursor } : { userIDList };
  }

  /**
   * Every uid that may see `uid`'s presence, in code-point order, one page
   * (`pageSize`, default 1000) fetched at a time as the loop asks for more.
   * Pages follow by key, so every grant held throughout the loop comes
   * exactly once; one added or removed meanwhile may or may not come.
   */
  async *allPresenceGrantees(input: UserIdInput & { pageSize?: number }): AsyncGenerator<string, void, undefined> {
    const { uid, pageSize, operationID } = input;
    let cursor: string | undefined;
    do {
      const page = await this.getPresenceGrants({ uid, cursor, limit: pageSize, operationID });
      yield* page.userIDList;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  private async call(route: string, fields: object, { retryable }: { retryable: boolean }): Promise<Envelope> {
    const body = JSON.stringify({ ...fields, secret: this.secret });
    const attempts = retryable ? Math.max(1, this.retry.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      let waitMs: number | undefined;
      try {
        return await this.send(route, body, attempt);
      } catch (error) {
        const transient = error instanceof ImNetworkError || (error instanceof ImApiError && isTransient(error));
        if (!transient || attempt >= attempts) throw error;
        waitMs = error instanceof RetryAfter ? error.ms : undefined;
        // A server asking for a longer pause than we would ever wait gets its answer passed on instead.
        if (waitMs !== undefined && waitMs > this.retry.maxDelayMs) throw error;
      }
      await sleep(Math.max(waitMs ?? 0, backoffDelay(attempt, this.retry, this.random)));
    }
  }

  private async send(route: string, body: string, attempt: number): Promise<Envelope> {
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await this.fetch(`${this.baseUrl}${route}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      retryAfter = response.headers.get("Retry-After");
      text = await response.text();
    } catch (cause) {
      throw new ImNetworkError(route, attempt, true, { cause });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isEnvelope(parsed)) {
      throw withRetryAfter(
        new ImApiError(status, status, `not an API answer: ${text.slice(0, 120)}`, route),
        retryAfter,
      );
    }
    if (parsed.errCode !== ErrCode.ok) {
      throw withRetryAfter(new ImApiError(parsed.errCode, status, parsed.errMsg, route), retryAfter);
    }
    return parsed;
  }
}

/** An ImApiError that also carries the server's Retry-After. */
class RetryAfter extends ImApiError {
  constructor(
    base: ImApiError,
    readonly ms: number,
  ) {
    super(base.errCode, base.status, base.errMsg, base.route);
  }
}

function withRetryAfter(error: ImApiError, header: string | null): ImApiError {
  const ms = retryAfterMs(header);
  return ms === undefined ? error : new RetryAfter(error, ms);
}
