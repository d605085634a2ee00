import { type ClientSession, connect, PLATFORM_NAMES, type PlatformId } from "../../../sdk/client";
import { button, byId, cell, messageOf, seconds, selectedPlatform } from "./dom";
import type { Panel } from "./panel";

/** A session opened from the console, and what its row shows. */
interface OpenedSession {
  uid: string;
  platform: PlatformId;
  session: ClientSession;
  /** The state column: the SDK's state with its why (close code, next retry). */
  detail: string;
  reconnects: number;
}

/**
 * "Open a session": a client session per click, through the SDK's connect, so it
 * heartbeats, reconnects with jittered backoff after a drop, asks for a fresh
 * token when a handshake is refused, and stays closed once kicked or logged out.
 */
export const sessionsPanel: Panel = ({ api, log, watch }) => {
  const uidInput = byId("session-uid", HTMLInputElement);
  const platformSelect = byId("session-platform", HTMLSelectElement);
  const rows = byId("sessions", HTMLTableSectionElement);
  const opened: OpenedSession[] = [];

  const render = () => rows.replaceChildren(...opened.map(renderRow));

  byId("session-open", HTMLButtonElement).addEventListener("click", async () => {
    const uid = uidInput.value.trim();
    try {
      const platform = selectedPlatform(platformSelect);
      const issued = await api.appServer().getUserToken({ uid, platform });
      const session = connect({
        url: api.socketUrl(),
        uid,
        platform,
        token: issued.token,
        expiredTime: issued.expiredTime,
        refreshToken: () => api.appServer().getUserToken({ uid, platform }),
      });
      const entry: OpenedSession = { uid, platform, session, detail: "connecting", reconnects: 0 };
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
      const closed = `closed ${code}${reason ? ` (${reason})` : ""}`;
      entry.detail = willReconnect ? `${closed}, reconnecting in ${seconds(retryInMs)}` : closed;
      log(`session ${where}: ${entry.detail}`);
      render();
    });
    session.on("kicked", ({ reason, errMsg }) => log(`session ${where}: ${reason}${errMsg ? ` (${errMsg})` : ""}`));
    session.on("message", ({ data }) => log(`frame for ${uid}: ${data}`));
    session.on("error", ({ error }) => log(`session ${where}: ${error.message}`));
  }

  function renderRow(entry: OpenedSession): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.uid = entry.uid;
    row.dataset.platform = PLATFORM_NAMES[entry.platform];
    row.dataset.state = entry.session.state;
    row.append(
      cell(entry.uid),
      cell(PLATFORM_NAMES[entry.platform]),
      cell(entry.detail, "state"),
      cell(String(entry.reconnects), "reconnects"),
    );
    const actions = cell("");
    if (entry.session.state !== "closed") {
      actions.append(button("Disconnect", "disconnect", () => entry.session.close()));
    }
    row.append(actions);
    return row;
  }
};
