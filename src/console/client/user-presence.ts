import type { CustomStatus } from "../../../protocol";
import type { UserOnlineStatus } from "../../../sdk/appserver";
import { type CustomStatusInputs, isProblem, oneExpiryAtATime, readCustomStatus } from "./custom-status-input";
import { byId, cell, messageOf, tableBody } from "./dom";
import type { Panel } from "./panel";
import { describeCustomStatus, describePlatforms } from "./presence-text";

/**
 * "Presence as the AppServer sees it": the managed user's status entry from
 * get_users_online_status (the SDK's getUsersOnlineStatus), read on Load, on
 * Refresh and after each action, never polled. It is the truth, which
 * watchers may not see: the platforms in the background (isBackground), the
 * custom status and its expiry, and `invisible`. A custom status is set or
 * cleared with set_custom_status (the SDK's setCustomStatus), as the user's own
 * `set` frame would; the server checks it, not the page.
 */
export const userPresencePanel: Panel = ({ api, log, user }) => {
  const rows = tableBody("presence-lookup");
  const note = byId("presence-note", HTMLElement);
  const result = byId("custom-status-result", HTMLElement);
  const inputs: CustomStatusInputs = {
    text: byId("custom-status-text", HTMLInputElement),
    until: byId("custom-status-until", HTMLInputElement),
    minutes: byId("custom-status-minutes", HTMLInputElement),
  };
  oneExpiryAtATime(inputs);

  async function show(uid: string): Promise<void> {
    try {
      const [entry] = await api.appServer().getUsersOnlineStatus([uid]);
      if (uid !== user.uid) return; // another uid was typed meanwhile
      rows.replaceChildren(...(entry ? [renderRow(entry)] : []));
      note.textContent = `${uid}, as of ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      rows.replaceChildren();
      note.textContent = messageOf(error);
      log(messageOf(error));
    }
  }

  function renderRow(entry: UserOnlineStatus): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.status = entry.status;
    const background =
      entry.status === "online" ? entry.detailPlatformStatus.filter((p) => p.isBackground).map((p) => p.platform) : [];
    if (background.length) row.dataset.background = background.join(",");
    if (entry.invisible) row.dataset.invisible = "true";
    const platforms = entry.status === "online" ? entry.detailPlatformStatus.map((p) => p.platform) : [];
    row.append(
      cell(entry.status, entry.status),
      cell(describePlatforms(platforms, background), "platforms"),
      cell(entry.customStatus ? describeCustomStatus(entry.customStatus) : "", "custom-status"),
      cell(entry.invisible ? "invisible" : "", "invisible"),
      cell(entry.status === "offline" && entry.lastSeen ? new Date(entry.lastSeen).toLocaleString() : "", "last-seen"),
    );
    return row;
  }

  async function setCustomStatus(uid: string, status: CustomStatus | null): Promise<void> {
    try {
      await api.appServer().setCustomStatus({ uid, customStatus: status });
      result.textContent = status
        ? `custom status of ${uid}: ${describeCustomStatus(status)}`
        : `cleared the custom status of ${uid}`;
      log(result.textContent);
    } catch (error) {
      result.textContent = messageOf(error);
      log(messageOf(error));
    }
    await show(uid);
  }

  user.onShow((uid) => void show(uid));
  byId("presence-refresh", HTMLButtonElement).addEventListener("click", () => {
    if (user.uid) void show(user.uid);
  });
  byId("custom-status-set", HTMLButtonElement).addEventListener("click", () => {
    if (!user.uid) return;
    const status = readCustomStatus(inputs);
    if (isProblem(status)) {
      result.textContent = status.problem;
      return;
    }
    void setCustomStatus(user.uid, status);
  });
  byId("custom-status-clear", HTMLButtonElement).addEventListener("click", () => {
    if (user.uid) void setCustomStatus(user.uid, null);
  });
};
