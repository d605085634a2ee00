/**
 * Vitest projects that run in Node against a real `wrangler dev`: `node` (the SDKs, the README
 * walkthrough, `npm run smoke`) runs with `npm test`; `browser` (the dev console, and the client SDK's browser
 * bundle, in headless Chromium) needs a Chromium and runs with `npm run test:browser`.
 */
const againstWranglerDev = (name: string, include: string[]) => ({
  extends: false as const,
  test: {
    name,
    include,
    environment: "node",
    globalSetup: ["./test/node/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

export const nodeProject = againstWranglerDev("node", ["test/node/**/*.test.ts"]);
export const browserProject = againstWranglerDev("browser", ["test/browser/**/*.test.ts"]);
