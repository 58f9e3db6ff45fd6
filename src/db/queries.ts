// The store's core read queries: what Slack commands and digests ask of the run history.
// Every one is a single statement served by one index (named next to it), so each stays a
// few index pages at ~10M runs. Raw SQL with bound parameters only; results are
// normalised across drivers: numbers are numbers, times are Dates, days are "YYYY-MM-DD".
//
// Timestamps are selected as epoch milliseconds (float8) rather than as timestamptz text,
// so neither driver's type parsing nor the session's DateStyle/TimeZone can change them.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "./client.ts";
import type { DeployKind, DeployStatus, RunStatus } from "./schema.ts";
import { ts } from "./sql.ts";

/** timestamptz column → epoch milliseconds (float8). Column names are constants, never input. */
const ms = (column: string): SQL => sql.raw(`(extract(epoch from ${column}) * 1000)::float8`);

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === "number" ? v : Number(v);
}

function num0(v: unknown): number {
  return num(v) ?? 0;
}

function date(v: unknown): Date | null {
  const n = num(v);
  return n === null ? null : new Date(n);
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function checkDay(day: string, what: string): void {
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) {
    throw new RangeError(`${what} must be a day as YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Runs

export interface RunRecord {
  id: number;
  jobId: number;
  externalId: string;
  status: RunStatus;
  scheduledFor: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
  /** Best-known time of the run: started, else ended, else scheduled. */
  runAt: Date;
  /** ended − started; null until both are known. */
  durationMs: number | null;
  rows: number | null;
  cpuSeconds: number | null;
  memoryMb: number | null;
  cost: number | null;
  exitCode: number | null;
  error: string | null;
  environment: string | null;
}

const RUN_COLUMNS = sql`r.id::float8 AS id, r.job_id, r.external_id, r.status,
  ${ms("r.scheduled_for")} AS scheduled_for, ${ms("r.started_at")} AS started_at,
  ${ms("r.ended_at")} AS ended_at, ${ms("r.run_at")} AS run_at, r.duration_ms::float8 AS duration_ms,
  r.rows::float8 AS rows, r.cpu_seconds, r.memory_mb, r.cost, r.exit_code, r.error, r.environment`;

function toRun(r: Record<string, unknown>): RunRecord {
  return {
    id: num0(r["id"]),
    jobId: num0(r["job_id"]),
    externalId: String(r["external_id"]),
    status: r["status"] as RunStatus,
    scheduledFor: date(r["scheduled_for"]),
    startedAt: date(r["started_at"]),
    endedAt: date(r["ended_at"]),
    runAt: date(r["run_at"])!,
    durationMs: num(r["duration_ms"]),
    rows: num(r["rows"]),
    cpuSeconds: num(r["cpu_seconds"]),
    memoryMb: num(r["memory_mb"]),
    cost: num(r["cost"]),
    exitCode: num(r["exit_code"]),
    error: (r["error"] as string | null) ?? null,
    environment: (r["environment"] as string | null) ?? null,
  };
}

/**
 * The job's latest run by run_at (ties: the higher id), or null. Index: runs_job_run_at_idx,
 * read in index order so LIMIT 1 touches one entry (plus an incremental sort of equal
 * run_at values for the tie-breaker).
 *
 * The index is ascending (job_id, run_at): a backward scan supplies "ORDER BY run_at
 * DESC". (An index built DESC NULLS LAST could not serve a plain DESC, which means NULLS
 * FIRST: PostgreSQL would fetch and sort every run of the job — 0.06 ms → 12 ms at ~1,000
 * runs per job.) The plan test in test/db/queries.test.ts guards it.
 */
export async function latestRun(store: Store, jobId: number): Promise<RunRecord | null> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT ${RUN_COLUMNS} FROM runs r
        WHERE r.job_id = ${jobId}
        ORDER BY r.run_at DESC, r.id DESC
        LIMIT 1`,
  );
  return rows[0] ? toRun(rows[0]) : null;
}

/**
 * The job's runs with from ≤ run_at < to, newest first, at most `limit` of them.
 * Index: runs_job_run_at_idx (a range scan in index order, so LIMIT stops it early; see
 * latestRun for the index order).
 */
export async function runsInWindow(
  store: Store,
  jobId: number,
  from: Date,
  to: Date,
  limit = 1000,
): Promise<RunRecord[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT ${RUN_COLUMNS} FROM runs r
        WHERE r.job_id = ${jobId} AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}
        ORDER BY r.run_at DESC, r.id DESC
        LIMIT ${limit}`,
  );
  return rows.map(toRun);
}

// ---------------------------------------------------------------------------------------
// Datasets

export interface DatasetUpdateRecord {
  id: number;
  datasetId: number;
  updatedAt: Date;
  /** now − updatedAt, in milliseconds (now as passed, else the caller's clock). */
  ageMs: number;
  rows: number | null;
  bytes: number | null;
  schemaFingerprint: string | null;
  /** The fingerprint differs from the previous update's. */
  schemaChanged: boolean;
  runExternalId: string | null;
  runId: number | null;
}

/**
 * The dataset's latest update, or null. Index: dataset_updates_dataset_time_idx, in index
 * order (ties: the higher id; see latestRun for the index order).
 */
export async function latestDatasetUpdate(
  store: Store,
  datasetId: number,
  now: Date = new Date(),
): Promise<DatasetUpdateRecord | null> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT u.id::float8 AS id, u.dataset_id, ${ms("u.updated_at")} AS updated_at, u.rows::float8 AS rows,
          u.bytes::float8 AS bytes, u.schema_fingerprint, u.schema_changed, u.run_external_id,
          u.run_id::float8 AS run_id
        FROM dataset_updates u
        WHERE u.dataset_id = ${datasetId}
        ORDER BY u.updated_at DESC, u.id DESC
        LIMIT 1`,
  );
  const r = rows[0];
  if (!r) return null;
  const updatedAt = date(r["updated_at"])!;
  return {
    id: num0(r["id"]),
    datasetId: num0(r["dataset_id"]),
    updatedAt,
    ageMs: now.getTime() - updatedAt.getTime(),
    rows: num(r["rows"]),
    bytes: num(r["bytes"]),
    schemaFingerprint: (r["schema_fingerprint"] as string | null) ?? null,
    schemaChanged: r["schema_changed"] === true,
    runExternalId: (r["run_external_id"] as string | null) ?? null,
    runId: num(r["run_id"]),
  };
}

