import { execFileSync } from "node:child_process";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { nodeProject } from "./test/node/project.js";

// Test-only secrets, never used anywhere else. LOCAL_DEV lets the seed's short example secret through,
// as `npm run dev` does; the `deployed` project runs without it. Every secret `npm run dev` writes to
// .dev.vars is named here, so a developer's local file never changes what the tests see.
const TEST_SECRETS = {
  LOCAL_DEV: "true",
  IM_SECRET: "tuoyun",
  TOKEN_SIGNING_KEY: "test-signing-key-0123456789abcdef0123456789abcdef",
  PRESENCE_WEBHOOK_SECRET: "",
};

// Rate limits high enough that no ordinary test trips them (wrangler.toml has the real ones).
const ROOMY_LIMITS = {
  FAILED_SECRET_LIMITER: { namespace_id: "1001", simple: { limit: 100_000, period: 60 as const } },
  CONNECT_LIMITER: { namespace_id: "1002", simple: { limit: 100_000, period: 60 as const } },
};
const TIGHT_LIMITS = {
  FAILED_SECRET_LIMITER: { namespace_id: "1001", simple: { limit: 3, period: 60 as const } },
  CONNECT_LIMITER: { namespace_id: "1002", simple: { limit: 3, period: 60 as const } },
};

// Each special-purpose project runs the worker with other settings; its files carry its suffix.
const SPECIAL = {
  timers: { HEARTBEAT_TIMEOUT: "2s" },
  // Tokens issued now live 2 s: older, longer-lived ones are issued directly in the tests.
  "short-ttl": { TOKEN_TTL: "2s" },
  "multi-login": { MULTI_LOGIN_POLICY: "max_per_platform:2" },
  // Empty strings shadow any local .dev.vars: the worker must behave as deployed with nothing set.
  unconfigured: { LOCAL_DEV: "", IM_SECRET: "", TOKEN_SIGNING_KEY: "" },
  // Deployed (no LOCAL_DEV) with the seed's published example as IM_SECRET.
  deployed: { LOCAL_DEV: "", IM_SECRET: "tuoyun" },
  // The console's own webhook receiver checks signatures with the webhook secret, as under `npm run dev`.
  console: { CONSOLE_ENABLED: "true", PRESENCE_WEBHOOK_SECRET: "console-webhook-secret-0123456789abcdef01" },
  // Presence visible only where granted, over three shards (grants live in the watched user's shard).
  granted: { PRESENCE_VISIBILITY: "granted", PRESENCE_SHARDS: "3" },
} as const;

// Presence webhooks delivered through the real (miniflare) queue to a second worker, the receiver.
const WEBHOOKS = {
  PRESENCE_WEBHOOK_URL: "https://receiver.test/hook",
  PRESENCE_WEBHOOK_SECRET: "test-webhook-secret-0123456789abcdef0123456789",
  PRESENCE_WEBHOOK_RETRY_DELAY: "1s",
  HEARTBEAT_TIMEOUT: "2s",
};
const WEBHOOK_PROJECTS = {
  webhooks: {},
  "webhooks-grace": { PRESENCE_WEBHOOK_GRACE: "1500ms" },
};
const WEBHOOK_RECEIVER = {
  workers: [{ name: "webhook-receiver", modules: true, scriptPath: "./test/events/receiver-worker.js" }],
  outboundService: "webhook-receiver",
  serviceBindings: { RECEIVER: "webhook-receiver" },
  // Two retries, then the dead-letter queue: the tests see both within seconds.
  queueConsumers: {
    "presence-events": {
      maxBatchSize: 100,
      maxBatchTimeout: 0.2,
      maxRetries: 2,
      deadLetterQueue: "presence-events-dlq",
    },
    "presence-events-dlq": { maxBatchSize: 100, maxBatchTimeout: 0.2 },
  },
};

// Tests that run in Node against wrangler dev (test/node/project.ts), not in the Workers runtime.
const IN_NODE = ["test/node/**", "test/browser/**"];

export default defineConfig(async () => {
  // The worker imports the console's bundle (src/routes/console.ts); only wrangler runs the [build] that makes it.
  execFileSync(process.execPath, ["scripts/build-console.mjs"], { stdio: "inherit" });
  const migrations = await readD1Migrations("./migrations");

  const project = (
    name: string,
    include: string[],
    exclude: string[],
    bindings: Record<string, string>,
    {
      ratelimits = ROOMY_LIMITS,
      main,
      miniflare = {},
    }: { ratelimits?: typeof ROOMY_LIMITS; main?: string; miniflare?: object } = {},
  ) => ({
    extends: false as const,
    plugins: [
      cloudflareTest({
        main,
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, ...bindings }, ratelimits, ...miniflare },
      }),
    ],
    test: {
      name,
      include,
      exclude,
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 20_000,
    },
  });

  const suffixes = [
    ...Object.keys(SPECIAL),
    "limits",
    "cost",
    "containment",
    "metrics",
    ...Object.keys(WEBHOOK_PROJECTS),
  ];
  return {
    test: {
      // The worker's one-line-per-request info logs would drown the report; errors still show.
      onConsoleLog: (log: string) => !log.includes('{"level":"info"'),
      projects: [
        // Three presence shards here (the default is one), so status reads that span shards are exercised.
        project("worker", ["test/**/*.test.ts"], [...suffixes.map((s) => `test/**/*.${s}.test.ts`), ...IN_NODE], {
          ...TEST_SECRETS,
          PRESENCE_SHARDS: "3",
        }),
        ...Object.entries(SPECIAL).map(([suffix, settings]) =>
          project(suffix, [`test/**/*.${suffix}.test.ts`], IN_NODE, { ...TEST_SECRETS, ...settings }),
        ),
        project(
          "limits",
          ["test/**/*.limits.test.ts"],
          IN_NODE,
          { ...TEST_SECRETS, MAX_BODY_BYTES: "2048" },
          {
            ratelimits: TIGHT_LIMITS,
          },
        ),
        // The worker with its billable Durable Object operations counted (bench/metering), at a short timeout.
        project(
          "cost",
          ["test/**/*.cost.test.ts"],
          IN_NODE,
          { ...TEST_SECRETS, HEARTBEAT_TIMEOUT: "2s" },
          {
            main: "./bench/metering/worker.ts",
          },
        ),
        // One presence shard, as deployed by default, so every user shares it; metered, so one
        // frame's operations and bytes written can be counted (docs/presence.md#containment).
        project("containment", ["test/**/*.containment.test.ts"], IN_NODE, TEST_SECRETS, {
          main: "./bench/metering/worker.ts",
        }),
        // The metered worker with its METRICS dataset stubbed by a recorder (test/metrics/worker.ts).
        project(
          "metrics",
          ["test/**/*.metrics.test.ts"],
          IN_NODE,
          { ...TEST_SECRETS, HEARTBEAT_TIMEOUT: "2s" },
          { main: "./test/metrics/worker.ts" },
        ),
        ...Object.entries(WEBHOOK_PROJECTS).map(([suffix, settings]) =>
          project(
            suffix,
            [`test/**/*.${suffix}.test.ts`],
            IN_NODE,
            { ...TEST_SECRETS, ...WEBHOOKS, ...settings },
            {
              miniflare: WEBHOOK_RECEIVER,
            },
          ),
        ),
        nodeProject,
      ],
    },
  };
});
