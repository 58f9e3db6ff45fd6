// Cron fires are claimed in the database: every replica's node-cron ticks, but only the
// replica whose insert-if-absent wins a (task, slot) does the work.
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { ts } from "../db/sql.ts";

/** True when this replica claimed the slot; false when another replica already had. */
export async function claimSlot(store: Store, task: string, slot: Date, replicaId: string): Promise<boolean> {
  const rows = await store.query<{ task: string }>(
    sql`INSERT INTO cron_claims (task, slot, claimed_by) VALUES (${task}, ${ts(slot)}, ${replicaId})
        ON CONFLICT (task, slot) DO NOTHING RETURNING task`,
  );
  return rows.length === 1;
}

/** The minute a tick belongs to: fires a few hundred ms late still claim the same slot. */
export function minuteSlot(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000);
}
