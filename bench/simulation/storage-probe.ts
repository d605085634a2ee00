/**
 * A probe worker for `npm run bench` (phase "storage"), run in Miniflare: it
 * writes rows with the worker's own storage code and reports the bytes they
 * take, for docs/scale.md. /users?n= inserts users into D1 (typical and
 * largest profiles); /shard?n= writes a shard's online and offline rows.
 */
import { DurableObject } from "cloudflare:workers";
import { planVerification, verifyTiming } from "../../src/presence/verification";
import { ensureSchema, PRESENCE_SHARD_MIGRATIONS } from "../../src/storage/schema";
import { ShardTables } from "../../src/storage/shard-tables";
import { insertUser, type NewUser } from "../../src/storage/users";

interface ProbeEnv {
  DB: D1Database;
  SHARD: DurableObjectNamespace<ShardProbe>;
}

export class ShardProbe extends DurableObject<ProbeEnv> {
  /** Bytes of the shard's database: empty, after `n` users went online, after `n` others' lastSeen rows. */
  measure(n: number): { empty: number; online: number; offline: number } {
    // The shard's own schema, as the shard creates it on wake.
    ensureSchema(this.ctx.storage, PRESENCE_SHARD_MIGRATIONS);
    const table = new ShardTables(this.ctx.storage.sql);
    const empty = this.ctx.storage.sql.databaseSize;
    const timing = verifyTiming(30_000);
    for (let i = 0; i < n; i++) {
      // A connect's publish at the default timeout, and the plan the shard writes with it.
      const report = { epoch: 0, seq: 1, reportedAtMs: 1_764_300_000_000 + i, platforms: [1 as const] };
      const plan = planVerification({ ...report, heartbeatDeadlineMs: report.reportedAtMs + 30_000 }, timing);
      if (!plan) throw new Error("a publish of a live platform has a verify plan");
      table.markOnline(
        { uid: probeUid(i), epoch: 0, seq: report.seq, platforms: 0b10, reportedAtMs: report.reportedAtMs, plan },
        undefined,
      );
    }
    const online = this.ctx.storage.sql.databaseSize;
    for (let i = 0; i < n; i++)
      table.markOffline({ uid: probeUid(n + i), epoch: 0, seq: 2, lastSeenMs: 1_764_300_000_123 + i }, undefined);
    return { empty, online, offline: this.ctx.storage.sql.databaseSize };
  }
}

/** A uid as AppServers often make them: 19 digits. */
function probeUid(i: number): string {
  return String(1_000_000_000_000_000_000n + BigInt(i));
}

function user(i: number, largest: boolean): NewUser {
  const text = (chars: number) => "x".repeat(chars);
  return {
    uid: largest ? `${text(45)}${probeUid(i)}` : probeUid(i),
    name: largest ? text(64) : `用户${i}`,
    icon: largest ? text(1024) : `https://cdn.example.com/avatars/${i}.png`,
    gender: 1,
    mobile: largest ? text(32) : "+86-13800000000",
    birth: largest ? text(16) : "1998-12-15",
    email: largest ? text(64) : `user${i}@example.com`,
    ex: largest ? text(1024) : "",
    registeredPlatform: 1,
    createdAtMs: 1_764_300_000_000,
  };
}

async function databaseSize(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT 1").run()).meta.size_after;
}

export default {
  async fetch(request: Request, env: ProbeEnv): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "1000");
    if (url.pathname === "/shard") return Response.json(await env.SHARD.get(env.SHARD.idFromName("probe")).measure(n));
    const largest = url.pathname === "/users/largest";
    const offset = largest ? 10_000_000 : 0;
    const before = await databaseSize(env.DB);
    for (let i = 0; i < n; i++) await insertUser(env.DB, user(offset + i, largest));
    return Response.json({ before, after: await databaseSize(env.DB) });
  },
} satisfies ExportedHandler<ProbeEnv>;