// ---------------------------------------------------------------------------------------
// Deploys

export interface DeployRecord {
  id: number;
  artifact: string;
  kind: DeployKind;
  version: string | null;
  environment: string | null;
  status: Exclude<DeployStatus, "success">;
  at: Date;
  project: string | null;
  tickets: string[];
}

/**
 * Deploys that failed or were rolled back with from ≤ at < to, newest first.
 * Index: deploys_failed_idx. The predicate is written exactly as the partial index's
 * (status <> 'success'); the status CHECK makes that "failed or rolled_back".
 */
export async function failedDeploys(
  store: Store,
  from: Date,
  to: Date,
  limit = 100,
): Promise<DeployRecord[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT d.id::float8 AS id, d.artifact, d.kind, d.version, d.environment, d.status,
          ${ms("d.at")} AS at, d.project, to_json(d.tickets) AS tickets
        FROM deploys d
        WHERE d.status <> 'success' AND d.at >= ${ts(from)} AND d.at < ${ts(to)}
        ORDER BY d.at DESC, d.id DESC
        LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    id: num0(r["id"]),
    artifact: String(r["artifact"]),
    kind: r["kind"] as DeployKind,
    version: (r["version"] as string | null) ?? null,
    environment: (r["environment"] as string | null) ?? null,
    status: r["status"] as Exclude<DeployStatus, "success">,
    at: date(r["at"])!,
    project: (r["project"] as string | null) ?? null,
    tickets: (r["tickets"] as string[] | null) ?? [],
  }));
}

// ---------------------------------------------------------------------------------------
// Rollup: fleet day and per-job series

export interface SlowJob {
  jobId: number;
  namespace: string;
  name: string;
  durationMaxMs: number;
  durationP50Ms: number | null;
  runs: number;
}

export interface FleetDayStats {
  day: string;
  /** Jobs with at least one run that day. */
  jobsRan: number;
  runs: number;
  successes: number;
  failures: number;
  /** Runs still running when the rollup was last computed. */
  running: number;
  durationTotalMs: number;
  rows: number;
  cpuSeconds: number;
  cost: number;
  /**
   * Percentiles over jobs of each job's median duration that day: every job counts once,
   * however often it ran. This is what the rollup can answer exactly. A fleet-wide
   * percentile of run durations cannot be derived from per-job percentiles (it would need
   * the raw runs, or a mergeable sketch per rollup row); for "how slow was the fleet", the
   * slow tail of typical runs (p95 of job medians) plus `slowest` is the honest answer.
   */
  jobMedianDurationP50Ms: number | null;
  jobMedianDurationP95Ms: number | null;
  /** The five jobs with the longest single run that day, longest first. */
  slowest: SlowJob[];
}

