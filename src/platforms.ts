// Server-side helpers for OpenIM's platform ids; the ids and their names are the protocol's (protocol/platforms.ts).
import { PLATFORM_NAMES, type PlatformId, type PlatformName } from "../protocol";

export const MIN_PLATFORM = 1;
export const MAX_PLATFORM = 7;

export function isPlatformId(value: unknown): value is PlatformId {
  return typeof value === "number" && Number.isInteger(value) && value >= MIN_PLATFORM && value <= MAX_PLATFORM;
}

export function platformName(id: PlatformId): PlatformName {
  return PLATFORM_NAMES[id];
}

/** A set of platforms as one integer (bit n for platform n): one column, one comparison. */
export function platformMask(platforms: Iterable<PlatformId>): number {
  let mask = 0;
  for (const platform of platforms) mask |= 1 << platform;
  return mask;
}

export function platformsOfMask(mask: number): PlatformId[] {
  const platforms: PlatformId[] = [];
  for (let id = MIN_PLATFORM; id <= MAX_PLATFORM; id++) {
    if (mask & (1 << id)) platforms.push(id as PlatformId);
  }
  return platforms;
}
