import { byId, messageOf, unixTime } from "./dom";
import type { Panel } from "./panel";

/**
 * "Ban or delete": ban_user until the moment chosen (local time) with a
 * reason, or 0 to lift the ban; delete_user after a confirm step, showing its
 * failedUidList. The other panels show the user again after each.
 */
export const moderationPanel: Panel = ({ api, log, user }) => {
  const until = byId("ban-until", HTMLInputElement);
  const reason = byId("ban-reason", HTMLInputElement);
  const result = byId("moderation-result", HTMLElement);
  const deleteStart = byId("delete-start", HTMLButtonElement);
  const deleteConfirm = byId("delete-confirm", HTMLButtonElement);
  const deleteCancel = byId("delete-cancel", HTMLButtonElement);
  /** The uid the confirm button deletes. */
  let toDelete = "";

  function report(text: string): void {
    result.textContent = text;
    log(text);
  }

  async function ban(uid: string, untilSeconds: number): Promise<void> {
    try {
      await api.banUser(uid, untilSeconds, reason.value);
      const lifted = untilSeconds * 1000 <= Date.now();
      report(lifted ? `lifted the ban of ${uid}` : `banned ${uid} until ${unixTime(untilSeconds)}`);
    } catch (error) {
      report(messageOf(error));
    }
    user.show();
  }

  byId("ban-submit", HTMLButtonElement).addEventListener("click", () => {
    // A datetime-local value is the page's local time.
    const ms = until.value ? new Date(until.value).getTime() : Number.NaN;
    if (!Number.isFinite(ms)) {
      report("choose the moment the ban ends");
      return;
    }
    void ban(user.uid, Math.ceil(ms / 1000));
  });
  byId("ban-lift", HTMLButtonElement).addEventListener("click", () => void ban(user.uid, 0));

  function confirming(uid: string): void {
    toDelete = uid;
    deleteStart.hidden = uid !== "";
    deleteConfirm.hidden = uid === "";
    deleteCancel.hidden = uid === "";
    deleteConfirm.textContent = `Delete ${uid} for good`;
  }

  deleteStart.addEventListener("click", () => {
    if (!user.uid) return;
    confirming(user.uid);
    result.textContent = `this erases ${user.uid}: profile, sessions (closed with 4005) and presence`;
  });
  deleteCancel.addEventListener("click", () => {
    confirming("");
    result.textContent = "";
  });
  deleteConfirm.addEventListener("click", async () => {
    const uid = toDelete;
    confirming("");
    if (uid !== user.uid) {
      report(`not deleted: the uid typed is no longer ${uid}`);
      return;
    }
    try {
      const failedUidList = await api.deleteUsers([uid]);
      report(`delete_user ${uid}: failedUidList ${JSON.stringify(failedUidList)}`);
    } catch (error) {
      report(messageOf(error));
    }
    user.show();
  });
  confirming("");
};