/**
 * Fleet-wide figures for one UTC day, read from the rollup (run_daily), never from runs.
 * Index: run_daily_day_idx (one day is ~one row per job), jobs_pkey for the five names.
 */
export async function fleetDayStats(store: Store, day: string): Promise<FleetDayStats> {
  checkDay(day, "day");
  const rows = await store.query<Record<string, unknown>>(
    sql`WITH d AS (
          SELECT job_id, runs, successes, failures, running, duration_p50_ms, duration_max_ms,
            duration_total_ms, rows, cpu_seconds, cost
          FROM run_daily WHERE day = ${day}::date
        )
        SELECT count(*)::int AS jobs_ran,
          coalesce(sum(runs), 0)::float8 AS runs,
          coalesce(sum(successes), 0)::float8 AS successes,
          coalesce(sum(failures), 0)::float8 AS failures,
          coalesce(sum(running), 0)::float8 AS running,
          coalesce(sum(duration_total_ms), 0)::float8 AS duration_total_ms,
          coalesce(sum(rows), 0)::float8 AS rows,
          coalesce(sum(cpu_seconds), 0)::float8 AS cpu_seconds,
          coalesce(sum(cost), 0)::float8 AS cost,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_p50_ms) AS job_p50_p50,
          percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_p50_ms) AS job_p50_p95,
          (SELECT coalesce(json_agg(json_build_object('job_id', s.job_id, 'namespace', j.namespace,
                     'name', j.name, 'duration_max_ms', s.duration_max_ms, 'duration_p50_ms', s.duration_p50_ms,
                     'runs', s.runs) ORDER BY s.duration_max_ms DESC, s.job_id), '[]'::json)
           -- the five first, then their names: five primary-key lookups, not a join of every job
           FROM (SELECT job_id, duration_max_ms, duration_p50_ms, runs FROM d
                 WHERE duration_max_ms IS NOT NULL
                 ORDER BY duration_max_ms DESC, job_id
                 LIMIT 5) s
           JOIN jobs j ON j.id = s.job_id) AS slowest
        FROM d`,
  );
  const r = rows[0] ?? {};
  const slowest = ((r["slowest"] as Record<string, unknown>[] | undefined) ?? []).map((s) => ({
    jobId: num0(s["job_id"]),
    namespace: String(s["namespace"]),
    name: String(s["name"]),
    durationMaxMs: num0(s["duration_max_ms"]),
    durationP50Ms: num(s["duration_p50_ms"]),
    runs: num0(s["runs"]),
  }));
  return {
    day,
    jobsRan: num0(r["jobs_ran"]),
    runs: num0(r["runs"]),
    successes: num0(r["successes"]),
    failures: num0(r["failures"]),
    running: num0(r["running"]),
    durationTotalMs: num0(r["duration_total_ms"]),
    rows: num0(r["rows"]),
    cpuSeconds: num0(r["cpu_seconds"]),
    cost: num0(r["cost"]),
    jobMedianDurationP50Ms: num(r["job_p50_p50"]),
    jobMedianDurationP95Ms: num(r["job_p50_p95"]),
    slowest,
  };
}

export interface JobDay {
  day: string;
  runs: number;
  successes: number;
  failures: number;
  running: number;
  durationP50Ms: number | null;
  durationP95Ms: number | null;
  durationMaxMs: number | null;
  durationTotalMs: number | null;
  rows: number | null;
  cpuSeconds: number | null;
  memoryMbMax: number | null;
  cost: number | null;
  firstRunAt: Date | null;
  lastRunAt: Date | null;
}

/**
 * One entry per UTC day from fromDay to toDay inclusive, oldest first; a day without runs
 * is present with runs = 0 and null figures, so a series can be charted as is.
 * Index: run_daily's primary key (job_id, day).
 */
