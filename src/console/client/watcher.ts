import { type IssuedToken, isImApiError } from "../../../sdk/appserver";
import { backoffDelay } from "../../../sdk/backoff";
import {
  type ClientSession,
  connect,
  ErrCode,
  PLATFORM_NAMES,
  Platform,
  PresenceFrameError,
  type PresenceListener,
  type WatchedUser,
} from "../../../sdk/client";
import { accountClose, isAccountRefusal } from "./account-closes";
import type { ConsoleApi } from "./api";
import { messageOf, seconds } from "./dom";
import type { Log } from "./log";

/** This tab's own user, kept for the tab's life. */
const WATCHER_KEY = "imserver-console-watcher";
const WATCHER_PLATFORM = Platform.Web;
/**
 * A session the server ended for good (4001, 4002), or a token request that
 * failed, is replaced after this backoff; drops in between are the SDK's to retry.
 */
const RESTART = { initialDelayMs: 500, maxDelayMs: 15_000, factor: 2 };

export interface WatcherView {
  log: Log;
  /** The status note beside the table. */
  status(text: string): void;
  /** The uid this tab watches as. */
  identity(uid: string): void;
  /** A watched user's state changed, or the socket opened or closed. */
  changed(): void;
  /** The uids to watch, read whenever a new session starts. */
  watched(): Iterable<string>;
}

/**
 * The tab's watcher: a client session of its own, as a console user of its own,
 * over which it subscribes to the watched users (the SDK's `watch`). The SDK
 * heartbeats it, reconnects it with jittered backoff and subscribes again after
 * each reconnect. When the server ends it for good (kicked, logged out), the
 * watcher starts another: a fresh token for the same user, or a new user when
 * another tab holds this one or the user was deleted (4005) or banned (4006)
 * (a ban the SDK would wait out, leaving the tab blind until it ends).
 */
export class Watcher {
  private session: ClientSession | undefined;
  private starting = false;
  /** Sessions replaced since one last answered a ping. */
  private restarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onPresence: PresenceListener = () => this.view.changed();

  constructor(
    private readonly api: ConsoleApi,
    private readonly view: WatcherView,
  ) {}

  get live(): boolean {
    return this.session?.state === "open";
  }

  watch(uids: readonly string[]): void {
    if (this.session && uids.length > 0) this.subscribe(this.session, uids);
  }

  unwatch(uids: readonly string[]): void {
    if (uids.length > 0) this.session?.unwatch(uids);
  }

  /** The newest state this session knows; none until its snapshot arrives. */
  presenceOf(uid: string): WatchedUser | undefined {
    return this.session?.presenceOf(uid);
  }

  /** Starts a session unless one runs or is on its way; without a secret, says so and waits for one. */
  async start(): Promise<void> {
    if (this.session || this.starting) return;
    if (!this.api.secret) {
      this.view.status("type the secret to watch users live");
      return;
    }
    clearTimeout(this.restartTimer);
    this.starting = true;
    this.view.status("connecting");
    let issued: IssuedToken;
    try {
      issued = await this.credentials();
    } catch (error) {
      this.starting = false;
      // A refused secret would only spend its rate limit again: typing it anew retries.
      if (isImApiError(error, ErrCode.notAuthorized)) this.view.status(messageOf(error));
      else this.restartLater(messageOf(error));
      return;
    }
    this.starting = false;
    this.open(issued);
  }

  private open({ uid, token, expiredTime }: IssuedToken): void {
    this.view.identity(uid);
    const platform = WATCHER_PLATFORM;
    const session = connect({
      url: this.api.socketUrl(),
      uid,
      platform,
      token,
      expiredTime,
      refreshToken: async () => {
        try {
          return await this.api.appServer().getUserToken({ uid, platform });
        } catch (error) {
          if (isAccountRefusal(error)) this.replace(session, messageOf(error));
          throw error;
        }
      },
    });
    this.session = session;
    // Sent once the socket opens, and again after every reconnect.
    this.subscribe(session, [...this.view.watched()]);

    session.on("open", () => {
      this.view.status("live");
      this.view.log(`watching as ${uid} on ${PLATFORM_NAMES[platform]}`);
      this.view.changed();
    });
    session.on("pong", () => {
      this.restarts = 0;
    });
    session.on("kicked", ({ reason }) => {
      // Another tab holds this user (a duplicated tab copies sessionStorage), or the user was deleted (4005):
      // the next session takes a new one, and asks no token for this uid. (For 4005 the `closed` listener
      // below replaces the session too; this holds whichever runs first.)
      if (reason === "kicked" || reason === "account_deleted") sessionStorage.removeItem(WATCHER_KEY);
    });
    session.on("closed", ({ code, reason, willReconnect, retryInMs }) => {
      if (this.session !== session) return; // replaced: the close is the watcher's own
      const ended = accountClose(code, reason);
      if (ended) {
        this.replace(session, `socket ${ended}`);
        return;
      }
      const closed = `socket closed, code ${code}${reason ? ` (${reason})` : ""}`;
      this.view.log(`watcher ${closed}${willReconnect ? `; the SDK reconnects in ${seconds(retryInMs)}` : ""}`);
      this.view.changed();
      if (willReconnect) {
        this.view.status(`${closed}; retrying in ${seconds(retryInMs)}`);
        return;
      }
      this.session = undefined;
      this.restartLater(closed);
    });
    session.on("error", ({ error }) => {
      if (error instanceof PresenceFrameError) {
        this.view.status(`error frame ${error.errCode}: ${error.errMsg}`);
        this.view.log(`watcher got error frame ${error.errCode}: ${error.errMsg}`);
      } else {
        this.view.log(`watcher: ${error.message}`);
      }
    });
    session.on("message", ({ data }) => this.view.log(`watcher got ${data}`));
  }

  /** The SDK refuses more users than a socket may watch (MAX_WATCHED_PER_SOCKET); the rest stay unwatched, said in the log. */
  private subscribe(session: ClientSession, uids: readonly string[]): void {
    try {
      session.watch(uids, this.onPresence);
    } catch (error) {
      this.view.status(messageOf(error));
      this.view.log(`watcher: ${messageOf(error)}`);
    }
  }

  /** Its user was deleted or banned: the session stops, and the next one is a new user's. */
  private replace(session: ClientSession, why: string): void {
    if (this.session !== session) return;
    this.session = undefined;
    sessionStorage.removeItem(WATCHER_KEY);
    session.close();
    this.view.log(`watcher ${why}; watching as a new user`);
    this.view.changed();
    this.restartLater(why);
  }

  private restartLater(why: string): void {
    this.restarts++;
    const delay = backoffDelay(this.restarts, RESTART);
    this.view.status(`${why}; retrying in ${seconds(delay)}`);
    this.restartTimer = setTimeout(() => void this.start(), delay);
  }

  /**
   * A token for this tab's user, registered on first use, and anew when the
   * local state was reset or the user was deleted or banned.
   */
  private async credentials(): Promise<IssuedToken> {
    const stored = sessionStorage.getItem(WATCHER_KEY);
    if (stored) {
      try {
        return await this.api.appServer().getUserToken({ uid: stored, platform: WATCHER_PLATFORM });
      } catch (error) {
        if (!isAccountRefusal(error)) throw error;
      }
    }
    // A user per tab, so two console tabs never kick each other off the same platform.
    const uid = `console-${crypto.randomUUID().slice(0, 8)}`;
    const issued = await this.api.appServer().registerUser({ uid, name: "dev console", platform: WATCHER_PLATFORM });
    sessionStorage.setItem(WATCHER_KEY, uid);
    return issued;
  }
}
