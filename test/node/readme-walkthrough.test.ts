/// <reference types="node" />
/**
 * The README's walkthrough, run against the real `wrangler dev` of this project
 * (global-setup.ts), so its commands and the output it shows cannot drift apart.
 *
 * In README.md each step is a ```sh block right after `<!-- walkthrough -->`, and the
 * ```text block right after that is what the step prints (`…` stands for any text). The
 * steps run in order in one bash with `set -euo pipefail`, so shell variables and
 * background jobs carry over from step to step. The dev URL, the dev secret and the uid
 * are swapped for this server's URL, its secret and a fresh uid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, inject, it } from "vitest";
import { freshUid, sleep } from "./helpers";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** What the README's commands are written against. */
const DEV_HOST = "localhost:8787";
const DEV_SECRET = "tuoyun";
const WALKTHROUGH_UID = /\bada\b/g;

const STEP_TIMEOUT_MS = 45_000;

interface Step {
  commands: string;
  /** Lines the step prints, each a pattern for a whole line. */
  expected: string[];
}

function walkthroughSteps(markdown: string): Step[] {
  const block = /<!-- walkthrough -->[ \t]*\n```sh\n([\s\S]*?)\n```[ \t]*\n(?:```text\n([\s\S]*?)\n```)?/g;
  return [...markdown.matchAll(block)].map(([, commands = "", output]) => ({
    commands,
    expected: output === undefined ? [] : output.split("\n").filter((line) => line.trim() !== ""),
  }));
}

function linePattern(line: string): RegExp {
  const parts = line.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/** One bash for the whole walkthrough, in its own process group so a failure stops its background jobs too. */
class Shell {
  readonly lines: string[] = [];
  private partial = "";
  stderr = "";
  readonly process: ChildProcess;

  constructor() {
    this.process = spawn("bash", ["--noprofile", "--norc"], {
      cwd: ROOT,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.process.stdout?.on("data", (chunk: Buffer) => {
      const text = this.partial + chunk.toString();
      const complete = text.split("\n");
      this.partial = complete.pop() ?? "";
      this.lines.push(...complete);
    });
    this.process.stderr?.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.send("set -euo pipefail");
  }

  send(script: string): void {
    this.process.stdin?.write(`${script}\n`);
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  async finish(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => {
      if (this.exited) resolve(this.process.exitCode);
      else this.process.once("exit", (code) => resolve(code));
    });
    this.process.stdin?.end();
    return Promise.race([exited, sleep(STEP_TIMEOUT_MS).then(() => null)]);
  }

  kill(): void {
    try {
      if (this.process.pid !== undefined) process.kill(-this.process.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Runs one step and waits until it has finished and printed every expected line. Lines
 * printed later by a background job of an earlier step count for the step running then.
 */
async function runStep(shell: Shell, step: Step, index: number): Promise<void> {
  const marker = `__walkthrough_step_${index + 1}_done__`;
  const from = shell.lines.length;
  shell.send(`${step.commands}\necho ${marker}`);
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  const patterns = step.expected.map(linePattern);
  for (;;) {
    const printed = shell.lines.slice(from);
    const unused = printed.filter((line) => line !== marker);
    const missing = patterns.filter((pattern) => {
      const at = unused.findIndex((line) => pattern.test(line));
      if (at >= 0) unused.splice(at, 1);
      return at < 0;
    });
    if (printed.includes(marker) && missing.length === 0) return;
    if (shell.exited || Date.now() > deadline) {
      throw new Error(
        [
          `README walkthrough step ${index + 1} ${shell.exited ? "made the shell exit" : `did not finish within ${STEP_TIMEOUT_MS} ms`}`,
          `commands:\n${step.commands}`,
          `missing lines:\n${missing.map(String).join("\n") || "(none)"}`,
          `printed:\n${printed.join("\n")}`,
          `stderr:\n${shell.stderr}`,
        ].join("\n\n"),
      );
    }
    await sleep(50);
  }
}

it("finds the walkthrough in README.md", () => {
  const steps = walkthroughSteps(README);
  expect(steps.length).toBeGreaterThanOrEqual(5);
  expect(steps.every((step) => step.commands.includes(DEV_HOST))).toBe(true);
  // What the walkthrough promises to show: a registration, a socket's pong and its 4002, online then offline.
  const shown = steps.flatMap((step) => step.expected).join("\n");
  expect(shown).toContain('"errCode":0');
  expect(shown).toContain("received pong");
  expect(shown).toContain("closed 4002");
  expect(shown).toMatch(/"userID":"ada","status":"online"[\s\S]*"userID":"ada","status":"offline"/);
});

it("runs top to bottom against wrangler dev and prints what README.md shows", { timeout: 300_000 }, async () => {
  const host = new URL(inject("workerUrl")).host;
  const uid = freshUid("readme");
  const adapt = (text: string) =>
    text.replaceAll(DEV_HOST, host).replaceAll(DEV_SECRET, inject("imSecret")).replace(WALKTHROUGH_UID, uid);
  const steps = walkthroughSteps(README).map((step) => ({
    commands: adapt(step.commands),
    expected: step.expected.map(adapt),
  }));

  const shell = new Shell();
  try {
    for (const [index, step] of steps.entries()) await runStep(shell, step, index);
    expect(await shell.finish(), `the shell's exit status; stderr:\n${shell.stderr}`).toBe(0);
  } finally {
    shell.kill();
  }
});
