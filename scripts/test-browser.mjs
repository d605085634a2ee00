#!/usr/bin/env node
// `npm run test:browser`: finds a Chromium (CHROMIUM_PATH, or the usual paths), installs
// Debian's package when none is there and apt-get can run, then runs the browser tests.
// A test tool's own browser download cannot work on machines without internet access.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

const find = () => CANDIDATES.find((path) => path && existsSync(path));

function installWithApt() {
  if (!existsSync("/usr/bin/apt-get")) return false;
  const asRoot = process.getuid?.() === 0;
  const run = (args) =>
    spawnSync(asRoot ? args[0] : "sudo", asRoot ? args.slice(1) : ["-n", ...args], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  console.log("test:browser: no Chromium found; installing Debian's chromium package");
  return (
    run(["apt-get", "install", "-y", "chromium"]).status === 0 ||
    (run(["apt-get", "update"]).status === 0 && run(["apt-get", "install", "-y", "chromium"]).status === 0)
  );
}

let chromium = find();
if (!chromium && installWithApt()) chromium = find();
if (!chromium) {
  console.error("test:browser: no Chromium. Install one (Debian: apt-get install chromium) or set CHROMIUM_PATH.");
  process.exit(1);
}
const result = spawnSync("npx", ["vitest", "run", "--config", "vitest.browser.config.ts", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, CHROMIUM_PATH: chromium },
});
process.exit(result.status ?? 1);
