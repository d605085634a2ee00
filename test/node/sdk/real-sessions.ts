/// <reference types="node" />
// Client sessions against the real worker, for the tests of watching and of what a user says about its
// own presence: registered users, their sessions, and a watcher whose socket a test can cut.
import { WebSocket as NodeWebSocket } from "ws";
import { Platform, type PlatformId } from "../../../sdk/appserver";
import { type ConnectOptions, connect, type WatchedUser, type WebSocketLike } from "../../../sdk/client";
import { appServer, eventually, freshUid, recordEvents, workerUrl } from "../helpers";

export const quickReconnect = { initialDelayMs: 50, maxDelayMs: 200 };

/**
 * A session whose sockets come from the `ws` package, so a test can cut one without a close frame
 * (`sockets.at(-1).terminate()`). Resolves once the first socket has answered a ping.
 */
export async function trackedSession(options: Omit<ConnectOptions, "url" | "WebSocket">) {
  const sockets: NodeWebSocket[] = [];
  class Tracked extends NodeWebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const session = connect({
    url: workerUrl(),
    random: () => 1, // each delay exactly its step
    ...options,
    WebSocket: Tracked as unknown as new (url: string) => WebSocketLike,
  });
  const events = recordEvents(session);
  await eventually(`${options.uid} open`, () => events.pong.length > 0);
  return { session, events, sockets };
}

/** A registered user and a way to open sessions of theirs on any platform. */
export async function someone(prefix: string) {
  const client = appServer();
  const uid = freshUid(prefix);
  await client.registerUser({ uid, platform: Platform.Web, name: "n" });
  return {
    uid,
    async online(platform: PlatformId) {
      const { token } = await client.getUserToken({ uid, platform });
      const session = connect({ url: workerUrl(), uid, token, platform, pingIntervalMs: 5_000 });
      const events = recordEvents(session);
      await eventually(`${uid} open`, () => events.pong.length > 0);
      return session;
    },
    /** A session whose sockets the test can cut (see trackedSession). */
    async tracked(platform: PlatformId, reconnect = quickReconnect) {
      const { token } = await client.getUserToken({ uid, platform });
      return trackedSession({ uid, token, platform, reconnect, pingIntervalMs: 5_000 });
    },
  };
}

/** A watcher session (a user of its own) whose sockets the test can cut. */
export async function watcherSession(reconnect = quickReconnect) {
  const uid = freshUid("watcher");
  const { token } = await appServer().registerUser({ uid, platform: Platform.Web, name: "w" });
  return trackedSession({ uid, token, platform: Platform.Web, reconnect });
}

/** A presence listener that keeps what it heard. */
export function listener() {
  const heard: WatchedUser[] = [];
  return { heard, onChange: (user: WatchedUser) => void heard.push(user) };
}
