// Prints the figures and writes them, with the machine and the command, as markdown.
import { writeFileSync } from "node:fs";
import {
  costTables,
  crashTable,
  dollars,
  dollarTable,
  latencyTable,
  machine,
  manySocketsTable,
  offlineTable,
  PRICES,
  STALL_RATIO_BOUND,
  shardCeilingPerHour,
  simulationTable,
  stallAttackerTable,
  stallCpuLine,
  stallFrameTable,
  stallReadsLine,
  stallTable,
  stallUnknownLine,
  stateChangeTable,
  stateFlipArithmetic,
  stateSteadyTable,
  storageTable,
  subsChangeTable,
  subsLatencyTable,
  subsSteadyTable,
  targets,
  targetTable,
} from "./lib/report.mjs";
import { grantsSection, manageSection } from "./lib/report-manage.mjs";

export function writeResults(results, file, command) {
  const floors = results.warm ?? [];
  const sections = [];
  const m = machine();
  sections.push(
    [
      "# Benchmarks",
      "",
      `- Date: ${results.started} to ${results.finished}`,
      `- Command: \`${command}\``,
      ...(Object.keys(results.extraVars ?? {}).length
        ? [`- Variant: worker vars ${JSON.stringify(results.extraVars)} on top of wrangler.toml`]
        : []),
      `- Machine: ${m.cpu}, ${m.memory} RAM, ${m.kernel}`,
      `- Node ${m.node}, wrangler ${m.wrangler}, workerd ${m.workerd}`,
      "- The client and `wrangler dev` share the same two cores, and other jobs ran on the machine at times: absolute figures are noisy.",
      "  Each figure is therefore also given as a ratio to **the floor**, a request refused at the secret (401), which runs the whole HTTP path and no work,",
      "  (each floor request comes from a fresh client address, so it also pays the failed-secret Rate Limiting call, simulated locally by miniflare; the **strict floor** row is a failed secret past the limit (429): since issue 10 it pays the same digest and limiter call, and the targets are also given against it),",
      `  measured in the same run and interleaved with the other routes (${results.opts.rounds} rounds × ${results.opts.blockMs / 1000} s per route and concurrency).`,
      "- Requests go to the worker's own workerd port, not through the dev-only proxy on wrangler's public port (see bench/lib/server.mjs).",
    ].join("\n"),
  );
  if (results.error) sections.push(`**The run failed before the end:**\n\n\`\`\`\n${results.error}\n\`\`\``);
  if (results.warm || results.cold || results.subs || results.stall || results.state) {
    sections.push(`## Targets\n\n${targetTable(targets(results))}`);
  }
  if (results.cost) {
    sections.push(
      [
        "## Cost of presence, counted",
        "",
        "A metered build of the worker (`bench/metering`: the same code, with every billable Durable Object operation counted by wrapping its bindings and storage) runs with default settings but HEARTBEAT_TIMEOUT; simulated clients connect one socket each and ping every 10 s, as the SDK does.",
        "For each timeout, N users stay online through a window, then N more join for a second window: the difference is the **marginal** cost of one always-online user; what is left is the shard's fixed cost.",
        "",
        costTables(results.cost),
        "",
        "**In dollars** (Workers Paid list prices: $0.15 per million requests, $1.00 per million rows written; included allowances ignored). The Free plan column divides its daily 100,000 requests and 100,000 rows, after one shard's fixed cost at its ceiling (an alarm and a setAlarm row per verify window, a snapshot row per idle gap), by the marginal cost of a user.",
        "",
        dollarTable(results.cost),
      ].join("\n"),
    );
  }
  if (results.subs) sections.push(subsSection(results.subs));
  if (results.state) sections.push(stateSection(results.state, results.cost));
  if (results.stall) sections.push(stallSection(results.stall, results.opts.stall));
  if (results.manage) sections.push(manageSection(results.manage));
  if (results.grants) sections.push(grantsSection(results.grants));
  if (results.shardSimulation) {
    sections.push(
      [
        "## The shard's verify loop, simulated",
        "",
        "`bench/simulation/shard.ts` runs the shard's own memory (`src/presence/roster.ts`) in this Node process through simulated time: every user pings every 10 s on its own phase (HEARTBEAT_TIMEOUT 30 s), 1 % of them fall silent, and each verify answers what the user's object would. CPU is this process's, per alarm (taking the due users and applying their answers; no I/O).",
        "",
        simulationTable(results.shardSimulation),
      ].join("\n"),
    );
  }
  if (results.storage) {
    sections.push(
      `## Storage per user\n\nThe worker's own storage code (\`src/storage\`) writes ${results.storage.rows.toLocaleString("en")} rows of each kind in Miniflare (\`bench/simulation/storage-probe.ts\`); sizes are the databases' own (D1's \`size_after\`, SQLite-backed Durable Object \`databaseSize\`), page overhead and primary-key index included.\n\n${storageTable(results.storage)}`,
    );
  }
  if (results.warm) sections.push(`## HTTP routes, warm\n\n${latencyTable(results.warm, floors)}`);
  if (results.cold) {
    const eviction = results.coldEviction;
    const kind = (k) => results.cold.filter((r) => r.kind === k).map((r) => ({ ...r, perSecondShown: false }));
    const note = (r) => {
      const here = r.kind === "evicted" ? "right before that read" : "right after that restart";
      // A burst of 32 against a floor taken one request at a time says nothing: c=1 rows only.
      const againstIt = r.concurrency === 1 ? ` (p50 / that floor: ${(r.p50 / r.floorHereP50).toFixed(2)}×)` : "";
      const retaken =
        r.kind === "evicted"
          ? `; ${r.discarded} read${r.discarded === 1 ? " that found the shard awake was" : "s that found the shard awake were"} taken again`
          : "";
      return `- ${r.name} c=${r.concurrency}: ${r.onlineSeen} of ${r.entries} entries online; floor p50 ${here} ${r.floorHereP50?.toFixed(2)} ms${againstIt}${retaken}`;
    };
    sections.push(
      [
        "## get_users_online_status, cold",
        "",
        "Cold means a shard whose memory is gone: its first read starts the object again and rebuilds its memory from SQLite. Each sample: the online users connect (so the shard has live entries to rebuild), the shard is made cold, then the first status read(s) are timed: one request (concurrency 1) or a burst of 32 at once. Ratios are to the warm floor above.",
        "",
        `**Shard evicted** (the target's cold, as in production: a shard wakes from eviction in a runtime that already serves the route). Nothing touches the shard for ${eviction.idleMs / 1000} s, and local workerd evicts an object 10 s after its last request, as Cloudflare does with an idle one; then come the 20 floor requests of the notes (they touch no object) and the timed read. These rows run on the metered worker, which counts each start of an object: a sample counts only if its read started the shard again. A read that found the shard awake (its own alarm, a verify round set before the latest connects, can wake it during the wait) is taken again, up to ${eviction.retriesPerSample} times per sample wanted; the notes say how many were.`,
        "",
        latencyTable(kind("evicted"), floors),
        "",
        ...kind("evicted").map(note),
        "",
        "**Runtime restarted** (for reference: as after a deploy, the isolate is new too). The server is killed (kill -9) and started again on the same persist dir, the isolate is warmed with requests that touch no object (20 refused at the secret, 20 refused by the status route's validation, then the 20 floor requests), then the read is timed. These rows carry the start of the whole runtime and of a fresh isolate as well as the shard's; the notes give the floor measured right after each restart. The last row leaves the route unwarmed (secret refusals only), so it adds the isolate's first run of the route's code (zod, the answer).",
        "",
        latencyTable(kind("restarted"), floors),
        "",
        ...kind("restarted").map(note),
      ].join("\n"),
    );
  }
  if (results.connect) {
    sections.push(
      `## WebSocket connect rate\n\nUpgrades with valid tokens, each for a user's first session (the connect creates the user's object and publishes to a presence shard). Latency is until the client's open event.\n\n${latencyTable(results.connect, floors)}`,
    );
  }
  if (results.offline) sections.push(`## Time until offline after a clean close\n\n${offlineTable(results.offline)}`);
  if (results.manySockets) {
    sections.push(
      `## Concurrent sockets\n\n${[
        `Each client sends "ping" right after open and every 10 s. Memory is the RSS of the workerd process that runs the worker (from /proc), before the first connect and after; a fresh server for each column.`,
        `Why not 10,000: the open-files hard limit here is ${m.fdHardLimit} and cannot be raised in this container, and workerd holds two descriptors per accepted connection (the figures below show it) plus the SQLite files of every awake object, so 10,000 sockets cannot fit in one workerd process on this machine.`,
        `${results.manySockets.target} sockets over ${results.manySockets.users} users (${results.manySockets.sessionsPerUser}, so this phase runs with \`MULTI_LOGIN_POLICY=max_per_platform:2\`; the default policy keeps one session per platform) is the largest round shape that fits.`,
        `The reference worker holds the same shape with nothing but an object per user and auto-answered pings: it is local workerd's own floor.`,
      ].join("\n")}\n\n${manySocketsTable(results.manySockets, results.referenceSockets)}`,
    );
  }
  if (results.crash) {
    sections.push(
      `## Crash check\n\nUsers connect and ping every second. At t=0 the server goes down (kill -9 of wrangler and its workerd processes, or a clean stop), then starts again on the same persist dir, and the status route is polled every 250 ms. Their last ping was at most t=0, so nobody may read online after t = HEARTBEAT_TIMEOUT + 5 s (docs/protocol.md#heartbeat).\n\n${crashTable(results.crash)}`,
    );
  }
  const markdown = `${sections.join("\n\n")}\n`;
  writeFileSync(file, markdown);
  console.log(`\n${markdown}`);
}

