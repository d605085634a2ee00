import { button, byId, cell, messageOf } from "./dom";
import type { Panel } from "./panel";

/** set_presence_grants' change: the uids to let see the user, or those to stop letting see it, or both. */
type GrantsChange = { add: string[]; remove?: string[] } | { add?: string[]; remove: string[] };

/** The uids typed, separated by commas or spaces. */
function typedUids(input: HTMLInputElement): string[] {
  return input.value.split(/[\s,]+/).filter((uid) => uid !== "");
}

/**
 * "Presence grants": the uids that may see the managed user's presence when
 * PRESENCE_VISIBILITY is `granted`, a page at a time (get_presence_grants,
 * paged by cursor), read on Load and after each change. Add and Remove send
 * set_presence_grants with the uids typed; a listed uid's Remove, that one.
 * Both through the AppServer SDK (getPresenceGrants, setPresenceGrants).
 */
export const grantsPanel: Panel = ({ api, log, user }) => {
  const rows = byId("grants", HTMLTableSectionElement);
  const note = byId("grants-note", HTMLElement);
  const uids = byId("grants-uids", HTMLInputElement);
  const limit = byId("grants-limit", HTMLInputElement);
  const next = byId("grants-next", HTMLButtonElement);
  /** The page shown: whose, its cursor (none: the first), its number, and the next one's cursor. */
  let page: { uid: string; cursor?: string; number: number; nextCursor?: string } | undefined;

  async function show(uid: string, cursor: string | undefined, number: number): Promise<void> {
    try {
      // The server checks the page size (1–1000); none typed is its default.
      const pageSize = limit.value === "" ? 1000 : Number(limit.value);
      const answer = await api.appServer().getPresenceGrants({ uid, cursor, limit: pageSize });
      if (uid !== user.uid) return; // another uid was typed meanwhile
      page = { uid, cursor, number, nextCursor: answer.nextCursor };
      rows.replaceChildren(...answer.userIDList.map((grantee) => renderRow(uid, grantee)));
      const more = answer.nextCursor === undefined ? "the last page" : "more on the next";
      note.textContent = `${uid}: page ${number}, ${answer.userIDList.length} uid(s), ${more}`;
    } catch (error) {
      page = undefined;
      rows.replaceChildren();
      note.textContent = messageOf(error);
      log(messageOf(error));
    }
    next.disabled = page?.nextCursor === undefined;
  }

  function renderRow(uid: string, grantee: string): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.uid = grantee;
    const actions = cell("");
    actions.append(button("Remove", "remove", () => void change(uid, { remove: [grantee] })));
    row.append(cell(grantee), actions);
    return row;
  }

  /** Sends the change, then shows the page again (the same page, when it is still this user's). */
  async function change(uid: string, grants: GrantsChange): Promise<void> {
    try {
      await api.appServer().setPresenceGrants({ uid, ...grants });
      const said = [
        ...(grants.add ? [`granted ${grants.add.join(", ")}`] : []),
        ...(grants.remove ? [`removed ${grants.remove.join(", ")}`] : []),
      ];
      note.textContent = `${uid}: ${said.join("; ")}`;
      log(`presence grants of ${note.textContent}`);
    } catch (error) {
      note.textContent = messageOf(error);
      log(messageOf(error));
      return;
    }
    const same = page?.uid === uid ? page : undefined;
    await show(uid, same?.cursor, same?.number ?? 1);
  }

  function typedChange(kind: "add" | "remove"): void {
    const list = typedUids(uids);
    if (!user.uid) return;
    if (list.length === 0) {
      note.textContent = `type the uids to ${kind}, separated by commas or spaces`;
      return;
    }
    void change(user.uid, kind === "add" ? { add: list } : { remove: list });
  }

  user.onShow((uid) => void show(uid, undefined, 1));
  byId("grants-add", HTMLButtonElement).addEventListener("click", () => typedChange("add"));
  byId("grants-remove", HTMLButtonElement).addEventListener("click", () => typedChange("remove"));
  byId("grants-first", HTMLButtonElement).addEventListener("click", () => {
    if (user.uid) void show(user.uid, undefined, 1);
  });
  next.addEventListener("click", () => {
    if (page?.nextCursor !== undefined && page.uid === user.uid) void show(page.uid, page.nextCursor, page.number + 1);
  });
  next.disabled = true;
};
