// The per-job daily rollup (run_daily). Writers append (job, day) marks to rollup_dirty in
// their own transaction; flushing recomputes those days from committed runs. Recomputing
// (rather than incrementing) keeps p50/p95 exact and makes a flush idempotent. A flush also
// folds the lineage sightings ingest queued the same way (lineage_sightings → lineage_edges,
// src/ingest/lineage.ts): the same deferred work after ingest, on the same schedule.
import { type SQL, sql } from "drizzle-orm";
import { foldSightings } from "../ingest/lineage.ts";
import type { Executor, Store } from "./client.ts";

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
export async function flushRollups(
  store: Store,
  limit = MARKS_PER_PASS,
  onSkipped: OnSkippedKey = () => {},
): Promise<number> {
  return (await flushPass(store, limit, onSkipped)).keys;
}

const MARKS_PER_PASS = 100_000;

async function flushPass(
  store: Store,
  limit: number,
  onSkipped: OnSkippedKey,
): Promise<{ marks: number; keys: number; sightings: number }> {
  const rollup = await rollupPass(store, limit, onSkipped);
  return { ...rollup, sightings: await foldSightings(store, limit) };
}

async function rollupPass(
  store: Store,
  limit: number,
  onSkipped: OnSkippedKey,
): Promise<{ marks: number; keys: number }> {
  try {
    return await store.transaction(async (tx) => {
      await flushLock(store, tx);
      return recompute(store, tx, sql`SELECT id FROM rollup_dirty ORDER BY id LIMIT ${limit}`);
    });
  } catch (err) {
    if (!isDataError(err)) throw err;
    // One job-day whose runs cannot be summed must not stop every other day from rolling
    // up: recompute the same marks one key at a time and drop the marks of a key that fails.
    return flushKeyByKey(store, limit, onSkipped);
  }
}

async function flushLock(store: Store, tx: Executor): Promise<void> {
  // PGlite is one session in one process: nothing to exclude.
  if (store.kind === "postgres") await tx.execute(sql`SELECT pg_advisory_xact_lock(${FLUSH_LOCK_KEY})`);
}

/** SQLSTATE class 22 (data exception: overflow, out of range, …): retrying cannot succeed. */
function isDataError(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === "object"; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("22")) return true;
  }
  return false;
}

/** Hears about a job-day a flush could not recompute (its marks are dropped); the service logs it. */
export type OnSkippedKey = (key: { jobId: number; day: string }, err: unknown) => void;

async function flushKeyByKey(
  store: Store,
  limit: number,
  onSkipped: OnSkippedKey,
): Promise<{ marks: number; keys: number }> {
  const keys = await store.query<{ job_id: number; day: string }>(
    sql`SELECT DISTINCT job_id::float8 AS job_id, day::text AS day
        FROM (SELECT job_id, day FROM rollup_dirty ORDER BY id LIMIT ${limit}) m`,
  );
  let marks = 0;
  for (const k of keys) {
    const only = sql`SELECT id FROM rollup_dirty WHERE job_id = ${k.job_id} AND day = ${k.day}::date`;
    try {
      marks += (
        await store.transaction(async (tx) => {
          await flushLock(store, tx);
          return recompute(store, tx, only);
        })
      ).marks;
    } catch (err) {
      if (!isDataError(err)) throw err;
      onSkipped({ jobId: Number(k.job_id), day: String(k.day) }, err);
      const [dropped] = await store.query<{ n: number }>(
        sql`WITH d AS (DELETE FROM rollup_dirty WHERE id IN (${only}) RETURNING 1) SELECT count(*)::int AS n FROM d`,
      );
      marks += dropped?.n ?? 0;
    }
  }
  return { marks, keys: keys.length };
}

/**
 * Takes the marks `which` selects and recomputes their days. Sums are taken so that they
 * cannot overflow: ingest bounds every figure (see src/ingest/limits.ts), and rows written
 * before those bounds saturate at the largest value the column holds instead of failing.
 */
async function recompute(store: Store, tx: Executor, which: SQL): Promise<{ marks: number; keys: number }> {
  const [done] = await store.query<{ marks: number; keys: number }>(
    sql`WITH taken AS (
          DELETE FROM rollup_dirty
          WHERE id IN (${which})
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
              -- sum(bigint) is numeric: saturate before the cast instead of overflowing.
              -- (CASE, not LEAST: LEAST ignores NULL and would turn "no figure" into the cap.)
              (CASE WHEN sum(r.rows) > 9223372036854775807 THEN 9223372036854775807 ELSE sum(r.rows) END)::bigint AS rows,
              (CASE WHEN sum(r.bad_records) > 9223372036854775807 THEN 9223372036854775807
                ELSE sum(r.bad_records) END)::bigint AS bad_records,
              sum(CASE WHEN r.cpu_seconds > ${MAX_SUMMED} THEN ${MAX_SUMMED} ELSE r.cpu_seconds END)::float8 AS cpu,
              max(r.memory_mb) AS mem,
              sum(CASE WHEN r.cost > ${MAX_SUMMED} THEN ${MAX_SUMMED} ELSE r.cost END)::float8 AS cost,
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
            duration_p95_ms, duration_max_ms, duration_total_ms, rows, bad_records, cpu_seconds, memory_mb_max,
            cost, first_run_at, last_run_at)
          SELECT job_id, day, runs, successes, failures, running, pct[1], pct[2], dmax, dtotal, rows, bad_records,
            cpu, mem, cost, first_run_at, last_run_at
          FROM agg
          ON CONFLICT (job_id, day) DO UPDATE SET
            runs = excluded.runs, successes = excluded.successes, failures = excluded.failures,
            running = excluded.running, duration_p50_ms = excluded.duration_p50_ms,
            duration_p95_ms = excluded.duration_p95_ms, duration_max_ms = excluded.duration_max_ms,
            duration_total_ms = excluded.duration_total_ms, rows = excluded.rows, bad_records = excluded.bad_records,
            cpu_seconds = excluded.cpu_seconds, memory_mb_max = excluded.memory_mb_max,
            cost = excluded.cost, first_run_at = excluded.first_run_at, last_run_at = excluded.last_run_at
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM taken)::int AS marks, (SELECT count(*) FROM k)::int AS keys`,
    tx,
  );
  return { marks: done?.marks ?? 0, keys: done?.keys ?? 0 };
}

// A float8 sum of up to ~10^290 terms of this size stays finite.
const MAX_SUMMED = sql.raw("1e15::float8");

/**
 * Flushes until no mark or sighting is left (a backstop for what a crashed writer's process
 * left behind). Returns the (job, day) keys recomputed.
 */
export async function flushAllRollups(store: Store, onSkipped: OnSkippedKey = () => {}): Promise<number> {
  let total = 0;
  for (;;) {
    const r = await flushPass(store, MARKS_PER_PASS, onSkipped);
    total += r.keys;
    if (r.keys === 0 && r.sightings === 0) return total;
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
    private readonly onSkipped: OnSkippedKey = () => {},
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
    for (;;) {
      const r = await flushPass(this.store, MARKS_PER_PASS, this.onSkipped);
      if (r.marks < MARKS_PER_PASS && r.sightings < MARKS_PER_PASS) return;
    }
  }

  private finished(run: Promise<void>): void {
    if (this.running === run) this.running = undefined;
  }
}
