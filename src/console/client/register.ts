import { byId, messageOf, selectedPlatform } from "./dom";
import type { Panel } from "./panel";

/** "Register a user": user_register through the SDK; the new user is watched at once. */
export const registerPanel: Panel = ({ api, log, watch }) => {
  const uid = byId("reg-uid", HTMLInputElement);
  const name = byId("reg-name", HTMLInputElement);
  const platform = byId("reg-platform", HTMLSelectElement);
  const result = byId("reg-result", HTMLElement);

  byId("reg-submit", HTMLButtonElement).addEventListener("click", async () => {
    const id = uid.value.trim();
    try {
      const issued = await api
        .appServer()
        .registerUser({ uid: id, name: name.value, platform: selectedPlatform(platform) });
      result.textContent = `registered ${issued.uid}`;
      log(`registered ${issued.uid}`);
      watch(id);
    } catch (error) {
      result.textContent = messageOf(error);
      log(messageOf(error));
    }
  });
};
