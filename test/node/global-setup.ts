/// <reference types="node" />
import type { TestProject } from "vitest/node";
import { startWorker } from "./wrangler-dev";

// Test-only values, passed as --var so they shadow any local .dev.vars.
export const E2E_SECRET = "e2e-secret";
// Only the console's own receiver uses it here: PRESENCE_WEBHOOK_URL stays unset, so no events are sent.
const E2E_WEBHOOK_SECRET = "e2e-webhook-secret-0123456789abcdef0123";

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    imSecret: string;
    webhookSecret: string;
  }
}

/** One real `wrangler dev` for every Node-side test: the SDKs and the console run against it. */
export default async function setup(project: TestProject) {
  const worker = await startWorker({
    IM_SECRET: E2E_SECRET,
    TOKEN_SIGNING_KEY: "e2e-signing-key-0123456789abcdef0123456789abcdef",
    CONSOLE_ENABLED: "true",
    PRESENCE_WEBHOOK_SECRET: E2E_WEBHOOK_SECRET,
  });
  project.provide("workerUrl", worker.url);
  project.provide("imSecret", E2E_SECRET);
  project.provide("webhookSecret", E2E_WEBHOOK_SECRET);
  return () => worker.stop();
}
