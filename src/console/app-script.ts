import { PLATFORM_NAMES } from "../platforms";
import { PING, PONG } from "../presence/sockets";

/**
 * The console's browser code. It is plain JavaScript in a string because the
 * worker has no browser build step; it talks to the worker only through the
 * public API (the AppServer routes and /ws), like any client would.
 */
const SCRIPT = String.raw`
const PLATFORMS = __PLATFORMS__;
const PING = __PING__, PONG = __PONG__;
const HEARTBEAT_MS = 10000, REFRESH_MS = 1000, WATCH_KEY = "imserver-console-watch";
const $ = (id) => document.getElementById(id);
const watched = new Set(JSON.parse(localStorage.getItem(WATCH_KEY) || "[]"));
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
  if (body.errCode !== 0) throw new Error(path + ": " + response.status + "/" + body.errCode + " " + body.errMsg);
  return body;
}

function watch(uid) {
  if (!uid || watched.has(uid)) return;
  watched.add(uid);
  localStorage.setItem(WATCH_KEY, JSON.stringify([...watched]));
  refresh();
}

function unwatch(uid) {
  watched.delete(uid);
  localStorage.setItem(WATCH_KEY, JSON.stringify([...watched]));
  refresh();
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
    const url = new URL("/ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = new URLSearchParams({ sendID: uid, token: data.token, platformID: String(platform) }).toString();
    const session = { uid, platform, state: "connecting", socket: new WebSocket(url) };
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
      refresh();
    });
    renderSessions();
  } catch (error) {
    log(error.message);
  }
});

$("watch-add").addEventListener("click", () => watch($("watch-uid").value.trim()));

function renderStatus(entries) {
  const rows = entries.map((entry) => {
    const row = document.createElement("tr");
    row.dataset.uid = entry.userID;
    row.dataset.status = entry.status;
    const live = new Set((entry.detailPlatformStatus || []).map((p) => p.platform));
    const uidCell = document.createElement("td");
    uidCell.textContent = entry.userID;
    const statusCell = document.createElement("td");
    statusCell.textContent = entry.status;
    statusCell.className = entry.status;
    row.append(uidCell, statusCell);
    for (const name of Object.values(PLATFORMS)) {
      const cell = document.createElement("td");
      cell.dataset.platform = name;
      cell.className = live.has(name) ? "online" : "offline";
      cell.textContent = live.has(name) ? "online" : "–";
      row.append(cell);
    }
    const remove = document.createElement("button");
    remove.textContent = "Unwatch";
    remove.addEventListener("click", () => unwatch(entry.userID));
    const removeCell = document.createElement("td");
    removeCell.append(remove);
    row.append(removeCell);
    return row;
  });
  $("status-table").tBodies[0].replaceChildren(...rows);
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  if (!$("secret").value) {
    $("status-note").textContent = "type the secret to see statuses";
    return;
  }
  refreshing = true;
  try {
    const { successResult } = await api("/user/get_users_online_status", { userIDList: [...watched].slice(0, 200) });
    renderStatus(successResult);
    $("status-note").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (error) {
    $("status-note").textContent = error.message;
  } finally {
    refreshing = false;
  }
}

// The webhook deliveries the console's own receiver got (dev only), newest first.
async function refreshEvents() {
  const deliveries = await (await fetch("/console/events")).json();
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
        delivery.verified ? "verified" : "BAD",
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
setInterval(() => refreshEvents().catch(() => {}), 2 * REFRESH_MS);

// Another console tab may change the watch list.
addEventListener("storage", (event) => {
  if (event.key !== WATCH_KEY) return;
  watched.clear();
  for (const uid of JSON.parse(event.newValue || "[]")) watched.add(uid);
  refresh();
});
setInterval(refresh, REFRESH_MS);
refresh();
`;

export const CONSOLE_SCRIPT = SCRIPT.replace("__PLATFORMS__", JSON.stringify(PLATFORM_NAMES))
  .replace("__PING__", JSON.stringify(PING))
  .replace("__PONG__", JSON.stringify(PONG));
