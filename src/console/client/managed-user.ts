import { byId } from "./dom";

/**
 * The uid the user-management panels (profile, server sessions, ban and
 * delete) work on, typed once in "Manage a user". Load shows it in each
 * panel; so does every action on the user, once the worker has answered.
 */
export class ManagedUser {
  private readonly listeners: ((uid: string) => void)[] = [];
  private readonly input = byId("manage-uid", HTMLInputElement);

  constructor() {
    byId("manage-load", HTMLButtonElement).addEventListener("click", () => this.show());
  }

  /** The uid as typed now. */
  get uid(): string {
    return this.input.value.trim();
  }

  /** `listener` shows the user in one panel. */
  onShow(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  /** Every panel shows the uid typed now (nothing happens while none is). */
  show(): void {
    const uid = this.uid;
    if (!uid) return;
    for (const listener of this.listeners) listener(uid);
  }
}
