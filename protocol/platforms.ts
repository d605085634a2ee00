/** OpenIM's platform ids and their exact spelling (docs/api.md#post-userget_users_online_status). */
export const PLATFORM_NAMES = {
  1: "IOS",
  2: "Android",
  3: "Windows",
  4: "OSX",
  5: "Web",
  6: "MiniWeb",
  7: "Linux",
} as const;

export type PlatformId = keyof typeof PLATFORM_NAMES;
export type PlatformName = (typeof PLATFORM_NAMES)[PlatformId];

/** Platform ids by name: `Platform.Web` is 5. */
export const Platform = {
  IOS: 1,
  Android: 2,
  Windows: 3,
  OSX: 4,
  Web: 5,
  MiniWeb: 6,
  Linux: 7,
} as const satisfies Record<PlatformName, PlatformId>;
