import {
  banEndOf,
  type ClientFrame,
  CloseCode,
  ErrCode,
  FRAME_BUDGET,
  PING,
  type PlatformId,
  PONG,
  type SetFrame,
  SUBSCRIBE_FAILED,
  type WatchedUser,
} from "../protocol/index.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { type CustomStatus, type CustomStatusInput, checkedCustomStatus } from "./custom-status.js";
import { type PresenceListener, Watchlist } from "./watchlist.js";

export {
  CloseCode,
  ErrCode,
  MAX_CUSTOM_STATUS_CHARS,
  MAX_CUSTOM_STATUS_SECONDS,
  PLATFORM_NAMES,
  Platform,
  type PlatformId,
  type PlatformName,
} from "../protocol/index.js";
export type { CustomStatus, CustomStatusInput } from "./custom-status.js";
export type { PresenceListener, WatchedUser } from "./watchlist.js";

/**
 * An error frame: the server refused a subscribe, unsubscribe or set frame
 * (400), or could not carry it out (500); nothing changed, and the socket
 * stays open (docs/protocol.md#presence-subscriptions). A subscribe that
 * failed with 500 is retried first, and only reported once the retries are
 * spent.
 */
export class PresenceFrameError extends Error {
  override readonly name = "PresenceFrameError";

  constructor(
    readonly errCode: number,
    readonly errMsg: string,
  ) {
    super(`the server refused a frame: ${errCode} ${errMsg}`);
  }
}

/** The part of a WebSocket this SDK uses: browsers', Node 22's global, the `ws` package's and Workers' all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: object) => void): void;
}

/** The fields read from events; implementations' event classes all carry them. */
interface SocketEvent {
  data?: unknown;
  code?: number;
  reason?: string;
}

export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/** The part of a document `trackVisibility` uses: a browser's `document` fits. */
export interface DocumentLike {
  /** "hidden" puts the app in the background; anything else ("visible") in the foreground. */
  readonly visibilityState: string;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

/** Why the SDK asks for a fresh token. */
export type RefreshReason =
  /**
   * The socket closed before it opened. The worker refused the handshake
   * (e.g. 401/701 expired) or the network failed: a browser cannot tell which,
   * because the refusal's HTTP answer is hidden from WebSocket code.
   */
  | "handshake_failed"
  /** The server closed the open session with 4004: its token expired. */
  | "token_expired"
  /** The token's known expiredTime has passed; asked before even trying. */
  | "expired_locally";

export type RefreshedToken = string | { token: string; expiredTime?: number };

export interface ConnectOptions {
  /** The worker's URL, e.g. "wss://im.example.com/ws" (http(s) is turned into ws(s); "/" and "/ws" both work). */
  url: string;
  uid: string;
  token: string;
  platform: PlatformId;
  /** The token's expiry (absolute Unix seconds) as user_token answered it; lets the SDK refresh before trying. */
  expiredTime?: number;
  /** Asked for a fresh token (usually from your AppServer, which calls user_token). */
  refreshToken?: (request: {
    reason: RefreshReason;
    uid: string;
    platform: PlatformId;
  }) => Promise<RefreshedToken> | RefreshedToken;
  /** Heartbeat period; the server closes a session silent for HEARTBEAT_TIMEOUT (30 s). Default 10 s. */
  pingIntervalMs?: number;
  /** Reconnect delays. Default 500 ms doubling to 30 s, with jitter. */
  reconnect?: Partial<BackoffOptions & { maxAttempts: number }>;
  /**
   * Retries of subscriptions the server could not carry out (an error frame
   * 500). Default 3 retries, 1 s doubling to 8 s, with jitter; then the
   * PresenceFrameError goes to the `error` listeners.
   */
  resubscribe?: Partial<BackoffOptions & { maxAttempts: number }>;
  /**
   * Browsers: the session sets its background from the page's visibility, as
   * if the app called `setBackground(document.visibilityState === "hidden")`
   * on every `visibilitychange` and right after every open, until the session
   * ends (close(), or a close the session does not come back from), when it
   * removes its listener. connect() throws when there is no document (Node):
   * pass `document`, or leave this off there.
   */
  trackVisibility?: boolean;
  /** The document `trackVisibility` follows. Defaults to the global document. */
  document?: DocumentLike;
  /** Defaults to the global WebSocket. */
  WebSocket?: WebSocketConstructorLike;
  /** Random source for jitter (tests pin it). */
  random?: () => number;
  operationID?: string;
}

export interface SessionEvents {
  /** A socket opened (first connect or reconnect). */
  open: { reconnects: number };
  /** The server answered a ping. */
  pong: Record<string, never>;
  /** Any other text frame from the server (presence frames go to `watch` listeners instead). */
  message: { data: string };
  /**
   * The server ended the session for good: 4001 (a newer session on this
   * platform), 4002 (force_logout) or 4005 (the account was deleted). The
   * session will not reconnect.
   */
  kicked: {
    code: typeof CloseCode.kicked | typeof CloseCode.loggedOut | typeof CloseCode.accountDeleted;
    reason: "kicked" | "logged_out" | "account_deleted";
    /** The text of the 702 frame that comes before a 4001. */
    errMsg?: string;
  };
  /**
   * 4006: the user is banned. With `until` (Unix seconds, the ban's end) the
   * session waits until then and reconnects; `closed` that follows says in
   * how long. Without it (a close reason the SDK cannot read) the session stops.
   */
  banned: { reason: string; until?: number };
  /** A socket closed; `willReconnect` says whether another one follows after `retryInMs`. */
  closed: { code: number; reason: string; wasOpen: boolean; willReconnect: boolean; retryInMs?: number };
  /**
   * Something went wrong that the session handles by itself: a socket error, a
   * failed refresh, a listener that threw, or a PresenceFrameError (an error
   * frame; a subscribe that failed with 500 only once its retries are spent).
   */
  error: { error: Error };
}

export type SessionEvent = keyof SessionEvents;
export type SessionState = "connecting" | "open" | "waiting" | "closed";

const DEFAULT_RECONNECT = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, maxAttempts: Number.POSITIVE_INFINITY };
const DEFAULT_RESUBSCRIBE = { initialDelayMs: 1_000, maxDelayMs: 8_000, factor: 2, maxAttempts: 3 };
/**
 * How long a frame counts against the server's frame budget, as the session
 * sees it: the server's window, plus room for frames sent apart that arrive
 * together.
 */
