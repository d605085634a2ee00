import { ErrCode, MAX_UIDS_PER_STATUS_QUERY, type PlatformId, type PlatformName, Route } from "../protocol/index.js";
import { type BackoffOptions, backoffDelay, sleep } from "./backoff.js";
import { ImApiError, ImNetworkError, isImApiError } from "./errors.js";

// Presence webhooks (docs/webhooks.md): check a delivery's X-IM-Signature before trusting its body.
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  ErrCode,
  MAX_SIGNATURES_PER_HEADER,
  PLATFORM_NAMES,
  Platform,
  type PlatformId,
  type PlatformName,
  type PresenceEvent,
  type PresenceEventBody,
  type PresenceEventReason,
  SIGNATURE_HEADER,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookRefusal,
  type WebhookVerification,
} from "../protocol/index.js";
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
  /** For token issuance and status queries only. Default 3 attempts, 200 ms doubling to at most 2 s. */
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

/** `invisible`: the user is invisible; its watchers see it offline, the AppServer the truth. */
export type UserOnlineStatus =
  | {
      userID: string;
      status: "online";
      detailPlatformStatus: { platform: PlatformName; status: "online" }[];
      invisible?: true;
    }
  /** `lastSeen`: Unix ms when the last session ended; only for users who have been online. */
  | { userID: string; status: "offline"; lastSeen?: number; invisible?: true };

export type RegisterOutcome =
  /** This call created the user. */
  | "registered"
  /** The uid existed before this call (or another caller registered it concurrently). */
  | "already_registered"
  /** An earlier attempt of this call got no answer, then 601: that attempt may have created the user, or someone else did. */
  | "ambiguous";

const DEFAULT_RETRY: RetryOptions = { attempts: 3, initialDelayMs: 200, maxDelayMs: 2_000, factor: 2 };
const STATUS_QUERY_CONCURRENCY = 4;

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
 * log users out. Every call resolves to typed data or throws ImApiError /
 * ImNetworkError. Only calls that are safe to repeat are retried.
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
    const answers = await mapLimited(batches, STATUS_QUERY_CONCURRENCY, async (batch) => {
      const answer = await this.call(
        Route.onlineStatus.path,
        { userIDList: batch, operationID: options.operationID },
        { retryable: true },
      );
      const result = answer.successResult;
      if (!Array.isArray(result) || result.length !== batch.length) {
        throw new ImApiError(
          ErrCode.internal,
          200,
          "successResult does not match the request",
          Route.onlineStatus.path,
        );
      }
      return result as UserOnlineStatus[];
    });
    return answers.flat();
  }

  /**
   * POST /auth/force_logout. Not retried by default: a repeat would also
   * invalidate tokens issued between the two tries. Safe to call again yourself.
   */
  async forceLogout(input: UserPlatformInput): Promise<void> {
    await this.call(Route.forceLogout.path, input, { retryable: false });
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
