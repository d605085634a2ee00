import { defineConfig } from "vitest/config";
import { browserProject } from "./test/node/project.js";

// `npm run test:browser`: the dev console and the client SDK's browser bundle in headless Chromium
// (scripts/test-browser.mjs finds or installs it).
export default defineConfig({ test: { projects: [browserProject] } });
