/**
 * The dev console's script (/console/app.js), bundled by scripts/build-console.mjs.
 * It reaches the worker only as any client would: the AppServer routes and the
 * client socket through the SDK, and the console's own list of webhook deliveries.
 */
import { ConsoleApi } from "./api";
import { byId } from "./dom";
import { webhookEventsPanel } from "./events";
import { grantsPanel } from "./grants";
import { logTo } from "./log";
import { ManagedUser } from "./managed-user";
import { moderationPanel } from "./moderation";
import type { ConsoleContext, Panel } from "./panel";
import { profilePanel } from "./profile";
import { registerPanel } from "./register";
import { sessionsPanel } from "./sessions";
import { userPresencePanel } from "./user-presence";
import { userSessionsPanel } from "./user-sessions";
import { watchedUsersPanel } from "./watched-users";

const api = new ConsoleApi(byId("secret", HTMLInputElement));
const log = logTo(byId("log", HTMLElement));
// First: the other panels watch the users they register or connect.
const { watch } = watchedUsersPanel({ api, log });
const context: ConsoleContext = { api, log, watch, user: new ManagedUser() };

const PANELS: Panel[] = [
  registerPanel,
  sessionsPanel,
  profilePanel,
  userSessionsPanel,
  userPresencePanel,
  grantsPanel,
  moderationPanel,
  webhookEventsPanel,
];
for (const panel of PANELS) panel(context);
