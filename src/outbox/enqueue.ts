// Writing to the outbox: call inside the same transaction as the state change that the
// message reports, so the change and the promise to announce it commit together.
import { sql } from "drizzle-orm";
import type { Executor, Store } from "../db/client.ts";
import { json } from "../db/sql.ts";

export type OutboxTarget = "pagerduty" | "slack";

export interface OutboxMessage {
  target: OutboxTarget;
  /** Messages with one key are delivered one at a time, in id order (a PagerDuty dedup_key, an incident). */
  orderingKey: string;
  payload: unknown;
}

export async function enqueue(store: Store, tx: Executor, messages: OutboxMessage[]): Promise<number[]> {
  if (messages.length === 0) return [];
  const rows = await store.query<{ id: number }>(
    sql`INSERT INTO outbox (target, ordering_key, payload)
        SELECT target, ordering_key, payload
        FROM jsonb_to_recordset(${json(messages.map((m) => ({ target: m.target, ordering_key: m.orderingKey, payload: m.payload })))})
          AS x(target text, ordering_key text, payload jsonb)
        RETURNING id::int AS id`,
    tx,
  );
  return rows.map((r) => r.id);
}
