import type { ConsoleApi } from "./api";
import type { Log } from "./log";
import type { ManagedUser } from "./managed-user";

/** What every panel gets. */
export interface ConsoleContext {
  api: ConsoleApi;
  log: Log;
  /** Adds a uid to the watched users table; nothing happens when it is there already. */
  watch(uid: string): void;
  /** The uid the user-management panels work on. */
  user: ManagedUser;
}

/**
 * A panel wires one fieldset of the page (src/console/page.ts) to the worker:
 * it finds its elements by id, listens to them and renders into them. A new
 * panel is a module exporting one of these, listed in main.ts.
 */
export type Panel = (context: ConsoleContext) => void;