const BUDGET_WINDOW_MS = FRAME_BUDGET.windowMs + 1_000;
const OPEN = 1;

/** Closes after which reconnecting would only undo what the server decided. */
const FINAL_CLOSES: ReadonlyMap<number, Pick<SessionEvents["kicked"], "code" | "reason">> = new Map([
  [CloseCode.kicked, { code: CloseCode.kicked, reason: "kicked" }],
  [CloseCode.loggedOut, { code: CloseCode.loggedOut, reason: "logged_out" }],
  [CloseCode.accountDeleted, { code: CloseCode.accountDeleted, reason: "account_deleted" }],
]);

/** setTimeout's longest delay (about 24.8 days): a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function toWebSocketUrl(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

/**
 * One client session: a WebSocket that heartbeats, reconnects with backoff
 * and jitter, refreshes its token when asked to, waits out a ban (4006), and
 * stops for good when the server kicks it (4001), logs it out (4002) or
 * deletes its account (4005).
 */
export class ClientSession {
  private readonly listeners: { [E in SessionEvent]: Set<(event: SessionEvents[E]) => void> } = {
    open: new Set(),
    pong: new Set(),
    message: new Set(),
    kicked: new Set(),
    banned: new Set(),
    closed: new Set(),
    error: new Set(),
  };
  private readonly reconnect: BackoffOptions & { maxAttempts: number };
  private readonly resubscribe: BackoffOptions & { maxAttempts: number };
  private readonly WebSocketImpl: WebSocketConstructorLike;
  private socket?: WebSocketLike;
  private pingTimer?: ReturnType<typeof setInterval>;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private failures = 0;
  private reconnects = 0;
  private refreshedSinceOpen = false;
  private token: string;
  private expiredTime: number | undefined;
  private currentState: SessionState = "connecting";
  private readonly watchlist = new Watchlist((error) => this.emit("error", { error }));
  /** What the app last passed to setInvisible; undefined if it never called it. */
  private invisible: boolean | undefined;
  /** What the app (or trackVisibility) last passed to setBackground; undefined if never. */
  private background: boolean | undefined;
  /** A change of background waiting for room in the frame budget: it sends the latest value. */
  private backgroundTimer?: ReturnType<typeof setTimeout>;
  /** A custom status set while no socket was open: it goes once, at the next open. */
  private pendingCustomStatus: CustomStatus | null | undefined;
  /** The document trackVisibility follows, and its listener, until the session ends. */
  private visibility?: { document: DocumentLike; listener: () => void };
  /** When each JSON frame went out on the current socket, lately (see BUDGET_WINDOW_MS). */
  private sentAt: number[] = [];
  /** Retries of failed subscribes since the socket opened, the app last watched, or every subscription was answered. */
  private resubscribes = 0;
  private resubscribeTimer?: ReturnType<typeof setTimeout>;

