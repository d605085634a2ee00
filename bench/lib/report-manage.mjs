// The `manage` and `grants` phases' sections of bench/RESULTS.md.
import { billedOf, dollarsPerMillion, PRICES, rowsBesidesAlarms } from "./report.mjs";

/** SAMPLE_GAP_MS of bench/scenarios/grants.mjs, in words. */
const SAMPLE_GAP_TEXT = "100 ms";

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : "–");
const num = (v, digits = 1) => (Number.isFinite(v) ? (Math.abs(v) < 0.05 ? "0" : v.toFixed(digits)) : "–");
const int = (v) => (Number.isFinite(v) ? String(Math.round(v)) : "–");
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");
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
    ...(manage.sharded
      ? [
          `The last rows are on a second metered worker at PRESENCE_SHARDS=${manage.sharded.shards} (the shard count docs/scale.md gives for a million users), otherwise alike, without watchers: \`delete_user\` calls every shard of the layout (\`src/accounts/deletion.ts\`: grants pointing to the user may be in any), so on fresh state the first deletion creates the shards no user had used yet (their schema's rows); it is counted apart, and the next two find every shard existing, as in a deployment whose users spread over all of them.`,
          "",
        ]
      : []),
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

// ---- grants ----------------------------------------------------------------------------------

function grantChangeTable(change) {
  const columns = change.steps;
  return [
    `| one set_presence_grants call | subscribed watchers who got the entry | billed requests | rows written | setAlarm | D1 statements / rows read / rows written | $ per million such calls | answered in | first / last watcher got it | worker's workerd CPU until then | quiet window before it |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...columns.map((s) => {
      const { requests, rows } = billedOf(s.counts);
      const got = s.watchersGotIt ? `${s.watchersGotIt} (${s.op === "add" ? "real, online" : "unknown's"})` : "0";
      const times = s.watchersGotIt ? `${ms(s.firstWatcherMs)} / **${ms(s.lastWatcherMs)}** ms` : "–";
      return `| ${s.label} | ${got} | ${num(requests, 0)} | ${num(rows, 0)} | ${setAlarms(s.counts)} | ${d1Text(s.counts)} | $${dollarsPerMillion(s.counts).toFixed(2)} | ${ms(s.actMs)} ms | ${times} | ${s.workerCpuMs} ms | ${countsText(s.quiet)}${s.settled === false ? " (not settled)" : ""} |`;
    }),
    "",
    "Every counter, per call:",
    "",
    counterTable(columns),
  ].join("\n");
}

function steadyTable(steady) {
  const per = (w, key) => num(w.perUserHour[key] ?? 0);
  const lines = [
    "| PRESENCE_VISIBILITY | users online, each watching | grants set | window | billed requests per user-hour: without / with | rows per user-hour: without / with | in the window with: billed requests / rows | verifies per user-hour: without / with | deliveries (with) | presence frames clients got (with) | rows besides setAlarm: without / with | online entries in the snapshots | still online | error frames |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const s of steady) {
    const [w0, w1] = [billedOf(s.without.perUserHour), billedOf(s.with.perUserHour)];
    lines.push(
      `| ${s.mode} | ${s.users.toLocaleString("en")}, ${s.each} others | ${s.grants.toLocaleString("en")} in ${s.grantsSeconds.toFixed(0)} s | ${(s.with.ms / 1000).toFixed(0)} s each | ${num(w0.requests)} / **${num(w1.requests)}** | ${num(w0.rows)} / **${num(w1.rows)}** | ${num(billedOf(s.with.counts).requests, 0)} / ${num(billedOf(s.with.counts).rows, 0)} | ${per(s.without, "UserSession.request.verify")} / ${per(s.with, "UserSession.request.verify")} | ${s.with.counts["UserSession.request.deliverPresence"] ?? 0} | ${s.with.presenceFrames} | ${rowsBesidesAlarms(s.without.counts)} / ${rowsBesidesAlarms(s.with.counts)} | ${s.onlineEntriesInSnapshots.toLocaleString("en")} of ${(s.users * s.each).toLocaleString("en")} | ${s.stillOnline} of ${s.users} | ${s.errorFrames} |`,
    );
  }
  const granted = steady.find((s) => s.mode === "granted");
  const everyone = steady.find((s) => s.mode === "everyone");
  if (granted && everyone) {
    const [g, e] = [billedOf(granted.with.perUserHour), billedOf(everyone.with.perUserHour)];
    const [g0, e0] = [billedOf(granted.without.perUserHour), billedOf(everyone.without.perUserHour)];
    lines.push(
      "",
      `**granted / everyone**, with subscriptions: billed requests per user-hour **${ratio(g.requests / e.requests)}**, rows per user-hour **${ratio(g.rows / e.rows)}** (without subscriptions: ${ratio(g0.requests / e0.requests)} and ${ratio(g0.rows / e0.rows)}). The two windows' edges fall a moment apart, and each can cut a shard alarm (a request and its setAlarm row) either way.`,
    );
  }
  const keys = [
    ...new Set(steady.flatMap((s) => [...Object.keys(s.without.counts), ...Object.keys(s.with.counts)])),
  ].sort();
  lines.push(
    "",
    `| counter, per user-hour | ${steady.map((s) => `${s.mode}: without | with`).join(" | ")} |`,
    `|---|${steady.map(() => "---:|---:").join("|")}|`,
    ...keys.map(
      (key) => `| ${key} | ${steady.map((s) => `${per(s.without, key)} | ${per(s.with, key)}`).join(" | ")} |`,
    ),
  );
  return lines.join("\n");
}