function subsSection(subs) {
  const { latency, change, steady } = subs;
  const lines = ["## Presence subscriptions", ""];
  if (subs.seconds) lines.push(`The phase took ${(subs.seconds / 60).toFixed(1)} minutes.`, "");
  lines.push(
    "### Delta latency",
    "",
    `On the bench's own worker (not the metered one), default settings: ${latency.watchers} watchers, each on a socket of its own and pinging, subscribe to ${latency.subjects} users, who then connect and close in turn, ${latency.rounds} times each. A sample is the time from the change to one watcher's entry for it, measured on the client: an online delta from just before the subject's connect request (the handshake is inside it), an offline delta from just after the client's \`close()\` call (the close frame's trip is inside it).`,
    "",
    subsLatencyTable(latency),
  );
  if (change) {
    lines.push(
      "",
      "### Cost of one change",
      "",
      `On the metered worker (\`bench/metering\`), counted alone: N watcher users (registered through the API, one socket each, pinging) subscribe to a user of their own, who connects (an online change) and closes (an offline change). The watchers are reused: the larger N include the smaller. HEARTBEAT_TIMEOUT is ${change.heartbeatTimeoutMs / 60_000} min on this worker, longer than the whole measurement, so no watcher is verified inside it: the verifies of online watchers are the steady state's (below), and each change is counted from the meter's reset to ${change.trailingMs / 1000} s after the last watcher got its entry (trailing work included). Before each change, a quiet window as long must count nothing (last column). The shard delivers up to 50 watcher calls inline from the publish, then in alarms of up to 900; at this long timeout the alarm it sets back for the next verify afterwards, and the schedule snapshot it saves when going idle, are counted with the change (at 30 s with users online the alarm is set anyway, and a snapshot is rarer).`,
      "",
      "Times: the connecting socket's handshake waits for the publish, which makes the first 50 deliveries itself. Locally every object runs on one thread, so the time until the last watcher is about the worker's CPU for the fan-out (measured from /proc in 10 ms ticks): that is local workerd's time on a shared machine, not a figure for Cloudflare, where the objects are spread out.",
      "",
      `Prices: $${PRICES.perMillionRequests} per million requests, $${PRICES.perMillionRows} per million rows (WebSocket messages at 20:1; none in these windows). Setup: ${change.registered.toLocaleString("en")} users registered in ${change.registerSeconds.toFixed(1)} s (16 at a time), ${change.sockets.toLocaleString("en")} watcher sockets opened in ${change.connectSeconds.toFixed(1)} s (32 at a time), ${change.stillOpen.toLocaleString("en")} still open at the end; peak open file descriptors of the worker's workerd ${change.peakFds}, its RSS at the end ${(change.peakWorkerRss / 2 ** 20).toFixed(0)} MB; error frames ${change.errorFrames}.${change.mesh ? ` The mesh (${change.mesh.users.toLocaleString("en")} users each watching the next ${change.mesh.each}, ${Math.ceil(change.mesh.each / 200)} frames each) subscribed in ${change.mesh.subscribeSeconds.toFixed(1)} s.` : ""} The whole measurement took ${change.elapsedSeconds.toFixed(0)} s.`,
      "",
      subsChangeTable(change),
    );
  }
  if (steady) {
    lines.push(
      "",
      "### Steady state with subscriptions active",
      "",
      `On metered workers at HEARTBEAT_TIMEOUT ${steady[0].heartbeatTimeoutMs / 1000} s, one per shape, side by side: users connect one socket each and ping every 10 s; past their first verify, a window with no subscriptions, then each user subscribes to the users after it (a ring, so each is watched by as many) and a second window as long starts at once, on the same sockets. Nothing changes in either window. Without subscriptions this is the cost phase's measurement; the difference is what subscriptions add. Windows are whole multiples of the timeout, as a pinging user is verified once per timeout; the shard also saves its schedule (a row) when it goes idle between alarms, which a window's edge may cut either way, so **adds nothing** allows that count one more with than without.`,
      "",
      subsSteadyTable(steady),
    );
  }
  return lines.join("\n");
}

