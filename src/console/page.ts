import { PLATFORM_NAMES } from "../../protocol";
import { escapeHtml as e } from "../docs/html";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 1.5rem;color:#1d2330}
fieldset{border:1px solid #d5dae1;border-radius:6px;margin:0 0 1rem;padding:.5rem 1rem 1rem}
label{margin-right:.75rem} input,select,button{font:inherit;padding:.2rem .4rem}
table{border-collapse:collapse;width:100%} th,td{border:1px solid #d5dae1;padding:.25rem .5rem;text-align:left}
th{background:#f4f6f9} td.online{background:#d9f5de;font-weight:600} td.offline{color:#8a93a3} td.background{background:#fff1c7}
.own-presence{display:flex;flex-wrap:wrap;gap:.25rem .5rem;align-items:center} input.narrow{width:4rem} .refused{color:#b3261e}
table.stale{opacity:.55} .note{color:#5b6474} #log{max-height:10rem;overflow:auto;background:#f4f6f9;padding:.5rem;font:12px monospace;white-space:pre-wrap}
`;

function platformOptions(): string {
  return Object.entries(PLATFORM_NAMES)
    .map(([id, name]) => `<option value="${e(id)}"${name === "Web" ? " selected" : ""}>${e(id)} ${e(name)}</option>`)
    .join("");
}

/**
 * The dev console's HTML. Its behaviour is /console/app.js (a separate file so the CSP can forbid
 * inline scripts), built from src/console/client: each fieldset here is one panel module there.
 */
export function renderConsolePage(): string {
  const platformHeaders = Object.values(PLATFORM_NAMES)
    .map((name) => `<th>${e(name)}</th>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>IMServer dev console</title><style>${STYLE}</style></head>
<body>
<h1>IMServer dev console</h1>
<p class="note"><strong>For local development only.</strong> This console and its webhook receiver exist only while CONSOLE_ENABLED is true (npm run dev sets it); never set it on a deployed worker. The secret stays in this page's memory and is sent only to this worker. API reference: <a href="/docs">/docs</a>.</p>
<fieldset><legend>AppServer secret</legend>
<label>secret <input id="secret" type="password" autocomplete="off" placeholder="IM_SECRET"></label>
</fieldset>
<fieldset><legend>Register a user</legend>
<label>uid <input id="reg-uid" required></label>
<label>name <input id="reg-name"></label>
<label>platform <select id="reg-platform">${platformOptions()}</select></label>
<button id="reg-submit" type="button">Register</button>
<span id="reg-result" class="note"></span>
</fieldset>
<fieldset><legend>Open a session</legend>
<label>uid <input id="session-uid"></label>
<label>platform <select id="session-platform">${platformOptions()}</select></label>
<button id="session-open" type="button">Connect</button>
<p class="note">Each open session says what its user says about its own presence with <code>set</code> frames: invisible and the custom status are the user's (the last set wins), background is the session's. The server answers only a refusal, shown in the row.</p>
<table><thead><tr><th>uid</th><th>platform</th><th>state</th><th>reconnects</th><th>own presence</th><th></th></tr></thead><tbody id="sessions"></tbody></table>
</fieldset>
<fieldset><legend>Manage a user</legend>
<label>uid <input id="manage-uid"></label>
<button id="manage-load" type="button">Load</button>
<span class="note">shows it in the panels below, which show it again after each action</span>
</fieldset>
<fieldset><legend>Profile (<code>get_user_info</code>, <code>update_user_info</code>)</legend>
<label>name <input id="profile-name"></label>
<label>gender <select id="profile-gender"><option value="0">0 unknown</option><option value="1">1 male</option><option value="2">2 female</option></select></label>
<label>mobile <input id="profile-mobile"></label>
<label>birth <input id="profile-birth"></label>
<label>email <input id="profile-email"></label>
<label>icon <input id="profile-icon"></label>
<label>ex <input id="profile-ex"></label>
<button id="profile-save" type="button">Save changes</button>
<p id="profile-note" class="note"></p>
</fieldset>
<fieldset><legend>Sessions on the server (<code>get_user_sessions</code>, <code>force_logout</code>)</legend>
<button id="user-sessions-refresh" type="button">Refresh</button>
<label>platform <select id="logout-platform">${platformOptions()}</select></label>
<button id="logout-submit" type="button">Log out platform</button>
<span id="user-sessions-note" class="note"></span>
<table><thead><tr><th>connID</th><th>platform</th><th>connected</th><th>last active</th><th></th></tr></thead><tbody id="user-sessions"></tbody></table>
</fieldset>
<fieldset><legend>Presence as the AppServer sees it (<code>get_users_online_status</code>, <code>set_custom_status</code>)</legend>
<button id="presence-refresh" type="button">Refresh</button>
<span id="presence-note" class="note"></span>
<table id="presence-lookup"><thead><tr><th>status</th><th>platforms</th><th>custom status</th><th>invisible</th><th>last seen</th></tr></thead><tbody></tbody></table>
<p><label>custom status <input id="custom-status-text"></label>
<label>until <input id="custom-status-until" type="datetime-local" step="1"></label>
<label>or in <input id="custom-status-minutes" class="narrow" type="number" min="0" step="any"> minutes</label>
<button id="custom-status-set" type="button">Set status</button>
<button id="custom-status-clear" type="button">Clear</button></p>
<p id="custom-status-result" class="note"></p>
</fieldset>
<fieldset><legend>Presence grants (<code>set_presence_grants</code>, <code>get_presence_grants</code>)</legend>
<p class="note">The uids that may see this user's presence while PRESENCE_VISIBILITY is <code>granted</code>; with <code>everyone</code> (the default) they are kept but change nothing.</p>
<label>uids <input id="grants-uids" placeholder="bob, carol"></label>
<button id="grants-add" type="button">Add</button>
<button id="grants-remove" type="button">Remove</button>
<label>page size <input id="grants-limit" class="narrow" type="number" min="1" max="1000" value="50"></label>
<button id="grants-first" type="button">First page</button>
<button id="grants-next" type="button">Next page</button>
<span id="grants-note" class="note"></span>
<table><thead><tr><th>may see the user</th><th></th></tr></thead><tbody id="grants"></tbody></table>
</fieldset>
<fieldset><legend>Ban or delete (<code>ban_user</code>, <code>delete_user</code>)</legend>
<label>banned until <input id="ban-until" type="datetime-local"></label>
<label>reason <input id="ban-reason"></label>
<button id="ban-submit" type="button">Ban</button>
<button id="ban-lift" type="button">Lift ban</button>
<button id="delete-start" type="button">Delete…</button>
<button id="delete-confirm" type="button" hidden></button>
<button id="delete-cancel" type="button" hidden>Cancel</button>
<p id="moderation-result" class="note"></p>
</fieldset>
<fieldset><legend>Watched users (live, from a presence subscription)</legend>
<p class="note">This tab opens a socket of its own as user <code id="watcher">…</code> (registered on first use, platform Web) and subscribes to these users over it; it never polls. It shows what a watcher sees: platforms in the background, a custom status until it expires, and an invisible user as offline.</p>
<label>watch uid <input id="watch-uid"></label><button id="watch-add" type="button">Watch</button>
<span id="status-note" class="note"></span>
<table id="status-table"><thead><tr><th>uid</th><th>status</th><th>last seen</th><th>seq</th><th>custom status</th>${platformHeaders}<th></th></tr></thead><tbody></tbody></table>
</fieldset>
<fieldset><legend>Presence webhooks (what <code>/console/webhook</code> received)</legend>
<p class="note">A receiver for local development only: npm run dev points PRESENCE_WEBHOOK_URL here; with another URL this list stays empty. It keeps, in memory, the last 50 deliveries whose X-IM-Signature checks out against PRESENCE_WEBHOOK_SECRET (others get 401), and shows them only with the AppServer secret typed above.</p>
<table id="events-table"><thead><tr><th>received</th><th>seq</th><th>user</th><th>event</th><th>platforms after</th></tr></thead><tbody></tbody></table>
</fieldset>
<h2>Log</h2><div id="log"></div>
<script type="module" src="/console/app.js"></script>
</body></html>`;
}
