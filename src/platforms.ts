/** OpenIM's platform ids and their exact spelling in status answers (SPEC §4). */
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

export const MIN_PLATFORM = 1;
export const MAX_PLATFORM = 7;

export function isPlatformId(value: unknown): value is PlatformId {
  return typeof value === "number" && Number.isInteger(value) && value >= MIN_PLATFORM && value <= MAX_PLATFORM;
}

export function platformName(id: PlatformId): PlatformName {
  return PLATFORM_NAMES[id];
}
