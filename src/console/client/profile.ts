import type { Gender, ProfileFields, UserInfo } from "./api";
import { byId, messageOf, unixTime } from "./dom";
import type { Panel } from "./panel";

const TEXT_FIELDS = ["name", "icon", "mobile", "birth", "email", "ex"] as const;

function isGender(value: number): value is Gender {
  return value === 0 || value === 1 || value === 2;
}

/**
 * "Profile": the managed user's profile as get_user_info answers it, in a
 * form; Save sends update_user_info with the fields changed since, and only those.
 */
export const profilePanel: Panel = ({ api, log, user }) => {
  const inputs = Object.fromEntries(
    TEXT_FIELDS.map((field) => [field, byId(`profile-${field}`, HTMLInputElement)]),
  ) as Record<(typeof TEXT_FIELDS)[number], HTMLInputElement>;
  const gender = byId("profile-gender", HTMLSelectElement);
  const save = byId("profile-save", HTMLButtonElement);
  const note = byId("profile-note", HTMLElement);
  /** The profile the form shows, as loaded. */
  let loaded: UserInfo | undefined;

  function fill(info: UserInfo | undefined): void {
    loaded = info;
    for (const field of TEXT_FIELDS) inputs[field].value = info?.[field] ?? "";
    gender.value = String(info?.gender ?? 0);
    save.disabled = info === undefined;
  }

  user.onShow(async (uid) => {
    try {
      const [info] = await api.getUserInfo([uid]);
      if (uid !== user.uid) return; // another uid was typed meanwhile
      fill(info);
      if (!info) {
        note.textContent = `${uid} is not registered`;
        return;
      }
      const ban = info.bannedUntil === undefined ? "" : `; banned until ${unixTime(info.bannedUntil)}`;
      note.textContent = `created ${unixTime(info.createTime)}${ban}`;
    } catch (error) {
      fill(undefined);
      note.textContent = messageOf(error);
      log(messageOf(error));
    }
  });

  /** The fields the form changed since the profile was loaded. */
  function changes(from: UserInfo): ProfileFields {
    const changed: ProfileFields = {};
    for (const field of TEXT_FIELDS) if (inputs[field].value !== from[field]) changed[field] = inputs[field].value;
    const chosen = Number(gender.value);
    if (isGender(chosen) && chosen !== from.gender) changed.gender = chosen;
    return changed;
  }

  save.addEventListener("click", async () => {
    if (!loaded || loaded.uid !== user.uid) {
      log("load the user before saving its profile");
      return;
    }
    const uid = loaded.uid;
    const changed = changes(loaded);
    const names = Object.keys(changed);
    if (names.length === 0) {
      log(`profile of ${uid}: nothing changed`);
      return;
    }
    try {
      await api.updateUserInfo(uid, changed);
      log(`profile of ${uid} updated: ${names.join(", ")}`);
      user.show();
    } catch (error) {
      log(messageOf(error));
    }
  });
  save.disabled = true;
};
