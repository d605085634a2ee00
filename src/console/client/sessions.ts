import { type ClientSession, connect, PLATFORM_NAMES, type PlatformId, PresenceFrameError } from "../../../sdk/client";
import { accountClose, isAccountRefusal } from "./account-closes";
import { button, byId, cell, messageOf, seconds, selectedPlatform } from "./dom";
import type { Panel } from "./panel";
import { type SessionPresenceControls, sessionPresenceControls } from "./session-presence";

/** A session opened from the console, and what its row shows. */
interface OpenedSession {
  uid: string;
  platform: PlatformId;
  session: ClientSession;
  /** The state column: the SDK's state with its why (close code, next retry). */
  detail: string;
  reconnects: number;
  /** The console ended it (its account was deleted or banned): the SDK's close that follows changes nothing shown. */
  stopped: boolean;
  /** Its row, made once and updated in place: what is typed in its controls survives every update. */
  row: HTMLTableRowElement;
  presence: SessionPresenceControls;
}

/**
 * "Open a session": a client session per click, through the SDK's connect, so it
 * heartbeats, reconnects with jittered backoff after a drop, asks for a fresh
 * token when a handshake is refused, and stays closed once kicked, logged out
 * or deleted (4005). After 4006 (banned) the SDK would wait out the ban and
 * reconnect: the console stops such a session too, shows why, and does the
 * same when a fresh token is refused because the account is gone (602) or
 * banned (603). Each open session's row can set what its user says about its
 * own presence: invisible, background, a custom status, with the SDK's
 * setInvisible, setBackground and setCustomStatus (session-presence.ts).
 */
export const sessionsPanel: Panel = ({ api, log, watch }) => {
  const uidInput = byId("session-uid", HTMLInputElement);
  const platformSelect = byId("session-platform", HTMLSelectElement);
  const rows = byId("sessions", HTMLTableSectionElement);
  const opened: OpenedSession[] = [];

  function render(): void {
    for (const entry of opened) {
      update(entry);
      if (entry.row.parentNode !== rows) rows.append(entry.row);
    }
  }

  byId("session-open", HTMLButtonElement).addEventListener("click", async () => {
    const uid = uidInput.value.trim();
    try {
      const platform = selectedPlatform(platformSelect);
      const issued = await api.appServer().getUserToken({ uid, platform });
      let entry: OpenedSession | undefined;
      const session = connect({
        url: api.socketUrl(),
        uid,
        platform,
        token: issued.token,
        expiredTime: issued.expiredTime,
        refreshToken: async () => {
          try {
            return await api.appServer().getUserToken({ uid, platform });
          } catch (error) {
            // Unless the session was closed meanwhile: its row already says how.
            if (entry && entry.session.state !== "closed" && isAccountRefusal(error)) {
              stop(entry, `stopped: ${messageOf(error)}`);
            }
            throw error;
          }
        },
      });
      const where = `${uid} on ${PLATFORM_NAMES[platform]}`;
      entry = {
        uid,
        platform,
        session,
        detail: "connecting",
        reconnects: 0,
        stopped: false,
        row: document.createElement("tr"),
        presence: sessionPresenceControls(session, (text) => log(`session ${where}: ${text}`)),
      };
      build(entry);
      follow(entry);
      opened.push(entry);
      watch(uid);
      render();
    } catch (error) {
      log(messageOf(error));
    }
  });

  function follow(entry: OpenedSession): void {
    const { uid, platform, session } = entry;
    const where = `${uid} on ${PLATFORM_NAMES[platform]}`;
    session.on("open", ({ reconnects }) => {
      entry.detail = "open";
      entry.reconnects = reconnects;
      log(`session open: ${where}${reconnects ? ` (after ${reconnects} retries)` : ""}`);
      render();
    });
    session.on("closed", ({ code, reason, willReconnect, retryInMs }) => {
      if (entry.stopped) {
        render();
        return;
      }
      const ended = accountClose(code, reason);
      if (ended) {
        stop(entry, ended);
        return;
      }
      const closed = `closed ${code}${reason ? ` (${reason})` : ""}`;
      entry.detail = willReconnect ? `${closed}, reconnecting in ${seconds(retryInMs)}` : closed;
      log(`session ${where}: ${entry.detail}`);
      render();
    });
    session.on("kicked", ({ reason, errMsg }) => log(`session ${where}: ${reason}${errMsg ? ` (${errMsg})` : ""}`));
    session.on("message", ({ data }) => log(`frame for ${uid}: ${data}`));
    session.on("error", ({ error }) => {
      if (error instanceof PresenceFrameError) {
        // This session subscribes to nothing: an error frame answers one of its set frames.
        const text = `error frame ${error.errCode}: ${error.errMsg}`;
        entry.presence.refused(text);
        log(`session ${where}: ${text}`);
        return;
      }
      // The SDK's only error of its own that is a RangeError: a custom status set while the socket was down
      // expired before it opened, and did not go.
      if (error instanceof RangeError && error.message.startsWith("setCustomStatus:")) {
        entry.presence.notSent(error.message);
      }
      log(`session ${where}: ${error.message}`);
    });
  }

  /**
   * Ends the SDK's session (no more retries) and shows why. After a 4005 the
   * SDK has ended it already (its state is "closed" when `closed` is heard):
   * the row must still say so.
   */
  function stop(entry: OpenedSession, detail: string): void {
    if (entry.stopped) return;
    entry.stopped = true;
    entry.detail = detail;
    log(`session ${entry.uid} on ${PLATFORM_NAMES[entry.platform]}: ${detail}`);
    entry.session.close(); // nothing more when the SDK closed it
    render();
  }

  /** The row's cells: uid, platform, state, reconnects, own presence, actions. */
  function build(entry: OpenedSession): void {
    const presence = cell("", "presence");
    presence.append(entry.presence.element);
    entry.row.dataset.uid = entry.uid;
    entry.row.dataset.platform = PLATFORM_NAMES[entry.platform];
    entry.row.append(
      cell(entry.uid),
      cell(PLATFORM_NAMES[entry.platform]),
      cell("", "state"),
      cell("", "reconnects"),
      presence,
      cell("", "actions"),
    );
  }

  function update(entry: OpenedSession): void {
    const { row, session } = entry;
    const [, , state, reconnects, , actions] = row.cells;
    row.dataset.state = session.state;
    if (state) state.textContent = entry.detail;
    if (reconnects) reconnects.textContent = String(entry.reconnects);
    entry.presence.enable(session.state !== "closed");
    if (actions && session.state === "closed") actions.replaceChildren();
    else if (actions && actions.childElementCount === 0) {
      actions.append(button("Disconnect", "disconnect", () => session.close()));
    }
  }
};
