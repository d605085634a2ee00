// Turns the measured figures into the console table and bench/RESULTS.md.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;

export function machine() {
  const version = (pkg) => JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  const workerd = spawnSync(join(ROOT, "node_modules/.bin/workerd"), ["--version"], { encoding: "utf8" }).stdout.trim();
  return {
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    fdHardLimit: spawnSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).stdout.trim(),
    wrangler: version("wrangler"),
    workerd: `${workerd} (npm workerd ${version("workerd")})`,
  };
}

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : "–");
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");
const rate = (v) => (Number.isFinite(v) ? v.toFixed(0) : "–");
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

function floorOf(rows, concurrency) {
  return rows.find((r) => r.name === "floor" && r.concurrency === concurrency);
}

/** Latency rows (warm, cold, connects) with ratios to the floor at the same concurrency. */
export function latencyTable(rows, floors) {
  const lines = [
    "| scenario | conc. | n | p50 ms | p90 ms | p99 ms | per s | p50 / floor p50 | per s / floor per s | worker CPU ms / req | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const floor = floorOf(floors, r.concurrency);
    const perSecond = r.perSecondShown === false ? NaN : r.perSecond;
    lines.push(
      `| ${r.name} | ${r.concurrency} | ${r.n} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ${rate(perSecond)} | ${ratio(r.p50 / floor?.p50)} | ${ratio(perSecond / floor?.perSecond)} | ${Number.isFinite(r.cpuMsPerRequest) && r.cpuMsPerRequest > 0 ? r.cpuMsPerRequest.toFixed(2) : "–"} | ${r.errors}${r.firstError ? ` (${r.firstError})` : ""} |`,
    );
  }
  return lines.join("\n");
}

/** The route targets of issue 5, each a ratio of a scenario to a floor at one concurrency. */
const RATIO_TARGETS = [
  { label: "status 200 ids warm: p50 ≤ 3×", rows: "warm", name: "status 200 ids", c: 1, metric: "p50", bound: 3 },
  { label: "status 200 ids warm: p50 ≤ 3×", rows: "warm", name: "status 200 ids", c: 32, metric: "p50", bound: 3, note: ", for reference" },
  { label: "status 200 ids cold: p50 ≤ 10×", rows: "cold", name: "status 200 ids (cold)", c: 1, metric: "p50", bound: 10 },
  { label: "user_token throughput ≥ 0.8×", rows: "warm", name: "user_token", c: 32, metric: "perSecond", bound: 0.8 },
  { label: "user_register p50 ≤ 2×", rows: "warm", name: "user_register", c: 1, metric: "p50", bound: 2 },
];

export function targets(results) {
  const warm = results.warm ?? [];
  const find = (rows, name, c) => rows?.find((r) => r.name === name && r.concurrency === c);
  const list = [];
  // Against the floor, then the same targets against the strict floor (a throttled failure, 429).
  for (const floorName of ["floor", "strict floor"]) {
    for (const t of RATIO_TARGETS) {
      const row = find(results[t.rows], t.name, t.c);
      const floor = find(warm, floorName, t.c);
      if (!row || !floor) continue;
      const r = row[t.metric] / floor[t.metric];
      // Latency must stay under its bound, throughput above it.
      const met = t.metric === "perSecond" ? r >= t.bound : r <= t.bound;
      list.push({ target: `${t.label} ${floorName} (c=${t.c}${t.note ?? ""})`, measured: ratio(r), met });
    }
  }
  const many = results.manySockets;
  if (many) {
    const held = many.stillOpen === many.target && many.usersWithAllPlatforms === many.users;
    list.push({ target: "10,000 concurrent sockets", measured: `not attempted: ${many.target} is the most under the 20,000 fd hard limit (see below)`, met: false });
    list.push({ target: `${many.target} concurrent sockets held`, measured: `${many.stillOpen} open after ${many.holdSeconds} s`, met: held });
    const perSocket = many.bytesPerSocketAfterHold;
    list.push({ target: "memory per socket < 50 KB (aim 30)", measured: kb(perSocket), met: perSocket < 50 * 1024 });
  }
  for (const c of results.crash ?? []) {
    list.push({
      target: `${c.label}: nobody online > HEARTBEAT_TIMEOUT (${c.heartbeatTimeoutMs / 1000} s)`,
      measured: `last online at ${(c.lastSeenOnlineMs / 1000).toFixed(1)} s`,
      met: c.ok,
    });
  }
  return list;
}

export function targetTable(list) {
  return [
    "| target | measured | met |",
    "|---|---|---|",
    ...list.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
  ].join("\n");
}

export function offlineTable(offline) {
  const row = (what, s) => `| ${what} | ${s.n} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.max)} |`;
  return [
    "| after a clean client close | n | p50 ms | p90 ms | max ms |",
    "|---|---:|---:|---:|---:|",
    row("status route reads offline", offline.toOffline),
    row("client sees the close frame", offline.toCloseEvent),
  ].join("\n");
}

export function manySocketsTable(m, ref) {
  const both = (f) => `${f(m)} | ${ref ? f(ref) : "–"}`;
  const lines = [
    "| figure | this worker | reference worker (bench/reference) |",
    "|---|---|---|",
    `| sockets wanted / opened / connect errors | ${both((x) => `${x.target} / ${x.opened} / ${x.connectErrors}${x.firstConnectError ? ` (${x.firstConnectError})` : ""}`)} |`,
    `| users × sessions each | ${both((x) => `${x.users} × ${x.target / x.users} (${x.sessionsPerUser})`)} |`,
    `| connect rate at concurrency 32 | ${both((x) => `${rate(x.connectPerSecond)} /s`)} |`,
    `| still open after holding ${m.holdSeconds} s (pings every 10 s) | ${both((x) => `${x.stillOpen} (closed, by code: ${JSON.stringify(x.closeCodes)})`)} |`,
    `| users reading online with every platform | ${m.usersWithAllPlatforms} of ${m.users} | – |`,
    `| worker RSS before → after connect → after hold (peak) | ${both((x) => `${mb(x.rssBefore.worker)} → ${mb(x.rssAfterConnect.worker)} → ${mb(x.rssAfterHold.worker)} (${mb(x.peakWorkerRss)})`)} |`,
    `| **RSS per socket** after connect / after hold / at peak | ${both((x) => `${kb(x.bytesPerSocketAfterConnect)} / **${kb(x.bytesPerSocketAfterHold)}** / ${kb(x.bytesPerSocketPeak)}`)} |`,
    `| peak open file descriptors of the worker's workerd | ${both((x) => String(x.peakFds))} |`,
  ];
  return lines.join("\n");
}

export function crashTable(checks) {
  return [
    "| variant | users | HEARTBEAT_TIMEOUT | online before | server back after | online at first poll | last seen online | all offline at | pass |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...checks.map(
      (c) =>
        `| ${c.label} | ${c.users} | ${c.heartbeatTimeoutMs / 1000} s | ${c.onlineBefore} | ${(c.backAfterMs / 1000).toFixed(1)} s | ${c.onlineAtFirstPoll} | ${c.lastSeenOnlineMs === undefined ? "never" : `${(c.lastSeenOnlineMs / 1000).toFixed(1)} s`} | ${c.allOfflineAtMs === undefined ? "not within the poll window" : `${(c.allOfflineAtMs / 1000).toFixed(1)} s`} | ${c.ok ? "yes" : "**no**"} |`,
    ),
  ].join("\n");
}