const diffText = (d) =>
  d ? `${d.median >= 0 ? "+" : ""}${ms(d.median)} ms [${ms(d.ci95[0])}, ${ms(d.ci95[1])}]` : "–";

function latencyTable(l) {
  const everyone = l.variants.find((v) => v.mode === "everyone");
  const row = (v) =>
    `| ${v.name} | ${v.n} | ${ms(v.p50)} | ${ms(v.p95)} | ${ms(v.p99)} | ${ms(v.mean)} | ${v === everyone ? "–" : `**${ratio(v.p50 / everyone.p50)}**`} | ${v === everyone ? "–" : `**${ratio(v.p95 / everyone.p95)}**`} | ${v === everyone ? "–" : diffText(v.againstEveryone)} | ${v === everyone ? "–" : `${(100 * v.againstEveryone.firstFaster).toFixed(0)} %`} | ${v.onlineEntries.toLocaleString("en")} of ${v.entries.toLocaleString("en")} |`;
  return [
    "| PRESENCE_VISIBILITY | samples | p50 ms | p95 ms | p99 ms | mean ms | **p50 / everyone's** | **p95 / everyone's** | median paired difference with everyone [95 % interval] | faster than its everyone pair | online entries in the snapshots |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...l.variants.map(row),
  ].join("\n");
}

function hiddenTable(h) {
  const unknown = h.kinds.find((k) => k.kind === "unknown");
  return [
    `**PRESENCE_SHARDS=${h.shards}** (ids per kind over the shards: ${h.spread.join(" / ")}; every id ${h.idLength} characters; ${h.stillOnline} of ${2 * h.ids} hidden users online at the end):`,
    "",
    "| the 200 ids subscribed | samples | p50 ms | p95 ms | p99 ms | mean ms | **p50 / unknown's** | **p95 / unknown's** | median paired difference with unknown [95 % interval] | faster than its unknown pair | entries not exactly an unknown user's | snapshot sizes, bytes | same shard spread |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...h.kinds.map(
      (k) =>
        `| ${k.label} | ${k.n} | ${ms(k.p50)} | ${ms(k.p95)} | ${ms(k.p99)} | ${ms(k.mean)} | ${k === unknown ? "–" : `**${ratio(k.p50 / unknown.p50)}**`} | ${k === unknown ? "–" : `**${ratio(k.p95 / unknown.p95)}**`} | ${k === unknown ? "–" : diffText(k.againstUnknown)} | ${k === unknown ? "–" : `${(100 * k.againstUnknown.firstFaster).toFixed(0)} %`} | ${k.notUnknown} of ${k.entries.toLocaleString("en")} | ${k.snapshotBytes.join(", ")} | ${k.spreadChecked ? "yes" : "**no**"} |`,
    ),
    "",
    toldApart(h.kinds.filter((k) => k !== unknown)),
  ].join("\n");
}

/** Which hidden kinds the timing tells from unknown ids: the paired difference's 95 % interval excludes 0. */
function toldApart(kinds) {
  const apart = kinds.filter((k) => k.againstUnknown.ci95[0] > 0 || k.againstUnknown.ci95[1] < 0);
  const same = kinds.filter((k) => !apart.includes(k));
  const parts = [];
  if (apart.length) {
    parts.push(
      `**The timing tells these from unknown ids** (the paired difference's 95 % interval excludes 0): ${apart.map((k) => `${k.label} (${k.againstUnknown.median < 0 ? "faster" : "slower"} by ${ms(Math.abs(k.againstUnknown.median))} ms per 200-id snapshot)`).join("; ")}.`,
    );
  }
  if (same.length) {
    parts.push(`Not told apart at that level: ${same.map((k) => k.label).join("; ")}.`);
  }
  return parts.join(" ");
}

