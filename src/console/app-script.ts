import { CloseCode, ErrCode, MAX_IDS_PER_FRAME, PING, PLATFORM_NAMES, Platform, PONG } from "../../protocol";

/**
 * The console's browser code. It is plain JavaScript in a string because the
 * worker has no browser build step; it talks to the worker only through the
 * public API (the AppServer routes and /ws), like any client would.
 */
const SCRIPT = `
const PLATFORMS = __PLATFORMS__;
const PING = __PING__, PONG = __PONG__;
const MAX_IDS_PER_FRAME = __MAX_IDS_PER_FRAME__, KICKED = __KICKED__;
const NOT_AUTHORIZED = __NOT_AUTHORIZED__, NOT_REGISTERED = __NOT_REGISTERED__;
const HEARTBEAT_MS = 10000, EVENTS_REFRESH_MS = 2000, RETRY_MIN_MS = 1000, RETRY_MAX_MS = 15000;
const WATCH_KEY = "imserver-console-watch", WATCHER_KEY = "imserver-console-watcher", WATCHER_PLATFORM = __WEB__;
const $ = (id) => document.getElementById(id);
let watched = new Set(JSON.parse(localStorage.getItem(WATCH_KEY) || "[]"));
/** Per watched uid, the newest entry the current socket sent. */
const known = new Map();
const sessions = [];

function log(text) {
  const line = document.createElement("div");
  line.textContent = new Date().toLocaleTimeString() + "  " + text;
  $("log").prepend(line);
}

async function api(path, fields) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...fields, secret: $("secret").value }),
  });
  const body = await response.json();
  if (body.errCode !== 0) {
    throw Object.assign(new Error(path + ": " + response.status + "/" + body.errCode + " " + body.errMsg), { errCode: body.errCode });
  }
  return body;
}

function socketUrl(uid, token, platform) {
  const url = new URL("/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = new URLSearchParams({ sendID: uid, token, platformID: String(platform) }).toString();
  return url;
}

/** Makes next the watched list: the socket subscribes what it gained and unsubscribes what it lost. */
function setWatched(next, save = true) {
  const added = [...next].filter((uid) => !watched.has(uid));
  const removed = [...watched].filter((uid) => !next.has(uid));
  watched = next;
  if (save) localStorage.setItem(WATCH_KEY, JSON.stringify([...watched]));
  for (const uid of removed) known.delete(uid);
  sendIds("subscribe", added);
  sendIds("unsubscribe", removed);
  renderWatched();
}

function watch(uid) {
  if (!uid || watched.has(uid)) return;
  setWatched(new Set([...watched, uid]));
  connectWatcher(); // the first watch may come before any socket
}

function unwatch(uid) {
  setWatched(new Set([...watched].filter((other) => other !== uid)));
}

$("reg-submit").addEventListener("click", async () => {
  const uid = $("reg-uid").value.trim();
  try {
    const { data } = await api("/auth/user_register", { uid, name: $("reg-name").value, platform: Number($("reg-platform").value) });
    $("reg-result").textContent = "registered " + data.uid;
    log("registered " + data.uid);
    watch(uid);
  } catch (error) {
    $("reg-result").textContent = error.message;
    log(error.message);
  }
});

function renderSessions() {
  const rows = sessions.map((s, index) => {
    const row = document.createElement("tr");
    row.dataset.uid = s.uid;
    row.dataset.platform = PLATFORMS[s.platform];
    for (const text of [s.uid, PLATFORMS[s.platform], s.state]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const cell = document.createElement("td");
    if (s.state === "open" || s.state === "connecting") {
      const button = document.createElement("button");
      button.textContent = "Disconnect";
      button.className = "disconnect";
      button.addEventListener("click", () => s.socket.close(1000, "closed in console"));
      cell.append(button);
    }
    row.append(cell);
    return row;
  });
  $("sessions").replaceChildren(...rows);
}

$("session-open").addEventListener("click", async () => {
  const uid = $("session-uid").value.trim();
  const platform = Number($("session-platform").value);
  try {
    const { data } = await api("/auth/user_token", { uid, platform });
    const session = { uid, platform, state: "connecting", socket: new WebSocket(socketUrl(uid, data.token, platform)) };
    sessions.push(session);
    watch(uid);
    let timer;
    session.socket.addEventListener("open", () => {
      session.state = "open";
      // Ping at once: a socket that never sent a frame learns of its close late.
      session.socket.send(PING);
      timer = setInterval(() => session.socket.send(PING), HEARTBEAT_MS);
      log("session open: " + uid + " on " + PLATFORMS[platform]);
      renderSessions();
    });
    session.socket.addEventListener("message", (event) => {
      if (event.data !== PONG) log("frame for " + uid + ": " + event.data);
    });
    session.socket.addEventListener("close", (event) => {
      clearInterval(timer);
      session.state = "closed " + event.code + (event.reason ? " (" + event.reason + ")" : "");
      log("session closed: " + uid + " on " + PLATFORMS[platform] + ", code " + event.code);
      renderSessions();
    });
    renderSessions();
  } catch (error) {
    log(error.message);
  }
});

// The watched list is live: this tab holds a socket of its own, as a console
// user, and subscribes to the watched ids over it. Nothing is polled.
async function watcherSession() {
  const stored = sessionStorage.getItem(WATCHER_KEY);
  if (stored) {
    try {
      return { uid: stored, token: (await api("/auth/user_token", { uid: stored, platform: WATCHER_PLATFORM })).data.token };
    } catch (error) {
      if (error.errCode !== NOT_REGISTERED) throw error; // else the local state was reset: register anew
    }
  }
  // A user per tab, so two console tabs never kick each other off the same platform.
  const uid = "console-" + Math.random().toString(36).slice(2, 10);
  const { data } = await api("/auth/user_register", { uid, name: "dev console", platform: WATCHER_PLATFORM });
  sessionStorage.setItem(WATCHER_KEY, uid);
  return { uid, token: data.token };
}

let watcher = null; // this tab's socket, from its token request until it closes
let retryMs = RETRY_MIN_MS, retryTimer;

async function connectWatcher() {
  if (watcher) return;
  if (!$("secret").value) {
    $("status-note").textContent = "type the secret to watch users live";
    return;
  }
  clearTimeout(retryTimer);
  const current = (watcher = { socket: null });
  $("status-note").textContent = "connecting";
  let session;
  try {
    session = await watcherSession();
  } catch (error) {
    watcher = null;
    $("status-note").textContent = error.message;
    // A refused secret would only spend its rate limit again: typing it anew retries.
    if (error.errCode !== NOT_AUTHORIZED) retryLater();
    return;
  }
  const { uid, token } = session;
  $("watcher").textContent = uid;
  current.socket = new WebSocket(socketUrl(uid, token, WATCHER_PLATFORM));
  let heartbeat;
  current.socket.addEventListener("open", () => {
    retryMs = RETRY_MIN_MS;
    // Ping at once: a socket that never sent a frame learns of its close late.
    current.socket.send(PING);
    heartbeat = setInterval(() => current.socket.send(PING), HEARTBEAT_MS);
    $("status-note").textContent = "live";
    log("watching as " + uid + " on " + PLATFORMS[WATCHER_PLATFORM]);
    sendIds("subscribe", [...watched]); // every subscribe answers with a snapshot
  });
  current.socket.addEventListener("message", (event) => {
    if (event.data === PONG) return;
    const frame = JSON.parse(event.data);
    if (frame.type === "presence") applyPresence(frame.users);
    else if (frame.type === "error") {
      $("status-note").textContent = "error frame " + frame.errCode + ": " + frame.errMsg;
      log("watcher got error frame " + frame.errCode + ": " + frame.errMsg);
    } else log("watcher got " + event.data);
  });
  current.socket.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    watcher = null;
    // What this socket said no longer holds; the next one's snapshot replaces it.
    known.clear();
    renderWatched();
    // Kicked: another tab holds this user (a duplicated tab copies sessionStorage); take a new one.
    if (event.code === KICKED) sessionStorage.removeItem(WATCHER_KEY);
    $("status-note").textContent = "socket closed, code " + event.code;
    log("watcher closed, code " + event.code + (event.reason ? " (" + event.reason + ")" : ""));
    retryLater();
  });
}

function retryLater() {
  $("status-note").textContent += "; retrying in " + retryMs / 1000 + " s";
  retryTimer = setTimeout(connectWatcher, retryMs);
  retryMs = Math.min(2 * retryMs, RETRY_MAX_MS);
}

/** Sends the ids in frames of at most MAX_IDS_PER_FRAME; while no socket is open, its open subscribes them all. */
function sendIds(type, ids) {
  if (watcher?.socket?.readyState !== WebSocket.OPEN) return;
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_FRAME) {
    watcher.socket.send(JSON.stringify({ type, userIDs: ids.slice(i, i + MAX_IDS_PER_FRAME) }));
  }
}

/** Entries from presence frames (protocol/presence-frames.ts, WatchedUser), per user the one with the highest seq. */
function applyPresence(users) {
  for (const user of users) {
    const old = known.get(user.userID);
    if (!watched.has(user.userID) || (old && user.seq <= old.seq)) continue;
    known.set(user.userID, user);
  }
  renderWatched();
}

function renderWatched() {
  const rows = [...watched].map((uid) => {
    const entry = known.get(uid); // none until this socket's snapshot for it arrives
    const row = document.createElement("tr");
    row.dataset.uid = uid;
    row.dataset.status = entry ? entry.status : "unknown";
    const live = new Set(entry?.status === "online" ? entry.platforms : []);
    const cells = [
      uid,
      entry ? entry.status : "…",
      entry?.lastSeen ? new Date(entry.lastSeen).toLocaleString() : "",
      entry ? String(entry.seq) : "",
    ];
    for (const [index, text] of cells.entries()) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (index === 1 && entry) cell.className = entry.status;
      if (index === 2) cell.className = "last-seen";
      row.append(cell);
    }
    for (const name of Object.values(PLATFORMS)) {
      const cell = document.createElement("td");
      cell.dataset.platform = name;
      cell.className = live.has(name) ? "online" : "offline";
      cell.textContent = live.has(name) ? "online" : "–";
      row.append(cell);
    }
    const remove = document.createElement("button");
    remove.textContent = "Unwatch";
    remove.className = "unwatch";
    remove.addEventListener("click", () => unwatch(uid));
    const removeCell = document.createElement("td");
    removeCell.append(remove);
    row.append(removeCell);
    return row;
  });
  $("status-table").tBodies[0].replaceChildren(...rows);
}

$("watch-add").addEventListener("click", () => watch($("watch-uid").value.trim()));
$("secret").addEventListener("change", connectWatcher);

// The webhook deliveries the console's own receiver got (dev only), newest first. They are
// asked for with the secret; one that was refused is not sent again, which would only spend
// its rate limit, until another is typed.
let refusedEventsSecret = "";
async function refreshEvents() {
  const secret = $("secret").value;
  if (!secret || secret === refusedEventsSecret) return;
  let deliveries;
  try {
    deliveries = (await api("/console/events", {})).data;
  } catch (error) {
    if (error.errCode === NOT_AUTHORIZED) refusedEventsSecret = secret;
    throw error;
  }
  const rows = deliveries.flatMap((delivery) =>
    delivery.events.map((event) => {
      const row = document.createElement("tr");
      row.dataset.user = event.userID;
      row.dataset.type = event.type;
      const cells = [
        new Date(delivery.receivedAt).toLocaleTimeString(),
        String(event.seq),
        event.userID,
        event.type + " " + event.platform + " (" + event.reason + ")",
        event.platforms.join(", ") || "none",
      ];
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
  $("events-table").tBodies[0].replaceChildren(...rows);
}
setInterval(() => refreshEvents().catch(() => {}), EVENTS_REFRESH_MS);

// Another console tab may change the watch list.
addEventListener("storage", (event) => {
  if (event.key === WATCH_KEY) setWatched(new Set(JSON.parse(event.newValue || "[]")), false);
});
renderWatched();
connectWatcher();
`;

// Values the script shares with the worker, spelled once in protocol/.
const CONSTANTS: Record<string, unknown> = {
  __PLATFORMS__: PLATFORM_NAMES,
  __PING__: PING,
  __PONG__: PONG,
  __MAX_IDS_PER_FRAME__: MAX_IDS_PER_FRAME,
  __WEB__: Platform.Web,
  __KICKED__: CloseCode.kicked,
  __NOT_AUTHORIZED__: ErrCode.notAuthorized,
  __NOT_REGISTERED__: ErrCode.notRegistered,
};

export const CONSOLE_SCRIPT = Object.entries(CONSTANTS).reduce(
  (script, [name, value]) => script.replaceAll(name, JSON.stringify(value)),
  SCRIPT,
);
