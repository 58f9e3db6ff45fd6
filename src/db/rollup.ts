// The per-job daily rollup (run_daily). Writers mark (job, day) dirty in their own
// transaction; flushing recomputes those days from committed runs. Recomputing (rather
// than incrementing) keeps p50/p95 exact and makes a flush idempotent.
import { sql } from "drizzle-orm";
import type { Store } from "./client.ts";
import { json } from "./sql.ts";

export interface DirtyKey {
  jobId: number;
  /** UTC day, YYYY-MM-DD. */
  day: string;
}

/**
 * Recomputes the given dirty keys, or up to `limit` of any dirty keys when none are given.
 * The DELETE waits on writers still holding a key (their upsert locked it), and the
 * recompute is a second statement, so it sees their committed runs.
 */
export async function flushRollups(store: Store, keys?: DirtyKey[], limit = 5000): Promise<number> {
  return store.transaction(async (tx) => {
    const taken = await store.query<{ job_id: number; day: string }>(
      keys
        ? sql`WITH k AS (
                SELECT d.job_id, d.day FROM rollup_dirty d
                JOIN jsonb_to_recordset(${json(keys)}) AS x("jobId" int, day date)
                  ON d.job_id = x."jobId" AND d.day = x.day
                ORDER BY 1, 2 FOR UPDATE OF d)
              DELETE FROM rollup_dirty d USING k WHERE d.job_id = k.job_id AND d.day = k.day
              RETURNING d.job_id, d.day::text AS day`
        : sql`WITH k AS (
                SELECT job_id, day FROM rollup_dirty ORDER BY 1, 2 LIMIT ${limit} FOR UPDATE SKIP LOCKED)
              DELETE FROM rollup_dirty d USING k WHERE d.job_id = k.job_id AND d.day = k.day
              RETURNING d.job_id, d.day::text AS day`,
      tx,
    );
    if (taken.length === 0) return 0;
    const k = json(taken);
    await tx.execute(
      sql`WITH k AS (SELECT * FROM jsonb_to_recordset(${k}) AS x(job_id int, day date)),
          -- LATERAL per key forces an index range scan on (job_id, run_at) at any table
          -- size; a join lets the planner guess 100 keys and seq-scan runs on young databases.
          agg AS (
            SELECT k.job_id, k.day, a.*
            FROM k CROSS JOIN LATERAL (
              SELECT
                count(*)::int AS runs,
                count(*) FILTER (WHERE r.status = 'success')::int AS successes,
                count(*) FILTER (WHERE r.status = 'failed')::int AS failures,
                count(*) FILTER (WHERE r.status = 'running')::int AS running,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms) AS p95,
                max(r.duration_ms)::float8 AS dmax,
                sum(r.duration_ms)::float8 AS dtotal,
                sum(r.rows)::bigint AS rows,
                sum(r.cpu_seconds) AS cpu,
                max(r.memory_mb) AS mem,
                sum(r.cost) AS cost,
                min(r.run_at) AS first_run_at,
                max(r.run_at) AS last_run_at
              FROM runs r
              WHERE r.job_id = k.job_id
                AND r.run_at >= (k.day::timestamp AT TIME ZONE 'UTC')
                AND r.run_at < ((k.day + 1)::timestamp AT TIME ZONE 'UTC')
            ) a
            WHERE a.runs > 0
          ),
          gone AS (
            DELETE FROM run_daily d USING k
            WHERE d.job_id = k.job_id AND d.day = k.day
              AND NOT EXISTS (SELECT 1 FROM agg a WHERE a.job_id = k.job_id AND a.day = k.day)
          )
          INSERT INTO run_daily AS d (job_id, day, runs, successes, failures, running, duration_p50_ms,
            duration_p95_ms, duration_max_ms, duration_total_ms, rows, cpu_seconds, memory_mb_max, cost,
            first_run_at, last_run_at)
          SELECT job_id, day, runs, successes, failures, running, p50, p95, dmax, dtotal, rows, cpu, mem, cost,
            first_run_at, last_run_at
          FROM agg
          ON CONFLICT (job_id, day) DO UPDATE SET
            runs = excluded.runs, successes = excluded.successes, failures = excluded.failures,
            running = excluded.running, duration_p50_ms = excluded.duration_p50_ms,
            duration_p95_ms = excluded.duration_p95_ms, duration_max_ms = excluded.duration_max_ms,
            duration_total_ms = excluded.duration_total_ms, rows = excluded.rows,
            cpu_seconds = excluded.cpu_seconds, memory_mb_max = excluded.memory_mb_max, cost = excluded.cost,
            first_run_at = excluded.first_run_at, last_run_at = excluded.last_run_at`,
    );
    return taken.length;
  });
}

/** Flushes every dirty key (a backstop for keys a crashed writer left behind). */
export async function flushAllRollups(store: Store): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await flushRollups(store);
    total += n;
    if (n === 0) return total;
  }
}