export function grantsSection(grants) {
  const lines = ["## Who may see whom: grants, counted and timed", ""];
  if (grants.seconds) lines.push(`The phase took ${(grants.seconds / 60).toFixed(1)} minutes.`, "");
  const { change, steady, latency, hidden } = grants;
  if (change) {
    lines.push(
      "### Cost of one grant change",
      "",
      `On the metered worker with PRESENCE_VISIBILITY=granted, HEARTBEAT_TIMEOUT ${change.heartbeatTimeout} (no verify inside a count), one shard. Each subject is online (one socket); ${change.watchers} watcher users are online (one socket each). For each call, the watchers counted as subscribed subscribe to the call's subject first and must read it as unknown (offline, \`seq\` 0, nothing else); then one \`set_presence_grants\` adds that many grants (the subscribed watchers among them), counted as the subs phase counts a change: a quiet window first, then from the reset until every subscribed watcher got the subject's real entry (online, its \`seq\`) and the meter stopped changing. Last, the largest call's grants are removed in one call: each subscribed watcher must get the unknown user's entry again. Prices: $${PRICES.perMillionRequests} per million requests, $${PRICES.perMillionRows} per million rows.`,
      "",
      grantChangeTable(change),
      "",
    );
  }
  if (steady?.length) {
    const s = steady[0];
    lines.push(
      "### Steady state in granted mode, against everyone mode",
      "",
      `Two metered workers side by side, one per mode, at HEARTBEAT_TIMEOUT ${s.heartbeatTimeoutMs / 1000} s, set up alike: ${s.users.toLocaleString("en")} users connect one socket each and ping every 10 s; past their first verify, a window with no subscriptions; then every user grants its presence to the ${s.each} users that will watch it (in both modes, so that only the mode differs; ${s.grants.toLocaleString("en")} grants, one row each, written before the window), each subscribes to the ${s.each} users after it (a ring), and a second window as long starts. Nothing changes in either window: everyone is online and granted, so in granted mode every snapshot entry is the real one (the online entries column checks it).`,
      "",
      steadyTable(steady),
      "",
    );
  }
  if (latency) {
    lines.push(
      "### Subscribe latency, granted against everyone",
      "",
      `Plain workers (not metered) side by side, one per row, default settings but PRESENCE_VISIBILITY, set up alike: ${latency.subjects} users online, each granting its presence to ${latency.watchers} watcher users (in every mode). A sample: one watcher (in turn) subscribes to all ${latency.subjects} in one frame; the time is from just before the send to the snapshot's arrival at the client; then it unsubscribes, and ${SAMPLE_GAP_TEXT} later the next sample goes, on the next worker; a round takes one sample on each worker, the order rotating from round to round, so drift falls on all alike. ${latency.warmup} warm-up rounds are not kept. In granted mode a subscribe checks the whole frame's grants in one indexed statement, never from the shard's memory, so that what a shard happens to hold cannot show in the timing. The first granted row set its grants on the running shard, which then keeps those users' grantees in memory for fan-outs; the second was restarted after its grants were set (then its users connected), as after any wake. The two granted rows should not differ.`,
      "",
      latencyTable(latency),
      "",
    );
  }
  if (hidden?.length) {
    lines.push(
      "### Hidden against unknown: does a snapshot's timing tell them apart?",
      "",
      `On a plain worker in granted mode of its own for each shard count. Three kinds of ${hidden[0].ids} uids, spread alike over the shards, every uid the same length: users who exist, are online, and have granted their presence to someone else (so their shard holds their grantees in memory for fan-outs, as after any grant change; a subscribe never reads that memory); users who exist, are online, and have granted nobody (the frame's one grant statement finds nothing for them); and uids never registered (the same statement, finding nothing). A sample: one of ${hidden[0].watchers} watchers (in turn, none of them granted) subscribes to all ${hidden[0].ids} of one kind in one frame, the time from just before the send to the snapshot's arrival, then it unsubscribes; ${SAMPLE_GAP_TEXT} between samples. A round takes one sample of each kind, the order rotating from round to round, so drift falls on all three alike; ${hidden[0].warmup} warm-up rounds are not kept. Each snapshot is checked: every entry must be exactly an unknown user's (\`userID\`, \`status\` offline, \`seq\` 0, nothing else). The paired difference compares each sample with the unknown sample of its own round; its interval is distribution-free (the sign test's order statistics).`,
      "",
      ...hidden.flatMap((h) => [hiddenTable(h), ""]),
    );
  }
  return lines.join("\n").trimEnd();
}