  constructor(private readonly options: ConnectOptions) {
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.resubscribe = { ...DEFAULT_RESUBSCRIBE, ...options.resubscribe };
    this.token = options.token;
    this.expiredTime = options.expiredTime;
    const impl = options.WebSocket ?? (globalThis as { WebSocket?: unknown }).WebSocket;
    if (typeof impl !== "function") throw new Error("no WebSocket implementation: pass options.WebSocket");
    this.WebSocketImpl = impl as WebSocketConstructorLike;
    if (options.trackVisibility) this.followVisibility(options.document);
    // Listeners attached right after connect() returns still see the first events.
    queueMicrotask(() => void this.dial());
  }

  get state(): SessionState {
    return this.currentState;
  }

  /** Subscribes; returns the unsubscribe function. */
  on<E extends SessionEvent>(event: E, listener: (event: SessionEvents[E]) => void): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  /**
   * Watches users' presence over this session's socket (docs/protocol.md#presence-subscriptions). The
   * listener hears each user's current state, then every change of it, at
   * most once per `seq` and never an older state after a newer one, except
   * for a reset (`seq` 0: the user was deleted) and what follows it. After a
   * reconnect the session subscribes again by itself, and the listener hears
   * whatever changed meanwhile. Returns a function that stops this listener.
   * Throws a RangeError beyond 3,000 users per session.
   */
  watch(userIDs: readonly string[], onChange: PresenceListener): () => void {
    const frames = this.watchlist.add(userIDs, onChange);
    // A new request: a subscribe of it that fails gets retries of its own.
    if (frames.length > 0) this.resubscribes = 0;
    this.sendFrames(frames);
    return () => this.unwatch(userIDs, onChange);
  }

  /** Stops watching: `onChange`'s subscriptions only, or every listener of these users when none is given. */
  unwatch(userIDs: readonly string[], onChange?: PresenceListener): void {
    this.sendFrames(this.watchlist.remove(userIDs, onChange));
  }

  /** The newest state known for a watched user. */
  presenceOf(userID: string): WatchedUser | undefined {
    return this.watchlist.stateOf(userID);
  }

  /**
   * Makes this user appear offline to every watcher (`true`), or shows its
   * real presence again (`false`), for all of its platforms
   * (docs/protocol.md#your-own-presence). Sent at once when the socket is
   * open; the session remembers the value and sends it again right after
   * every (re)connect, before subscribing (in one `set` frame with the
   * background, see setBackground), so it holds even if another
   * device changed it meanwhile. A session whose app never calls this sends
   * nothing of the kind. An error frame that answers it goes to the `error`
   * listeners as a PresenceFrameError.
   */
  setInvisible(invisible: boolean): void {
    if (typeof invisible !== "boolean") throw new TypeError("setInvisible: invisible must be true or false");
    this.invisible = invisible;
    this.sendFrames([{ type: "set", invisible }]);
  }

  /**
   * Tells the server whether this app is in the background (`true`) or back in
   * the foreground (`false`) (docs/protocol.md#your-own-presence). The AppServer
   * reads it as `isBackground` per platform (to decide on push notifications),
   * watchers as `background`. It is this socket's, and a new socket starts in
   * the foreground: so the session remembers the value and, right after every
   * reconnect's open, sends `background: true` again while the app is in the
   * background (in one `set` frame with setInvisible's value, before the
   * subscribes); nothing while it is in the foreground, or if the app never
   * called this. Sent at once when the socket is open, unless the session has
   * spent the frame budget lately: then only the latest value goes, as soon as
   * there is room. `trackVisibility` calls this for a browser page. An error
   * frame that answers it goes to the `error` listeners as a PresenceFrameError.
   */
  setBackground(background: boolean): void {
    if (typeof background !== "boolean") throw new TypeError("setBackground: background must be true or false");
    this.background = background;
    this.sendBackground();
  }