function stateSection(state, cost) {
  const lines = ["## What presence says: the cost of one change of each kind", ""];
  if (state.seconds) lines.push(`The phase took ${(state.seconds / 60).toFixed(1)} minutes.`, "");
  const changes = state.changes ?? [];
  const first = changes[0];
  if (first) {
    const watchers = first.subjects.map((s) => s.watchers.toLocaleString("en")).join(" and ");
    lines.push(
      `On the metered worker (\`bench/metering\`), each change of what a user says about its own presence (docs/protocol.md#your-own-presence) counted alone, as the subscriptions phase counts a connect: a quiet window of ${first.quietMs / 1000} s first (it must count nothing; last column), then the meter's reset, the change, the wait until every watcher got the entry that shows it, ${first.trailingMs / 1000} s more for trailing work, and the read. For ${watchers} watchers, a subject of its own, whose watchers are other users with one socket each (pinging), subscribed to it; the subject is online with one socket (platform 1) that sends the \`set\` frames, its objects exist, and it starts in the foreground, visible, with no custom status. HEARTBEAT_TIMEOUT is ${first.heartbeatTimeoutMs / 60_000} min on this worker, longer than the whole measurement, so no verify falls inside a count but the expiry's own call (the target rows check it); the alarm the shard sets back afterwards for its next verify is counted with the change. The shard delivers up to 50 watcher calls inline, then from an alarm.`,
      "",
      `The expiry is counted with no request from anyone: the status is set (its own row) to expire ${first.expiryAheadMs / 1000}–${first.expiryAheadMs / 1000 + 1} s ahead (\`expiresAt\` is in whole seconds), and the expiry's quiet window ends before it; the count runs from then until the last watcher got the entry without the status (with none: 2 s after the expiry, the time protocol.md promises), and its times are from the expiry. "Status route after": \`get_users_online_status\` read after the count showed what the change set.`,
      "",
      `Requests by kind: RPC calls on objects (publish, deliverPresence, verify, setCustomStatus…), fetches (WebSocket handshakes), alarms, and the socket events the runtime delivers (messages, billed 20:1; close events). Rows include each setAlarm (in brackets). Queue operations (a write, a read and a delete per event) are counted with webhooks on; $ per million changes prices the Durable Object requests and rows only ($${PRICES.perMillionRequests} and $${PRICES.perMillionRows} per million): the bench carries no Queues price.`,
    );
    for (const variant of changes) {
      lines.push(
        "",
        `### ${variant.webhooks ? "Webhooks on (a receiver on loopback that answers 204 at once)" : "Webhooks off (the default)"}`,
        "",
        `Sockets ${variant.stillOpen} of ${variant.sockets} still open at the end; error frames: ${variant.watcherErrorFrames} on watchers, ${variant.subjects.reduce((sum, s) => sum + s.subjectErrorFrames.length, 0)} on subjects${variant.received ? `; the receiver got ${variant.received.events} events in ${variant.received.bodies} bodies` : ""}. The measurement took ${variant.elapsedSeconds.toFixed(0)} s.`,
        "",
        stateChangeTable(variant),
      );
    }
    const cost30 = cost?.find((c) => c.heartbeatTimeoutMs === 30_000 && !c.webhooks);
    const steadyPer1000Month = cost30
      ? dollars({
          marginal: cost30.marginalPerUserHour,
          fixedPerShardHour: shardCeilingPerHour(cost30.timing),
          pingsPerUserHour: cost30.pingsPerUserHour,
        }).per1000Month
      : undefined;
    lines.push("", "### Background flips, a month", "", stateFlipArithmetic(changes, { steadyPer1000Month }));
  }
  const steady = state.steady;
  if (steady) {
    lines.push(
      "",
      "### Steady state with a custom status and the app in the background",
      "",
      `On a metered worker at HEARTBEAT_TIMEOUT ${steady.heartbeatTimeoutMs / 1000} s${changes.length ? ", beside the counts above" : ""}: ${steady.users} users connect one socket each and ping every 10 s; past their first verify, a window with nothing set; then each sends one \`set\` frame (background on, a custom status without expiry), and once the status route shows all of them set and the next verify of each has passed, a second window as long, on the same worker and sockets. Nothing changes in either window: the second must cost what the first did (the ratio), with no publish, delivery, frame or user object row; verifies may differ by one per user at a window's edge, and the shard's snapshot rows by one.`,
      "",
      stateSteadyTable(steady),
    );
  }
  return lines.join("\n");
}

