/** The vitest project for tests that run in Node against a real `wrangler dev` (SDKs, browser console). */
export const nodeProject = {
  extends: false as const,
  test: {
    name: "node",
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/node/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
};
