// Starts, restarts, crashes and inspects a local `wrangler dev` for the bench.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { wranglerDevArgs } from "../../scripts/wrangler-dev-args.ts";
import { HttpClient } from "./http.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const WRANGLER = join(ROOT, "node_modules/.bin/wrangler");
// BENCH_PORTS=8800-8809 moves a run off the default range, e.g. beside another bench run.
const PORT_RANGE = portRange(process.env.BENCH_PORTS ?? "8790-8799");
const READY_TIMEOUT_MS = 90_000;

/** Applies the D1 migrations to the local state `wrangler dev --persist-to dir` will read. */
export function migrate(persistDir, logFile) {
  const log = openSync(logFile, "a");
  const result = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    cwd: ROOT,
    stdio: ["ignore", log, log],
    env: { ...process.env, CI: "true" }, // no confirmation prompt
  });
  closeSync(log);
  if (result.status !== 0) throw new Error(`d1 migrations apply failed; see ${logFile}`);
}

function portRange(text) {
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) > Number(match[2]))
    throw new Error(`BENCH_PORTS: expected a range like 8800-8809, got ${text}`);
  return [Number(match[1]), Number(match[2])];
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

// Ports handed to a server of this process, so servers started side by side never get the same ones.
const claimedPorts = new Set();

/** Free ports in our range: the public one and the devtools inspector's. */
async function freePorts(count) {
  const found = [];
  for (let port = PORT_RANGE[0]; port <= PORT_RANGE[1] && found.length < count; port++) {
    if (claimedPorts.has(port)) continue;
    claimedPorts.add(port);
    if (await portIsFree(port)) found.push(port);
    else claimedPorts.delete(port);
  }
  if (found.length < count) {
    for (const port of found) claimedPorts.delete(port);
    throw new Error(`need ${count} free ports in ${PORT_RANGE.join("-")}`);
  }
  return found;
}

// Every server this process started, so a failed run stops them all (see stopAllServers).
const running = new Set();

export async function stopAllServers() {
  await Promise.all([...running].map((server) => server.stop()));
}

/** Every process below pid (children, grandchildren, …), read from /proc. */
function descendants(pid) {
  const parentOf = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces or parens: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // The process exited while we looked.
    }
  }
  const found = [];
  const frontier = [pid];
  while (frontier.length) {
    const parent = frontier.pop();
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** Resident memory of a process in bytes, or 0 if it is gone. */
export function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** TCP ports a process listens on, by matching its socket inodes with /proc/net/tcp. */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  const ports = [];
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10 || cols[3] !== "0A") continue; // 0A = LISTEN
    if (inodes.has(cols[9])) ports.push(parseInt(cols[1].split(":")[1], 16));
  }
  return ports;
}

/** CPU time (user + system) a process has used, in ms; clock ticks are 10 ms on Linux. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export function openFdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/**
 * One `wrangler dev`. wrangler runs two workerd processes: a dev proxy on the
 * public port and the worker itself on a random port. The bench talks to the
 * worker's own port (`url`): the proxy is a dev-only hop, and it would need
 * two file descriptors per socket, which the 20k fd limit cannot give 10k sockets.
 */
export class DevServer {
  /**
   * cwd: where wrangler.toml is (the project root unless a probe runs another worker).
   * script: another entry for the same configuration, e.g. the metered worker.
   */
  constructor({ persistDir, vars, logFile, cwd = ROOT, script }) {
    this.cwd = cwd;
    this.script = script;
    this.persistDir = persistDir;
    this.vars = vars;
    this.logFile = logFile;
  }

  async start() {
    const [port, inspectorPort] = await freePorts(2);
    this.ports = [port, inspectorPort];
    running.add(this);
    const log = openSync(this.logFile, "a");
    this.child = spawn(
      WRANGLER,
      wranglerDevArgs({ port, inspectorPort, persistTo: this.persistDir, vars: this.vars, script: this.script }),
      // Its own process group, so stop() and crash() reach workerd too.
      { cwd: this.cwd, detached: true, stdio: ["ignore", log, log], env: { ...process.env, CI: "true" } },
    );
    closeSync(log);
    this.exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.publicUrl = `http://127.0.0.1:${port}`;
    await this.waitReady();
    return this;
  }

  async waitReady() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const publicClient = new HttpClient(this.publicUrl);
    try {
      while (Date.now() < deadline) {
        if (this.child.exitCode !== null) throw new Error(`wrangler dev exited early; see ${this.logFile}`);
        const answer = await refusedProbe(publicClient).catch(() => undefined);
        if (answer === 401) break;
        await sleep(200);
      }
      if (Date.now() >= deadline) throw new Error(`wrangler dev not ready; see ${this.logFile}`);
    } finally {
      publicClient.close();
    }
    this.workerPid = this.findWorkerPid();
    this.url = await this.findWorkerUrl();
  }

  /** The workerd that runs our worker: its entry socket is on a random port, the proxy's on ours. */
  findWorkerPid() {
    const workerds = descendants(this.child.pid).filter((pid) => cmdline(pid)[0]?.endsWith("/workerd"));
    this.workerdPids = workerds;
    const worker = workerds.find((pid) => cmdline(pid).includes("--socket-addr=entry=127.0.0.1:0"));
    if (!worker) throw new Error("could not find the worker's workerd process");
    return worker;
  }

  async findWorkerUrl() {
    for (const port of listeningPorts(this.workerPid)) {
      const client = new HttpClient(`http://127.0.0.1:${port}`);
      const status = await refusedProbe(client).catch(() => undefined);
      client.close();
      if (status === 401) return `http://127.0.0.1:${port}`;
    }
    throw new Error("could not find the worker's entry port");
  }

  rss() {
    return Object.fromEntries(
      this.workerdPids.map((pid) => [pid === this.workerPid ? "worker" : "proxy", rssBytes(pid)]),
    );
  }

  /** A clean stop: SIGTERM to the whole group, SIGKILL if it lingers. */
  async stop() {
    running.delete(this);
    for (const port of this.ports ?? []) claimedPorts.delete(port);
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    signalGroup(this.child.pid, "SIGTERM");
    const exited = await Promise.race([this.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!exited) signalGroup(this.child.pid, "SIGKILL");
    await this.exited;
    await this.waitGroupGone();
  }

  /** kill -9 of wrangler and its workerd processes at once: no close handlers, no flush. */
  async crash() {
    running.delete(this);
    for (const port of this.ports ?? []) claimedPorts.delete(port);
    signalGroup(this.child.pid, "SIGKILL");
    await this.exited;
    await this.waitGroupGone();
  }

  async waitGroupGone() {
    for (let i = 0; i < 100 && this.workerdPids?.some((pid) => rssBytes(pid) > 0); i++) await sleep(100);
  }

  /** Same persist dir, same vars: every object starts cold. */
  async restart({ crash = false } = {}) {
    if (crash) await this.crash();
    else await this.stop();
    return this.start();
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function refusedProbe(client) {
  // A fresh address per probe, so the failed-secret limit never answers 429 instead of 401.
  const address = `192.0.2.${Math.floor(Math.random() * 254) + 1}`;
  const answer = await client.post(
    "/user/get_users_online_status",
    { secret: "not-the-secret", userIDList: [] },
    { "CF-Connecting-IP": address },
  );
  return answer.status;
}