export async function jobDailySeries(
  store: Store,
  jobId: number,
  fromDay: string,
  toDay: string,
): Promise<JobDay[]> {
  checkDay(fromDay, "fromDay");
  checkDay(toDay, "toDay");
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT to_char(g.day, 'YYYY-MM-DD') AS day, coalesce(d.runs, 0) AS runs,
          coalesce(d.successes, 0) AS successes, coalesce(d.failures, 0) AS failures,
          coalesce(d.running, 0) AS running, d.duration_p50_ms, d.duration_p95_ms, d.duration_max_ms,
          d.duration_total_ms, d.rows::float8 AS rows, d.cpu_seconds, d.memory_mb_max, d.cost,
          ${ms("d.first_run_at")} AS first_run_at, ${ms("d.last_run_at")} AS last_run_at
        FROM (SELECT ${fromDay}::date + i AS day
              FROM generate_series(0, ${toDay}::date - ${fromDay}::date) AS i) g
        LEFT JOIN run_daily d ON d.job_id = ${jobId} AND d.day = g.day
        ORDER BY g.day`,
  );
  return rows.map((r) => ({
    day: String(r["day"]),
    runs: num0(r["runs"]),
    successes: num0(r["successes"]),
    failures: num0(r["failures"]),
    running: num0(r["running"]),
    durationP50Ms: num(r["duration_p50_ms"]),
    durationP95Ms: num(r["duration_p95_ms"]),
    durationMaxMs: num(r["duration_max_ms"]),
    durationTotalMs: num(r["duration_total_ms"]),
    rows: num(r["rows"]),
    cpuSeconds: num(r["cpu_seconds"]),
    memoryMbMax: num(r["memory_mb_max"]),
    cost: num(r["cost"]),
    firstRunAt: date(r["first_run_at"]),
    lastRunAt: date(r["last_run_at"]),
  }));
}

// ---------------------------------------------------------------------------------------
// Expected slots

export interface MissingRun {
  jobId: number;
  namespace: string;
  name: string;
  slotAt: Date;
  dueAt: Date;
}

/**
 * Expected slots still without a run whose due time (slot + grace) is in [since, now],
 * oldest due first, at most `limit`. Index: expected_runs_unmatched_due_idx (partial on
 * run_id IS NULL, so its size is the number of unmatched slots, not of all slots).
 */
export async function missingRuns(store: Store, now: Date, since: Date, limit = 1000): Promise<MissingRun[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT e.job_id, j.namespace, j.name, ${ms("e.slot_at")} AS slot_at, ${ms("e.due_at")} AS due_at
        FROM expected_runs e JOIN jobs j ON j.id = e.job_id
        WHERE e.run_id IS NULL AND e.due_at >= ${ts(since)} AND e.due_at <= ${ts(now)}
        ORDER BY e.due_at, e.job_id
        LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    jobId: num0(r["job_id"]),
    namespace: String(r["namespace"]),
    name: String(r["name"]),
    slotAt: date(r["slot_at"])!,
    dueAt: date(r["due_at"])!,
  }));
}

// ---------------------------------------------------------------------------------------
// Name lookup

export interface NamedRef {
  id: number;
  namespace: string;
  name: string;
}

/** Jobs with exactly this name, one per namespace, ordered by namespace. Index: jobs_name_idx. */
export async function findJobs(store: Store, name: string): Promise<NamedRef[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT id, namespace, name FROM jobs WHERE name = ${name} ORDER BY namespace`,
  );
  return rows.map((r) => ({ id: num0(r["id"]), namespace: String(r["namespace"]), name: String(r["name"]) }));
}

/** Datasets with exactly this name, one per namespace, ordered by namespace. Index: datasets_name_idx. */
export async function findDatasets(store: Store, name: string): Promise<NamedRef[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT id, namespace, name FROM datasets WHERE name = ${name} ORDER BY namespace`,
  );
  return rows.map((r) => ({ id: num0(r["id"]), namespace: String(r["namespace"]), name: String(r["name"]) }));
}

// ---------------------------------------------------------------------------------------
// Fleet-wide reads

/**
 * Runs fleet-wide read statements in one read-only transaction with JIT off and a larger
 * sort memory. These statements are thousands of cheap index probes or one sort of a day's
 * values: their estimated cost crosses jit_above_cost, and compiling them took longer than
 * running them (60–75 ms of a 150 ms answer at 10M runs); with the default 4 MB work_mem a
 * percentile over a busy day's durations spills to disk. SET LOCAL ends with the
 * transaction, so no pooled connection keeps the settings. The same on PGlite.
 */
export async function fleetRead<T>(
  store: Store,
  fn: (q: <R>(query: SQL) => Promise<R[]>) => Promise<T>,
): Promise<T> {
  return store.transaction(async (tx) => {
    await store.query(sql`SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`, tx);
    return fn(<R>(query: SQL) => store.query<R>(query, tx));
  });
}
