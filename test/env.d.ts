import type { D1Migration } from "cloudflare:test";
import type { WorkerEnv } from "../src/config";

declare global {
  namespace Cloudflare {
    // The worker's env as the tests configure it (vitest.config.ts), plus the D1 migrations for the setup file.
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** The webhook receiver worker, in the webhooks projects (test/events/receiver-worker.js). */
      RECEIVER?: Fetcher;
    }
  }
}
