/// <reference types="node" />
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { wranglerDevArgs } from "../../scripts/wrangler-dev-args";
import { freePort } from "./free-port";

export interface RunningWorker {
  url: string;
  stop(): Promise<void>;
}

const WRANGLER = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
// This machine's convention for dev servers started by tests; any free port otherwise.
const PREFERRED_PORTS = [8788, 8789];

function wrangler(args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, [WRANGLER, ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", ...extraEnv },
  });
}

async function waitUntilServing(
  url: string,
  child: ChildProcess,
  output: () => string,
  withinMs: number,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early (${child.exitCode}):\n${output()}`);
    try {
      const response = await fetch(`${url}/openapi.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not serve ${url} within ${withinMs} ms:\n${output()}`);
}

/**
 * `wrangler dev` on a free port with its own temporary state: the local D1
 * migrations are applied there first, settings come in as --var.
 */
export async function startWorker(vars: Record<string, string>): Promise<RunningWorker> {
  const persistTo = mkdtempSync(join(tmpdir(), "imserver-e2e-"));
  const migrate = wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo]);
  if (migrate.status !== 0) throw new Error(`applying migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  const port = await freePort(PREFERRED_PORTS);
  const inspectorPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      // Local development, as `npm run dev` runs it: the tests' short secret is allowed.
      ...wranglerDevArgs({ port, inspectorPort, persistTo, vars: { LOCAL_DEV: "true", ...vars }, logLevel: "warn" }),
    ],
    // Its own process group, so stopping it also stops workerd.
    {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    rmSync(persistTo, { recursive: true, force: true });
  };

  try {
    await waitUntilServing(url, child, () => output, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
