/// <reference types="node" />
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const SDK_NAME = "@imserver-edge/sdk";
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface InstalledSdk {
  /** The fresh project the tarball was installed into. */
  project: string;
  /** The installed package: <project>/node_modules/@imserver-edge/sdk. */
  packageDir: string;
  cleanup(): void;
}

/**
 * The environment without npm's own variables. Under `npm test` they point at this repository
 * (npm_config_local_prefix and the like), and a child npm would then act on it, not on the temp project.
 */
function withoutNpmSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
}

function npm(args: string[], cwd: string): string {
  const run = spawnSync("npm", [...args, "--no-audit", "--no-fund"], {
    cwd,
    encoding: "utf8",
    env: withoutNpmSettings(),
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`npm ${args.join(" ")} exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/**
 * What a user does: `npm pack` the SDK workspace (its prepack builds dist/), then install the
 * tarball into a brand-new project. `--offline`: a package with no dependencies needs no registry.
 */
export function installPackedSdk(): InstalledSdk {
  const root = mkdtempSync(join(tmpdir(), "imserver-sdk-"));
  const packed = JSON.parse(npm(["pack", "-w", SDK_NAME, "--pack-destination", root, "--json"], REPO_ROOT)) as {
    filename: string;
  }[];
  const tarball = packed[0]?.filename;
  if (!tarball) throw new Error(`npm pack reported no tarball: ${JSON.stringify(packed)}`);
  const project = join(root, "consumer");
  mkdirSync(project);
  npm(["init", "-y"], project);
  npm(["install", join(root, tarball), "--offline"], project);
  return {
    project,
    packageDir: join(project, "node_modules", ...SDK_NAME.split("/")),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Every file under `dir`, as relative paths with forward slashes, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split("\\").join("/"))
    .sort();
}
