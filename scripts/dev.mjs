#!/usr/bin/env node
// `npm run dev`: local D1 migrated, dev secrets in place, then `wrangler dev`.
// Extra arguments pass through: `npm run dev -- --port 9000 --ip 127.0.0.1`.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const DEV_VARS = ".dev.vars";

// Local-only secrets. The worker itself never defaults a secret: a deployed
// worker without them answers 500 naming the missing setting.
if (!existsSync(DEV_VARS)) {
  writeFileSync(
    DEV_VARS,
    [
      "# Written by `npm run dev` for local development only. Never deploy these.",
      "IM_SECRET=tuoyun",
      `TOKEN_SIGNING_KEY=dev-${randomBytes(24).toString("hex")}`,
      "",
    ].join("\n"),
  );
  console.log(`[dev] wrote ${DEV_VARS}: IM_SECRET=tuoyun and a generated TOKEN_SIGNING_KEY`);
}
// Added to older .dev.vars too: the dev console's webhook receiver checks signatures with it.
if (!/^PRESENCE_WEBHOOK_SECRET=/m.test(readFileSync(DEV_VARS, "utf8"))) {
  appendFileSync(DEV_VARS, `PRESENCE_WEBHOOK_SECRET=dev-${randomBytes(24).toString("hex")}\n`);
  console.log(`[dev] added a generated PRESENCE_WEBHOOK_SECRET to ${DEV_VARS}`);
}

// Migrations must land in the same local state that `wrangler dev` reads.
const persistAt = args.indexOf("--persist-to");
const persistArgs = persistAt >= 0 ? args.slice(persistAt, persistAt + 2) : [];
const migrate = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", ...persistArgs], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" }, // non-interactive: no confirmation prompt
});
if (migrate.status !== 0) {
  console.error("[dev] applying local D1 migrations failed");
  process.exit(migrate.status ?? 1);
}

const portAt = args.findIndex((a) => a === "--port" || a.startsWith("--port="));
const port = portAt < 0 ? "8787" : args[portAt].includes("=") ? args[portAt].split("=")[1] : args[portAt + 1];
const portArgs = portAt < 0 ? ["--port", port] : [];
// Local development only, never in wrangler.toml: LOCAL_DEV lets the short dev secret above through,
// the dev console (/console) is served, and presence webhooks go to the console's own receiver
// unless you name another URL (`npm run dev -- --var PRESENCE_WEBHOOK_URL:https://…`).
const ownWebhook = args.some((a) => a.startsWith("PRESENCE_WEBHOOK_URL:"))
  ? []
  : ["--var", `PRESENCE_WEBHOOK_URL:http://localhost:${port}/console/webhook`];
const localArgs = ["--var", "LOCAL_DEV:true", "--var", "CONSOLE_ENABLED:true", ...ownWebhook];
const dev = spawn("wrangler", ["dev", ...portArgs, ...localArgs, ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
