import { PLATFORM_NAMES } from "../../../protocol";
import type { UserSessionInfo } from "./api";
import { button, byId, cell, messageOf, selectedPlatform } from "./dom";
import type { Panel } from "./panel";

/**
 * "Sessions on the server": the managed user's open sessions as
 * get_user_sessions answers them, from any client, read on Load, on Refresh
 * and after each action. Kick ends one session (force_logout with its
 * connID); "Log out platform" ends all of a platform's and retires their tokens.
 */
export const userSessionsPanel: Panel = ({ api, log, user }) => {
  const rows = byId("user-sessions", HTMLTableSectionElement);
  const note = byId("user-sessions-note", HTMLElement);
  const platformSelect = byId("logout-platform", HTMLSelectElement);

  async function show(uid: string): Promise<void> {
    try {
      const sessions = await api.getUserSessions(uid);
      if (uid !== user.uid) return; // another uid was typed meanwhile
      rows.replaceChildren(...sessions.map((session) => renderRow(uid, session)));
      note.textContent = `${uid}: ${sessions.length} open, as of ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      rows.replaceChildren();
      note.textContent = messageOf(error);
      log(messageOf(error));
    }
  }

  function renderRow(uid: string, session: UserSessionInfo): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.connId = session.connID;
    row.dataset.platform = session.platform;
    row.append(
      cell(session.connID),
      cell(session.platform),
      cell(new Date(session.connectedAt).toLocaleTimeString()),
      cell(new Date(session.lastActiveAt).toLocaleTimeString()),
    );
    const actions = cell("");
    actions.append(button("Kick", "kick", () => void kick(uid, session)));
    row.append(actions);
    return row;
  }

  async function kick(uid: string, { connID, platformID, platform }: UserSessionInfo): Promise<void> {
    try {
      await api.kickSession(uid, platformID, connID);
      log(`kicked session ${connID} of ${uid} on ${platform}`);
    } catch (error) {
      log(messageOf(error));
    }
    await show(uid);
  }

  user.onShow((uid) => void show(uid));
  byId("user-sessions-refresh", HTMLButtonElement).addEventListener("click", () => {
    if (user.uid) void show(user.uid);
  });
  byId("logout-submit", HTMLButtonElement).addEventListener("click", async () => {
    const uid = user.uid;
    try {
      const platform = selectedPlatform(platformSelect);
      await api.appServer().forceLogout({ uid, platform });
      log(`logged ${uid} out of ${PLATFORM_NAMES[platform]}`);
    } catch (error) {
      log(messageOf(error));
    }
    await show(uid);
  });
};
