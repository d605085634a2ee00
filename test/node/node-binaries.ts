/// <reference types="node" />
import { spawnSync } from "node:child_process";
import { accessSync, constants, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";

/** The project's `node` devDependency (Node 22), when installed. */
function devDependencyNode(): string[] {
  try {
    return [createRequire(import.meta.url).resolve("node/bin/node")];
  } catch {
    return [];
  }
}

/**
 * Where a `node` may be: the one running the tests, each one on PATH (npm scripts put the
 * devDependency's first, so the system's comes later), the usual system places, the devDependency.
 */
function candidates(): string[] {
  const onPath = (process.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, "node"));
  return [process.execPath, ...onPath, "/usr/bin/node", "/usr/local/bin/node", ...devDependencyNode()];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first working Node binary found for each major version, e.g. 20 → "/usr/bin/node". */
export function nodeBinariesByMajor(): Map<number, string> {
  const found = new Map<number, string>();
  const seen = new Set<string>();
  for (const path of candidates()) {
    if (!isExecutable(path)) continue;
    const real = realpathSync(path);
    if (seen.has(real)) continue;
    seen.add(real);
    const version = spawnSync(path, ["-p", "process.versions.node"], { encoding: "utf8", timeout: 10_000 });
    const major = Number.parseInt(version.stdout, 10);
    if (version.status === 0 && Number.isInteger(major) && !found.has(major)) found.set(major, path);
  }
  return found;
}
