import type { CustomStatus, SetFrame } from "../../../protocol";
import type { ClientSession, WebSocketConstructorLike } from "../../../sdk/client";

/**
 * What a console session's user says about its own presence
 * (docs/protocol.md#your-own-presence): `set` frames on the session's socket.
 *
 * The client SDK has no method for these yet (setInvisible, setBackground and
 * setCustomStatus are on their way), so the console sends the frames itself,
 * on the socket the SDK opened: connect() is given `WebSocket` from here, the
 * browser's, which remembers the latest socket. It behaves as the SDK's
 * coming setInvisible does: a value set while the socket is down is sent once it
 * opens, and invisible and background are sent again after every reconnect
 * (background is the socket's, and a new socket starts in the foreground).
 * With the SDK's methods, each setter here becomes a call of the session's
 * own, and `WebSocket` goes.
 *
 * The server does not answer a `set` it carried out; one it refuses is
 * answered with an error frame, which the SDK hands to the session's `error`
 * listeners as a PresenceFrameError.
 */
export class OwnPresence {
  /** For connect()'s `WebSocket` option. */
  readonly WebSocket: WebSocketConstructorLike;
  /** What the console last asked for; undefined until it asks. */
  invisible: boolean | undefined;
  background: boolean | undefined;
  private socket: WebSocket | undefined;

  constructor() {
    const track = (socket: WebSocket) => {
      this.socket = socket;
    };
    this.WebSocket = class extends WebSocket {
      constructor(url: string) {
        super(url);
        track(this);
      }
    };
  }

  /** Sends the session's settings again after each (re)connect. */
  follow(session: ClientSession): void {
    session.on("open", () => {
      const frame: SetFrame = { type: "set" };
      if (this.invisible !== undefined) frame.invisible = this.invisible;
      if (this.background !== undefined) frame.background = this.background;
      if (Object.keys(frame).length > 1) this.send(frame);
    });
  }

  /** The frames below answer whether they went out now (else: at the next open, or never for a custom status). */
  setInvisible(invisible: boolean): SetFrame | undefined {
    this.invisible = invisible;
    return this.send({ type: "set", invisible });
  }

  setBackground(background: boolean): SetFrame | undefined {
    this.background = background;
    return this.send({ type: "set", background });
  }

  /** `null` clears it. The user's, whoever set it last: it is not sent again after a reconnect. */
  setCustomStatus(customStatus: CustomStatus | null): SetFrame | undefined {
    return this.send({ type: "set", customStatus });
  }

  /** The frame, when the socket is open to take it. */
  private send(frame: SetFrame): SetFrame | undefined {
    if (this.socket?.readyState !== WebSocket.OPEN) return undefined;
    this.socket.send(JSON.stringify(frame));
    return frame;
  }
}
