// The `manage` phase's section of bench/RESULTS.md.
import { billedOf, dollarsPerMillion } from "./report.mjs";

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : "–");
const num = (v, digits = 1) => (Number.isFinite(v) ? (Math.abs(v) < 0.05 ? "0" : v.toFixed(digits)) : "–");
const int = (v) => (Number.isFinite(v) ? String(Math.round(v)) : "–");
const countsText = (counts) => {
  const entries = Object.entries(counts ?? {});
  return entries.length === 0 ? "nothing" : entries.map(([k, n]) => `${k} ${n}`).join(", ");
};
const d1Text = (c) => `${c["D1.statements"] ?? 0} / ${c["D1.rows_read"] ?? 0} / ${c["D1.rows_written"] ?? 0}`;
const queueText = (c) =>
  `${c["Queue.PresenceEvents.written"] ?? 0} / ${c["Queue.PresenceEvents.delivered"] ?? 0} / ${c["Queue.PresenceEvents.acked"] ?? 0}`;
const setAlarms = (c) => (c["PresenceShard.setAlarm"] ?? 0) + (c["UserSession.setAlarm"] ?? 0);

/** Every counter of each column, one row per key. */
function counterTable(columns, head = "counter") {
  const keys = [...new Set(columns.flatMap((c) => Object.keys(c.counts)))].sort();
  return [
    `| ${head} | ${columns.map((c) => c.label).join(" | ")} |`,
    `|---|${columns.map(() => "---:").join("|")}|`,
    ...keys.map((key) => `| ${key} | ${columns.map((c) => int(c.counts[key] ?? 0)).join(" | ")} |`),
  ].join("\n");
}

/** Billed Durable Object requests by kind: `Class.method n`, requests only. */
function requestsByKind(counts) {
  const parts = Object.entries(counts)
    .filter(([key]) => key.includes(".request."))
    .map(([key, n]) => `${key.replace(".request.", ".")} ${n}`);
  return parts.length ? parts.join(", ") : "none";
}

// ---- manage ----------------------------------------------------------------------------------

function manageRows(worker) {
  return worker.steps.map((s) => ({
    ...s,
    label: s.label + (worker.shards > 1 ? ` (PRESENCE_SHARDS=${worker.shards})` : ""),
  }));
}

export function manageSection(manage) {
  const columns = [...manageRows(manage.counting), ...(manage.sharded ? manageRows(manage.sharded) : [])];
  const lines = ["## Managing users, counted", ""];
  if (manage.elapsedSeconds) lines.push(`The phase took ${(manage.elapsedSeconds / 60).toFixed(1)} minutes.`, "");
  lines.push(
    `On the metered worker (\`bench/metering\`) with webhooks on (to a receiver on loopback that acknowledges every body at once), HEARTBEAT_TIMEOUT ${manage.counting.heartbeatTimeout} so no verify falls inside a count, one presence shard (the default). Each operation is counted alone, as the subs phase counts a change: a quiet window of 2 s must count nothing (last column), then the meter is reset, the AppServer call is made, and the count runs until every effect the docs promise was seen by the clients (each socket closed with its code, each watcher's reset entry: offline, \`seq\` 0, no \`lastSeen\`; the webhook receiver's \`offline\` events, one per live platform) and then until the meter stops changing (2 s, then until two reads 1 s apart agree), so queue deliveries and acknowledgements are inside. The 2 live sockets are platforms 1 and 2 of the user; watchers are users with one socket each, subscribed to it.`,
    "",
    "D1 is counted by the metered worker too (`D1.*`: statements run, one per statement of a batch, and the rows each result's meta says it read and wrote). D1 bills rows read and written, not statements; these are apart from the Durable Object figures. Queue operations: events written by the user's object / read by the consumer / acknowledged (Cloudflare bills each).",
    "",
    "| operation | billed DO requests | DO rows written | setAlarm | D1 statements / rows read / rows written | queue: written / delivered / acked | webhook events received | $ per million (DO requests and rows) | answered in | sockets closed (codes), last at | watchers reset: first / last | quiet window before it |",
    "|---|---:|---:|---:|---:|---:|---|---:|---:|---|---:|---|",
    ...columns.map((s) => {
      const { requests, rows } = billedOf(s.counts);
      const closes = s.closeCodes?.length ? `${s.closeCodes.join(", ")}, ${ms(s.socketsClosedMs)} ms` : "–";
      const watchers = s.watchersReset
        ? `${s.watchersReset}: ${ms(s.firstWatcherMs)} / **${ms(s.lastWatcherMs)}** ms`
        : "–";
      return `| ${s.label} | ${num(requests, 0)} | ${num(rows, 0)} | ${setAlarms(s.counts)} | ${d1Text(s.counts)} | ${queueText(s.counts)} | ${countsText(s.events)} | $${dollarsPerMillion(s.counts).toFixed(2)} | ${ms(s.actMs)} ms | ${closes} | ${watchers} | ${countsText(s.quiet)}${s.settled === false ? " (the meter had not settled after 30 s)" : ""} |`;
    }),
    "",
    "Billed requests by kind:",
    "",
    ...columns.map((s) => `- ${s.label}: ${requestsByKind(s.counts)}.`),
    "",
    "Every counter, per operation (`.started`: object constructors run, not billed; `.bytesWritten`: bytes bound to writing statements, not billed):",
    "",
    counterTable(columns),
  );
  if (manage.counting.liftedConnects)
    lines.push("", "After the lift, a token issued at once opened a socket for the user again.");
  return lines.join("\n");
}