function stallSection(stall, o) {
  const lines = ["## The shared shard under subscription churn", ""];
  if (stall.seconds) lines.push(`The phase took ${(stall.seconds / 60).toFixed(1)} minutes.`, "");
  const rows = stall.rows ?? [];
  const first = rows[0];
  if (first) {
    lines.push(
      `On a plain worker of its own for each row (fresh state, one presence shard: PRESENCE_SHARDS=1, the default), a victim user is online and its status is read with \`get_users_online_status\`, one read at a time, ${o.samples} reads before the attacker connects (every ${first.baselineGapMs} ms) and ${o.samples} while it churns (on slots ${o.slotMs / 1000} s apart, each starting when the last ended if that is later). Each read has a ${o.readTimeoutMs / 1000} s timeout: a read with no answer by then counts as failed and as slower than any answer, so a percentile it decides reads "≥" the timeout. The churn lasts until the last read ended, at most ${o.attackCapMs / 60_000} min: reads not started by then are not taken. Beside each block, on the same slots and also one at a time, floor requests (refused at the secret: the HTTP path, no object) tell a stalled runtime from a stalled shard.`,
      "",
      `The attacker is one registered user with a token for each of the ${first.platforms} platforms and a socket on each, all pinging every 10 s. Each socket subscribes ${first.idsPerSocket.toLocaleString("en")} distinct unregistered ids in frames of 200, each after the last one's snapshot; then each socket subscribes and unsubscribes one more id in turn every ${first.churnEveryMs} ms (18 frames per 10 s; the budget is 20, and the client never sends more than 18 in any 10 s), the sockets staggered, on a fixed schedule whatever the answers, as a hostile client would. A socket the server closes (the budget is counted when the server handles a frame, so frames it handles late and bunched can pass it: 1008) is opened again after 1 s and subscribes its ids again before it churns on, as a persistent attacker would; the second table counts these. Memory is the RSS of the two workerd processes the run's wrangler started (the worker's and wrangler's dev proxy), from /proc: before the attacker connects (after the baseline reads), once it holds its ids, and at the peak in the churn (every 2 s). The load average is the machine's, which other jobs share.`,
      "",
      stallTable(rows),
      "",
      stallAttackerTable(rows),
      "",
      ...rows.map(
        (r) =>
          `- ${r.platforms} × ${r.idsPerSocket.toLocaleString("en")} ${r.kind === "emoji" ? "4-byte" : "ASCII"} ids, each read during the churn (seconds into it: time): ${stallReadsLine(r)}.`,
      ),
      "",
      `The target is **${STALL_RATIO_BOUND}×** for the 4-byte ids: a user inside every protocol limit must not slow others' reads of the shard they share by more than that.`,
    );
  }
  const cost = stall.cost;
  if (cost) {
    lines.push(
      "",
      "### What one frame costs as the socket's list grows, counted",
      "",
      `On the metered worker (\`bench/metering\`; one shard, HEARTBEAT_TIMEOUT 15 min, so no verify falls inside a count): one socket subscribes 4-byte ids up to each N, then one unsubscribe of a watched id and one subscribe of it again are each counted alone, from the meter's reset until it stops changing, after a quiet window that must count nothing. The socket's messages are billed 20:1. Rows are billed per row whatever its size: what grows with N is the size of the row each frame rewrites and the CPU it takes (the worker's workerd, in 10 ms ticks). Then the attack of the rows above, on the same worker after that socket closed: its sockets subscribe, the meter is reset, they churn for ${o.costChurnMs / 1000} s (a socket the server closes stays closed here), and the counts are read once the worker has done every frame (the drain), per churn frame sent.`,
      "",
      stallFrameTable(cost),
      "",
      stallCpuLine(cost),
      "",
      stallUnknownLine(cost.unknown),
    );
  }
  return lines.join("\n");
}