  /**
   * Sets this user's custom status ("In a meeting", until `expiresAt`), or
   * clears it with `null` (docs/protocol.md#your-own-presence). It is checked
   * here by the server's rules first: a TypeError or RangeError names the rule
   * broken, and nothing is sent. `expiresAt` is Unix seconds or a Date, which is
   * rounded up to the next second. The status is the user's, kept by the server
   * across platforms and reconnects, and the latest set wins, from any device or
   * the AppServer: so, unlike setInvisible's and setBackground's values, it is
   * not sent again after a reconnect, which would undo a change made elsewhere
   * meanwhile (or bring back a status that was cleared). Called while no socket
   * is open, the latest call's status goes once, right after the next open. An
   * error frame that answers it goes to the `error` listeners as a
   * PresenceFrameError.
   */
  setCustomStatus(status: CustomStatusInput | null): void {
    const checked = checkedCustomStatus(status, Date.now());
    if (this.isOpen()) {
      this.pendingCustomStatus = undefined;
      this.sendFrames([{ type: "set", customStatus: checked }]);
    } else this.pendingCustomStatus = checked;
  }

  private isOpen(): boolean {
    return this.currentState === "open" && this.socket?.readyState === OPEN;
  }

  /** Sends now when open; otherwise the next open sends the settings and subscribes to the whole watchlist anyway. */
  private sendFrames(frames: readonly ClientFrame[]): void {
    const socket = this.socket;
    if (!this.isOpen() || socket === undefined) return;
    for (const frame of frames) socket.send(JSON.stringify(frame));
    this.countSent(frames.length);
  }

  /**
   * The app's background, now if the frame budget has room. An app can flip
   * more often than the budget allows (a user switching tabs, say): the flips
   * in between are of no use to anyone, and a frame over the budget would
   * close the socket (1008).
   */
  private sendBackground(): void {
    // A send already waiting for room takes the latest value with it.
    if (this.backgroundTimer !== undefined || !this.isOpen()) return;
    const waitMs = this.budgetWait(1);
    if (waitMs > 0) {
      this.backgroundTimer = setTimeout(() => {
        this.backgroundTimer = undefined;
        this.sendBackground();
      }, waitMs);
      return;
    }
    this.sendFrames([{ type: "set", background: this.background === true }]);
  }

  private stopBackgroundWait(): void {
    clearTimeout(this.backgroundTimer);
    this.backgroundTimer = undefined;
  }

  /** A custom status the app set while no socket was open: sent once, now that one is. */
  private sendPendingCustomStatus(): void {
    const status = this.pendingCustomStatus;
    if (status === undefined) return;
    this.pendingCustomStatus = undefined;
    // It may have expired meanwhile, and the server refuses an expiry in the past.
    if (status?.expiresAt !== undefined && status.expiresAt * 1000 <= Date.now()) {
      const error = new RangeError("setCustomStatus: the status expired before a socket opened, and was not sent");
      this.emit("error", { error });
      return;
    }
    this.sendFrames([{ type: "set", customStatus: status }]);
  }

  /** trackVisibility: the page's visibility is the app's background, until the session ends. */
  private followVisibility(given: DocumentLike | undefined): void {
    const document = given ?? (globalThis as { document?: DocumentLike }).document;
    if (typeof document?.addEventListener !== "function") {
      throw new Error("trackVisibility: no document here (Node has none): pass options.document, or leave it off");
    }
    const listener = () => this.setBackground(document.visibilityState === "hidden");
    document.addEventListener("visibilitychange", listener);
    this.visibility = { document, listener };
  }

  /** The session is over: nothing it follows or waits for stays behind. */
  private end(): void {
    this.currentState = "closed";
    this.stopBackgroundWait();
    this.visibility?.document.removeEventListener("visibilitychange", this.visibility.listener);
    this.visibility = undefined;
  }

