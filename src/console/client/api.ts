import { ErrCode, type PlatformId, type PlatformName, type PresenceEvent, Route } from "../../../protocol";
import { AppServerClient, ImApiError } from "../../../sdk/appserver";

/** One delivery the console's webhook receiver kept, as POST /console/events lists it. */
export interface Delivery {
  receivedAt: number;
  events: PresenceEvent[];
}

export type Gender = 0 | 1 | 2;

/** The profile fields update_user_info takes, each optional. */
export interface ProfileFields {
  name?: string;
  icon?: string;
  gender?: Gender;
  mobile?: string;
  birth?: string;
  email?: string;
  ex?: string;
}

/** A user as get_user_info answers it. */
export interface UserInfo extends Required<ProfileFields> {
  uid: string;
  /** Unix seconds. */
  createTime: number;
  /** Unix seconds; only while a ban is in force. */
  bannedUntil?: number;
}

/** An open session as get_user_sessions answers it. */
export interface UserSessionInfo {
  connID: string;
  platformID: PlatformId;
  platform: PlatformName;
  /** Unix ms. */
  connectedAt: number;
  /** Unix ms. */
  lastActiveAt: number;
}

interface Envelope {
  errCode: number;
  errMsg: string;
  [field: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isEnvelope(value: unknown): value is Envelope {
  return isRecord(value) && typeof value.errCode === "number" && typeof value.errMsg === "string";
}

// The worker's own answers (src/routes/): only their outline is checked.
const isDelivery = (value: unknown): value is Delivery =>
  isRecord(value) && typeof value.receivedAt === "number" && Array.isArray(value.events);
const isUserInfo = (value: unknown): value is UserInfo =>
  isRecord(value) && typeof value.uid === "string" && typeof value.createTime === "number";
const isSessionInfo = (value: unknown): value is UserSessionInfo =>
  isRecord(value) && typeof value.connID === "string" && typeof value.platformID === "number";
const isString = (value: unknown): value is string => typeof value === "string";

/**
 * The worker as the console reaches it: the AppServer routes through the SDK,
 * with the secret typed into the page, and the console's own list of webhook
 * deliveries. The secret stays in the page's memory and goes only to this worker.
 *
 * Some user-management routes are called here, each with its typed answer;
 * errors are the SDK's ImApiError, like its own: those written before the SDK
 * had them (get_user_info to delete_user). The custom status and the presence
 * grants go through appServer() (setCustomStatus, setPresenceGrants,
 * getPresenceGrants).
 */
export class ConsoleApi {
  constructor(private readonly secretInput: HTMLInputElement) {}

  /** The secret as typed now. */
  get secret(): string {
    return this.secretInput.value;
  }

  onSecretChange(listener: () => void): void {
    this.secretInput.addEventListener("change", listener);
  }

  /** A client for the AppServer routes with the secret typed now; it may differ by the next call. */
  appServer(): AppServerClient {
    return new AppServerClient({ baseUrl: location.origin, secret: this.secret });
  }

  /** Where client sessions connect. */
  socketUrl(): string {
    return new URL(Route.connectWs.path, location.href).href;
  }

  /** POST /console/events with `secret`, the one given (the panel keeps track of a refused one). */
  async deliveries(secret: string): Promise<Delivery[]> {
    const route = Route.consoleEvents.path;
    return listOf(await post(route, { secret }), "data", route, isDelivery);
  }

  /** POST /user/get_user_info: the registered users among `uidList`, each once. */
  async getUserInfo(uidList: readonly string[]): Promise<UserInfo[]> {
    const route = Route.getUserInfo.path;
    return listOf(await this.call(route, { uidList }), "data", route, isUserInfo);
  }

  /** POST /user/update_user_info: the fields given, and only those. */
  async updateUserInfo(uid: string, fields: ProfileFields): Promise<void> {
    await this.call(Route.updateUserInfo.path, { uid, ...fields });
  }

  /** POST /manager/get_user_sessions: the user's open sessions. */
  async getUserSessions(uid: string): Promise<UserSessionInfo[]> {
    const route = Route.getUserSessions.path;
    return listOf(await this.call(route, { uid }), "data", route, isSessionInfo);
  }

  /** POST /auth/force_logout with a connID: that one session only. */
  async kickSession(uid: string, platform: PlatformId, connID: string): Promise<void> {
    await this.call(Route.forceLogout.path, { uid, platform, connID });
  }

  /** POST /manager/ban_user: until `until` (Unix seconds); 0 lifts the ban. */
  async banUser(uid: string, until: number, reason: string): Promise<void> {
    await this.call(Route.banUser.path, { uid, until, reason });
  }

  /** POST /manager/delete_user: answers failedUidList, the uids that were not deleted. */
  async deleteUsers(deleteUidList: readonly string[]): Promise<string[]> {
    const route = Route.deleteUser.path;
    return listOf(await this.call(route, { deleteUidList }), "failedUidList", route, isString);
  }

  /** An AppServer route with the secret typed now. */
  private call(route: string, fields: object): Promise<Envelope> {
    return post(route, { ...fields, secret: this.secret });
  }
}

/** POSTs a JSON body; an answer other than errCode 0 is thrown as the SDK's ImApiError. */
async function post(route: string, body: object): Promise<Envelope> {
  const response = await fetch(route, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer: unknown = await response.json().catch(() => undefined);
  if (!isEnvelope(answer)) throw new ImApiError(response.status, response.status, "not an API answer", route);
  if (answer.errCode !== ErrCode.ok) throw new ImApiError(answer.errCode, response.status, answer.errMsg, route);
  return answer;
}

/** The answer's list under `field`; one that is not a list of such items is the worker's fault. */
function listOf<T>(answer: Envelope, field: string, route: string, isItem: (item: unknown) => item is T): T[] {
  const list = answer[field];
  if (!Array.isArray(list) || !list.every(isItem)) {
    throw new ImApiError(ErrCode.internal, 200, `${field}: not what the route answers`, route);
  }
  return list;
}
