// Shared bits for the outbox tests: a hand-driven clock, a log sink, and enqueueing with the
// row's times set to the test clock (the table's defaults are the database's own now()).
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Store } from "../../src/db/client.ts";
import { json, ts } from "../../src/db/sql.ts";
import { enqueue, type OutboxMessage } from "../../src/outbox/enqueue.ts";
import { testLogger } from "../helpers/log.ts";

export interface Clock {
  now: () => Date;
  advance(ms: number): void;
  ms(): number;
}

export function fakeClock(start = "2030-01-01T00:00:00.000Z"): Clock {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms) {
      t += ms;
    },
    ms: () => t,
  };
}

export interface LogSink {
  log: Logger;
  lines(): { level: number; msg: string; [k: string]: unknown }[];
}

export function logSink(): LogSink {
  const { log, lines } = testLogger("debug");
  return { log, lines };
}

/** Enqueues in one transaction, then dates the rows at `at` (created and due). */
export async function enqueueAt(store: Store, at: Date, messages: OutboxMessage[]): Promise<number[]> {
  const ids = await store.transaction((tx) => enqueue(store, tx, messages));
  await store.query(
    sql`UPDATE outbox SET created_at = ${ts(at)}, next_attempt_at = ${ts(at)}
        WHERE id IN (SELECT (jsonb_array_elements_text(${json(ids)}))::bigint)`,
  );
  return ids;
}

export interface OutboxRow {
  id: number;
  target: string;
  ordering_key: string;
  state: string;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  delivered_at: Date | null;
  result: unknown;
}

export async function outboxRows(store: Store): Promise<OutboxRow[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT id::int AS id, target, ordering_key, state, attempts, next_attempt_at, last_error, delivered_at, result
        FROM outbox ORDER BY id`,
  );
  return rows.map((r) => ({
    ...(r as unknown as OutboxRow),
    next_attempt_at: new Date(r["next_attempt_at"] as string),
    delivered_at: r["delivered_at"] ? new Date(r["delivered_at"] as string) : null,
  }));
}

/** A promise with its resolve exposed: a handler that waits until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