  /** Ends the session for good: closes the socket (1000) and cancels any pending reconnect. */
  close(): void {
    if (this.currentState === "closed") return;
    const wasOpen = this.currentState === "open";
    this.end();
    clearTimeout(this.retryTimer);
    this.stopResubscribing();
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, "client closed");
    this.emit("closed", { code: 1000, reason: "client closed", wasOpen, willReconnect: false });
  }

  private emit<E extends SessionEvent>(event: E, payload: SessionEvents[E]): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        listener(payload);
      } catch (error) {
        // A listener's bug must not break the session; report it unless it came from an error listener.
        if (event !== "error") this.emit("error", { error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
  }

  private async dial(): Promise<void> {
    if (this.currentState === "closed") return;
    this.currentState = "connecting";
    const expired = this.expiredTime !== undefined && Date.now() >= this.expiredTime * 1000;
    if (expired && this.options.refreshToken && !(await this.refresh("expired_locally"))) return;
    if (this.state === "closed") return;
    const params: Record<string, string> = {
      sendID: this.options.uid,
      token: this.token,
      platformID: String(this.options.platform),
    };
    if (this.options.operationID) params.operationID = this.options.operationID;
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(toWebSocketUrl(this.options.url, params));
    } catch (error) {
      this.emit("error", { error: error instanceof Error ? error : new Error(String(error)) });
      this.scheduleRetry({ code: 1006, reason: "could not create socket", wasOpen: false });
      return;
    }
    this.socket = socket;
    let opened = false;
    let kickMessage: string | undefined;

    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      opened = true;
      this.currentState = "open";
      this.refreshedSinceOpen = false;
      this.startHeartbeat(socket);
      this.sentAt = [];
      this.resubscribes = 0;
      // The app's last word on its own presence, in one frame. Invisibility is the user's: the server keeps it
      // across reconnects, but another device may have changed it meanwhile. Background is the socket's, and a
      // new socket starts in the foreground.
      if (this.visibility) this.background = this.visibility.document.visibilityState === "hidden";
      const settings: SetFrame = { type: "set" };
      if (this.invisible !== undefined) settings.invisible = this.invisible;
      if (this.background) settings.background = true;
      if (settings.invisible !== undefined || settings.background) this.sendFrames([settings]);
      // In a frame of its own: should the server refuse it, the settings above still hold.
      this.sendPendingCustomStatus();
      // A new socket has no subscriptions: the snapshot that answers these resyncs every watched user.
      this.sendFrames(this.watchlist.resubscribeFrames());
      this.emit("open", { reconnects: this.reconnects });
    });
    socket.addEventListener("message", (event) => {
      const { data } = event as SocketEvent;
      if (this.socket !== socket || typeof data !== "string") return;
      if (data === PONG) {
        // A pong proves the session works end to end; only then does the backoff start over.
        this.failures = 0;
        return this.emit("pong", {});
      }
      const frame = jsonObject(data);
      if (this.takePresenceFrame(frame, socket)) return;
      kickMessage = kickedFrameMessage(frame) ?? kickMessage;
      this.emit("message", { data });
    });
    const closed = (code: number, reason: string) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.stopHeartbeat();
      // The next socket subscribes to everything anyway, and sends the background with its open.
      this.stopResubscribing();
      this.stopBackgroundWait();
      void this.onClose(code, reason, opened, kickMessage);
    };
    socket.addEventListener("error", () => {
      if (this.socket !== socket) return;
      this.emit("error", { error: new Error(opened ? "WebSocket error" : "WebSocket handshake failed") });
      // Some implementations (Node's) fire no close event after a refused handshake: treat the error as the close.
      if (!opened) {
        closed(1006, "handshake failed");
        closeQuietly(socket);
      }
    });
    socket.addEventListener("close", (event) => {
      const { code, reason } = event as SocketEvent;
      closed(code ?? 1006, reason ?? "");
    });
  }

  /**
   * A `presence` frame goes to the watchlist. An `error` frame goes to the
   * error listeners, except a subscribe the server could not carry out, which
   * is retried first (retrySubscriptions).
   */
  private takePresenceFrame(frame: JsonObject | undefined, socket: WebSocketLike): boolean {
    if (frame?.type === "presence" && Array.isArray(frame.users)) {
      this.watchlist.apply(frame.users as WatchedUser[]);
      if (this.watchlist.allAnswered) this.resubscribes = 0;
      return true;
    }
    if (frame?.type === "error") {
      const error = new PresenceFrameError(Number(frame.errCode), String(frame.errMsg));
      if (frame.errCode === ErrCode.internal && frame.errMsg === SUBSCRIBE_FAILED)
        this.retrySubscriptions(socket, error);
      else this.emit("error", { error });
      return true;
    }
    return false;
  }

  /**
   * A subscribe failed with 500: nothing changed on the server, so the
   * subscriptions no entry has answered yet go again after a jittered
   * backoff, at most `resubscribe.maxAttempts` times; a failure after that
   * goes to the error listeners. Failures that arrive while a retry waits
   * are covered by it. The retry never sends more frames than the server's
   * frame budget has room for: it waits for the room instead.
   */
  private retrySubscriptions(socket: WebSocketLike, error: PresenceFrameError): void {
    if (this.resubscribeTimer !== undefined) return;
    if (this.resubscribes >= this.resubscribe.maxAttempts) {
      this.emit("error", { error });
      return;
    }
    this.resubscribes++;
    this.armResubscribe(socket, backoffDelay(this.resubscribes, this.resubscribe, this.options.random));
  }

  private armResubscribe(socket: WebSocketLike, delayMs: number): void {
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = undefined;
      if (this.socket !== socket) return;
      const frames = this.watchlist.retryFrames();
      const waitMs = this.budgetWait(frames.length);
      if (waitMs > 0) return this.armResubscribe(socket, waitMs);
      this.sendFrames(frames);
    }, delayMs);
  }

  /** Notes frames sent now, and forgets those the frame budget no longer counts. */
  private countSent(count: number): void {
    const now = Date.now();
    for (let i = 0; i < count; i++) this.sentAt.push(now);
    this.forgetOldFrames(now);
  }

  private forgetOldFrames(now: number): void {
    const kept = this.sentAt.findIndex((at) => now - at < BUDGET_WINDOW_MS);
    this.sentAt.splice(0, kept === -1 ? this.sentAt.length : kept);
  }

  /** How long until `count` more frames fit in the frame budget, counting the frames this socket sent lately. */
  private budgetWait(count: number): number {
    const now = Date.now();
    this.forgetOldFrames(now);
    const over = Math.min(this.sentAt.length, this.sentAt.length + count - FRAME_BUDGET.frames);
    const oldest = this.sentAt[over - 1];
    return over > 0 && oldest !== undefined ? oldest + BUDGET_WINDOW_MS - now : 0;
  }

  private stopResubscribing(): void {
    clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = undefined;
  }

  private async onClose(
    code: number,
    reason: string,
    wasOpen: boolean,
    kickMessage: string | undefined,
  ): Promise<void> {
    if (this.currentState === "closed") return;
    const final = FINAL_CLOSES.get(code);
    if (final !== undefined) {
      this.end();
      this.emit("kicked", { ...final, ...(kickMessage === undefined ? {} : { errMsg: kickMessage }) });
      this.emit("closed", { code, reason, wasOpen, willReconnect: false });
      return;
    }
    if (code === CloseCode.banned) return this.waitOutBan(reason, wasOpen);
    if (code === CloseCode.tokenExpired) {
      if (!this.options.refreshToken) {
        this.end();
        this.emit("error", { error: new Error("the token expired (4004) and no refreshToken callback was given") });
        this.emit("closed", { code, reason, wasOpen, willReconnect: false });
        return;
      }
      this.emit("closed", { code, reason, wasOpen, willReconnect: true, retryInMs: 0 });
      if (await this.refresh("token_expired")) void this.dial();
      return;
    }
    // Refused or unreachable before opening: ask once per outage for a fresh token (see RefreshReason).
    if (!wasOpen && this.options.refreshToken && !this.refreshedSinceOpen) {
      this.scheduleRetry(
        { code, reason, wasOpen },
        async () => (await this.refresh("handshake_failed")) && this.dial(),
      );
      return;
    }
    this.scheduleRetry({ code, reason, wasOpen });
  }

  /**
   * 4006: reconnects once the ban is over, or stops when the reason names no
   * end. The wait adds one first backoff step past the end, so a clock a
   * little behind the server's does not dial into the ban again.
   */
  private waitOutBan(reason: string, wasOpen: boolean): void {
    const code = CloseCode.banned;
    const until = banEndOf(reason);
    if (until === undefined) {
      this.end();
      this.emit("banned", { reason });
      this.emit("closed", { code, reason, wasOpen, willReconnect: false });
      return;
    }
    const retryInMs = Math.max(0, until * 1000 - Date.now()) + backoffDelay(1, this.reconnect, this.options.random);
    this.currentState = "waiting";
    this.reconnects++;
    // Armed before the listeners run: one that calls close() cancels it.
    this.later(retryInMs, () => void this.dial());
    this.emit("banned", { reason, until });
    // A `banned` listener that called close() has had its own `closed`.
    if (this.state === "closed") return;
    this.emit("closed", { code, reason, wasOpen, willReconnect: true, retryInMs });
  }

  /** Runs `next` after `ms` as the pending reconnect (close() cancels it), in steps when longer than a timer allows. */
  private later(ms: number, next: () => void): void {
    const due = Date.now() + ms;
    const arm = (delay: number) => {
      this.retryTimer = setTimeout(
        () => {
          const left = due - Date.now();
          if (left > 0) arm(left);
          else next();
        },
        Math.min(delay, MAX_TIMER_MS),
      );
    };
    arm(ms);
  }

  /** Swaps in a fresh token; false when the callback failed (a retry is then already scheduled) or the session was closed. */
  private async refresh(reason: RefreshReason): Promise<boolean> {
    const refreshToken = this.options.refreshToken;
    if (!refreshToken) return true;
    this.refreshedSinceOpen = true;
    try {
      const fresh = await refreshToken({ reason, uid: this.options.uid, platform: this.options.platform });
      this.token = typeof fresh === "string" ? fresh : fresh.token;
      this.expiredTime = typeof fresh === "string" ? undefined : fresh.expiredTime;
      return this.state !== "closed";
    } catch (error) {
      this.emit("error", { error: error instanceof Error ? error : new Error(String(error)) });
      // A failed refresh is one more failed attempt: back off, and ask again after the next refusal.
      this.refreshedSinceOpen = false;
      this.scheduleRetry({ code: 1006, reason: "token refresh failed", wasOpen: false }, undefined, false);
      return false;
    }
  }

  private scheduleRetry(
    close: { code: number; reason: string; wasOpen: boolean },
    next: () => Promise<unknown> = () => this.dial(),
    announce = true,
  ): void {
    if (this.currentState === "closed") return;
    this.failures++;
    if (this.failures > this.reconnect.maxAttempts) {
      this.end();
      if (announce) this.emit("closed", { ...close, willReconnect: false });
      return;
    }
    const retryInMs = backoffDelay(this.failures, this.reconnect, this.options.random);
    this.currentState = "waiting";
    this.reconnects++;
    if (announce) this.emit("closed", { ...close, willReconnect: true, retryInMs });
    this.retryTimer = setTimeout(() => void next(), retryInMs);
  }

  private startHeartbeat(socket: WebSocketLike): void {
    const ping = () => {
      if (socket.readyState === OPEN) socket.send(PING);
    };
    // Right after opening: the server's close frames reach a socket that has never sent anything late.
    ping();
    this.pingTimer = setInterval(ping, this.options.pingIntervalMs ?? 10_000);
  }

  private stopHeartbeat(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }
}

function closeQuietly(socket: WebSocketLike): void {
  try {
    socket.close();
  } catch {
    // never opened or already closed
  }
}

type JsonObject = Record<string, unknown>;

/** A text frame that is a JSON object, or undefined (an ordinary message). */
function jsonObject(data: string): JsonObject | undefined {
  if (!data.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === "object" && value !== null ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/** The errMsg of the {"errCode":702,…} frame the server sends before a kick. */
function kickedFrameMessage(frame: JsonObject | undefined): string | undefined {
  if (frame?.errCode !== ErrCode.tokenInvalidated) return undefined;
  return typeof frame.errMsg === "string" ? frame.errMsg : "";
}

/** Opens a client session; see ClientSession for its events. */
export function connect(options: ConnectOptions): ClientSession {
  return new ClientSession(options);
}
