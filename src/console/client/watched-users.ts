import { PLATFORM_NAMES, type PlatformName } from "../../../protocol";
import type { ConsoleApi } from "./api";
import { button, byId, cell, tableBody } from "./dom";
import type { Log } from "./log";
import { describeCustomStatus } from "./presence-text";
import { Watcher } from "./watcher";

/** The watched uids, shared by the console tabs of this browser. */
const WATCH_KEY = "imserver-console-watch";

function parseWatched(stored: string | null): Set<string> {
  try {
    const value: unknown = JSON.parse(stored ?? "[]");
    return new Set(Array.isArray(value) ? value.filter((uid): uid is string => typeof uid === "string") : []);
  } catch {
    return new Set();
  }
}

/**
 * "Watched users": a live table of the watched users' presence, from the
 * watcher's subscription; nothing is polled. It shows what a watcher sees:
 * the live platforms, those in the background, and the custom status while
 * it lasts (the server sends the entry without it at its expiry); an
 * invisible user reads offline. Returns `watch`, which the other
 * panels call for the users they register or connect.
 */
export function watchedUsersPanel({ api, log }: { api: ConsoleApi; log: Log }): { watch(uid: string): void } {
  const table = byId("status-table", HTMLTableElement);
  const rows = tableBody("status-table");
  const note = byId("status-note", HTMLElement);
  const identity = byId("watcher", HTMLElement);
  let watched = parseWatched(localStorage.getItem(WATCH_KEY));

  const watcher = new Watcher(api, {
    log,
    status: (text) => {
      note.textContent = text;
    },
    identity: (uid) => {
      identity.textContent = uid;
    },
    changed: renderSoon,
    watched: () => watched,
  });

  /** Makes `next` the watched list: the watcher subscribes what it gained and unsubscribes what it lost. */
  function setWatched(next: Set<string>, save = true): void {
    const added = [...next].filter((uid) => !watched.has(uid));
    const removed = [...watched].filter((uid) => !next.has(uid));
    watched = next;
    if (save) localStorage.setItem(WATCH_KEY, JSON.stringify([...watched]));
    watcher.watch(added);
    watcher.unwatch(removed);
    render();
  }

  function watch(uid: string): void {
    if (!uid || watched.has(uid)) return;
    setWatched(new Set([...watched, uid]));
    void watcher.start(); // the first watch may come before any session
  }

  // The SDK hears a snapshot's users one by one: the table is drawn once per frame, not once per user.
  let renderPending = false;
  function renderSoon(): void {
    if (renderPending) return;
    renderPending = true;
    queueMicrotask(() => {
      renderPending = false;
      render();
    });
  }

  function render(): void {
    // While the socket is down the table shows what it last knew, dimmed.
    table.classList.toggle("stale", !watcher.live);
    rows.replaceChildren(...[...watched].map(renderRow));
  }

  function renderRow(uid: string): HTMLTableRowElement {
    const entry = watcher.presenceOf(uid); // none until the session's snapshot for it arrives
    const live = new Set<PlatformName>(entry?.status === "online" ? entry.platforms : []);
    const background = new Set<PlatformName>(entry?.status === "online" ? (entry.background ?? []) : []);
    const row = document.createElement("tr");
    row.dataset.uid = uid;
    row.dataset.status = entry ? entry.status : "unknown";
    if (background.size) row.dataset.background = [...background].join(",");
    row.append(
      cell(uid),
      cell(entry ? entry.status : "…", entry?.status),
      cell(entry?.status === "offline" && entry.lastSeen ? new Date(entry.lastSeen).toLocaleString() : "", "last-seen"),
      cell(entry ? String(entry.seq) : ""),
      cell(entry?.customStatus ? describeCustomStatus(entry.customStatus) : "", "custom-status"),
    );
    for (const name of Object.values(PLATFORM_NAMES)) {
      // A live platform whose every session is in the background says so, in its own colour.
      const state = background.has(name) ? "background" : live.has(name) ? "online" : undefined;
      const platformCell = cell(state ?? "–", state === "background" ? "online background" : (state ?? "offline"));
      platformCell.dataset.platform = name;
      row.append(platformCell);
    }
    const actions = cell("");
    actions.append(
      button("Unwatch", "unwatch", () => setWatched(new Set([...watched].filter((other) => other !== uid)))),
    );
    row.append(actions);
    return row;
  }

  byId("watch-add", HTMLButtonElement).addEventListener("click", () =>
    watch(byId("watch-uid", HTMLInputElement).value.trim()),
  );
  api.onSecretChange(() => void watcher.start());
  // Another console tab changed the list.
  addEventListener("storage", (event) => {
    if (event.key === WATCH_KEY) setWatched(parseWatched(event.newValue), false);
  });
  render();
  void watcher.start();
  return { watch };
}
