// The per-job daily rollup (run_daily). Writers append (job, day) marks to rollup_dirty in
// their own transaction; flushing recomputes those days from committed runs. Recomputing
// (rather than incrementing) keeps p50/p95 exact and makes a flush idempotent.
import { sql } from "drizzle-orm";
import type { Store } from "./client.ts";

// Any fixed 64-bit number: the flushers of every replica on one database take this lock.
const FLUSH_LOCK_KEY = 7_212_026_002;

/**
 * Recomputes the days of up to `limit` of the oldest marks (fewer keys when marks repeat a
 * day). One flusher at a time per database (a transaction advisory lock): two flushers
 * recomputing the same day from different snapshots could otherwise commit the older
 * result last. Marks of writers that have not committed are invisible here and stay for
 * the next flush. One statement suffices: nothing here waits on a writer's lock, so its
 * snapshot holds the runs of every writer whose mark it took. Returns the number of (job,
 * day) keys recomputed.
 */
export async function flushRollups(store: Store, limit = MARKS_PER_PASS): Promise<number> {
  return (await flushPass(store, limit)).keys;
}

const MARKS_PER_PASS = 100_000;

async function flushPass(store: Store, limit: number): Promise<{ marks: number; keys: number }> {
  return store.transaction(async (tx) => {
    // PGlite is one session in one process: nothing to exclude.
    if (store.kind === "postgres") await tx.execute(sql`SELECT pg_advisory_xact_lock(${FLUSH_LOCK_KEY})`);
    const [done] = await store.query<{ marks: number; keys: number }>(
      sql`WITH taken AS (
            DELETE FROM rollup_dirty
            WHERE id IN (SELECT id FROM rollup_dirty ORDER BY id LIMIT ${limit})
            RETURNING job_id, day),
          k AS (SELECT DISTINCT job_id, day FROM taken),
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
                -- Both percentiles from one sort.
                percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY r.duration_ms) AS pct,
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
          ),
          upserted AS (
            INSERT INTO run_daily AS d (job_id, day, runs, successes, failures, running, duration_p50_ms,
              duration_p95_ms, duration_max_ms, duration_total_ms, rows, cpu_seconds, memory_mb_max, cost,
              first_run_at, last_run_at)
            SELECT job_id, day, runs, successes, failures, running, pct[1], pct[2], dmax, dtotal, rows, cpu,
              mem, cost, first_run_at, last_run_at
            FROM agg
            ON CONFLICT (job_id, day) DO UPDATE SET
              runs = excluded.runs, successes = excluded.successes, failures = excluded.failures,
              running = excluded.running, duration_p50_ms = excluded.duration_p50_ms,
              duration_p95_ms = excluded.duration_p95_ms, duration_max_ms = excluded.duration_max_ms,
              duration_total_ms = excluded.duration_total_ms, rows = excluded.rows,
              cpu_seconds = excluded.cpu_seconds, memory_mb_max = excluded.memory_mb_max,
              cost = excluded.cost, first_run_at = excluded.first_run_at, last_run_at = excluded.last_run_at
            RETURNING 1
          )
          SELECT (SELECT count(*) FROM taken)::int AS marks, (SELECT count(*) FROM k)::int AS keys`,
      tx,
    );
    return { marks: done?.marks ?? 0, keys: done?.keys ?? 0 };
  });
}

/** Flushes until no mark is left (a backstop for marks a crashed writer's process left behind). */
export async function flushAllRollups(store: Store): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await flushRollups(store);
    total += n;
    if (n === 0) return total;
  }
}

/**
 * Coalesces flushes within a process, like a group commit: a caller that arrives while a
 * flush runs gets the next one, which starts after the current one ends and so sees the
 * caller's committed marks; everyone who arrived meanwhile shares that one flush.
 *
 * Background requests (nudge) are also paced: a pass starts at most once per `paceMs`.
 * Recomputing a day costs a read of all its runs, so under sustained ingest a day marked by
 * many requests within one interval should be recomputed once, not once per request. The
 * rollup then trails ingest by at most about one interval plus one pass.
 */
export class RollupFlusher {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;

  /** `onError` hears about failed background flushes (the marks stay; the next flush retries). */
  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly paceMs = 1_000,
  ) {}

  /** Resolves once a flush that started after this call has recomputed every mark it found. */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    this.queued = this.running.then(
      () => this.afterCurrent(),
      () => this.afterCurrent(),
    );
    return this.queued;
  }

  /** Asks for a flush without waiting for it (what HTTP ingest does after each commit). */
  nudge(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastStart + this.paceMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.onError);
    }, wait);
    // A pending pass must not hold the process open; stop() flushes through idle().
    this.timer.unref();
  }

  /** Runs a pending background pass now and resolves when no flush is left (before closing the store). */
  async idle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.flush().catch(this.onError);
    }
    while (this.queued ?? this.running) await (this.queued ?? this.running)!.catch(() => {});
  }

  private afterCurrent(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    this.lastStart = performance.now();
    const run: Promise<void> = this.pass().then(
      () => this.finished(run),
      (err: unknown) => {
        this.finished(run);
        throw err;
      },
    );
    this.running = run;
    return run;
  }

  /**
   * Takes the marks committed before it started (statement by statement while a statement
   * fills its limit), not the ones that arrive meanwhile: under sustained ingest a loop
   * "until empty" would run back to back and undo the pacing.
   */
  private async pass(): Promise<void> {
    while ((await flushPass(this.store, MARKS_PER_PASS)).marks === MARKS_PER_PASS);
  }

  private finished(run: Promise<void>): void {
    if (this.running === run) this.running = undefined;
  }
}
