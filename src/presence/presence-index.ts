import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { PlatformId } from "../platforms";
import { PresenceTable, type PlatformPresence } from "../storage/presence-table";

// Offline users' rows are dropped after this long; keeps each shard small.
export interface LivePlatforms {
  uid: string;
  platforms: PlatformId[];
}

const PRUNE_AFTER_MS = 10 * 60_000;
const PRUNE_EVERY_WRITES = 1000;

/**
 * A read replica of presence for one shard of uids. User objects are the only
 * writers and the source of truth; a status query reads a handful of shards
 * instead of waking one object per user.
 */
export class PresenceIndex extends DurableObject<Env> {
  private readonly table: PresenceTable;
  private writesSincePrune = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.table = new PresenceTable(ctx.storage.sql);
  }

  publish(uid: string, version: number, platforms: PlatformPresence[]): boolean {
    const applied = this.table.write(uid, version, platforms);
    if (++this.writesSincePrune >= PRUNE_EVERY_WRITES) {
      this.writesSincePrune = 0;
      this.table.prune(Date.now() - PRUNE_AFTER_MS);
    }
    return applied;
  }

  /** Live platforms of each uid that has any; uids with none are left out. */
  livePlatforms(uids: string[]): LivePlatforms[] {
    return [...this.table.read(uids, Date.now())].map(([uid, platforms]) => ({ uid, platforms }));
  }
}
