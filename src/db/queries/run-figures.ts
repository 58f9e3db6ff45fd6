// Figures of runs — how long, how often failed, what they cost, the CPU and memory they
// used, the rows they wrote — per job, or per group / environment / day, over a window.
// Shared by the measures in commands/ (duration, failure-rate, cost, resources, rows).
// Everything is aggregated in PostgreSQL (percentiles included), so a question over many
// runs costs the event loop one small result, never a loop over raw rows.
//
// One job's window is a range scan of runs_job_run_at_idx; a group's or the fleet's a scan
// of the window (runs_run_at_brin). Windows are instants, not UTC days, so a "yesterday" in
// Berlin is exactly that day, which the day rollup could not give.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { ts } from "../sql.ts";
import { envIn } from "../../questions/scope.ts";

/** Which runs: one job, a group's, an owner's, or the fleet's; optionally one environment. */
export interface RunScope {
  job?: string;
  group?: string;
  owner?: string;
  environment?: string;
}

/** What the figures are split by: each job, or a wider key. */
export type FigureKey = "job" | "group" | "environment" | "day" | "owner";

export interface Figures {
  /** The job, group, environment, owner, or UTC day ("YYYY-MM-DD"); "(none)" when unset. */
  key: string;
  runs: number;
  failures: number;
  successes: number;
  /** Runs still going (not yet a success or a failure). */
  running: number;
  /** Runs with a start and an end (the duration figures are over these). */
  timed: number;
  durationLastMs: number | null;
  durationMedianMs: number | null;
  durationP95Ms: number | null;
  durationMaxMs: number | null;
  durationTotalMs: number | null;
  /** Runs that reported a cost, and the figures over them. */
  costed: number;
  costTotal: number | null;
  costLast: number | null;
  costMax: number | null;
  costMedian: number | null;
  cpuTotal: number | null;
  cpuLast: number | null;
  cpuMax: number | null;
  cpuMedian: number | null;
  memoryMaxMb: number | null;
  memoryLastMb: number | null;
  memoryMedianMb: number | null;
  rowsTotal: number | null;
  rowsLast: number | null;
  rowsMedian: number | null;
  /** When the latest run of the group ran (epoch ms). */
  lastRunAt: Date | null;
}

const KEY_SQL: Record<FigureKey, SQL> = {
  job: sql`j.name`,
  group: sql`coalesce(j.group_name, '(none)')`,
  owner: sql`coalesce(j.owner, '(none)')`,
  environment: sql`coalesce(lower(coalesce(r.environment, j.environment)), '(none)')`,
  day: sql`to_char(r.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

function where(scope: RunScope, from: Date, to: Date): SQL {
  const parts: SQL[] = [sql`r.run_at >= ${ts(from)}`, sql`r.run_at < ${ts(to)}`];
  if (scope.job !== undefined) parts.push(sql`j.name = ${scope.job}`);
  if (scope.group !== undefined) parts.push(sql`j.group_name = ${scope.group}`);
  if (scope.owner !== undefined) parts.push(sql`j.owner = ${scope.owner}`);
  if (scope.environment !== undefined)
    parts.push(envIn(sql`coalesce(r.environment, j.environment)`, scope.environment));
  return sql.join(parts, sql` AND `);
}

/** The latest non-null value of a column, by run time. */
const last = (col: string): SQL =>
  sql.raw(`(array_agg(${col} ORDER BY r.run_at DESC) FILTER (WHERE ${col} IS NOT NULL))[1]`);
const median = (col: string): SQL => sql.raw(`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${col})`);

interface Row {
  key: string;
  runs: number;
  failures: number;
  successes: number;
  running: number;
  timed: number;
  d_last: unknown;
  d_med: unknown;
  d_p95: unknown;
  d_max: unknown;
  d_sum: unknown;
  costed: number;
  c_sum: unknown;
  c_last: unknown;
  c_max: unknown;
  c_med: unknown;
  cpu_sum: unknown;
  cpu_last: unknown;
  cpu_max: unknown;
  cpu_med: unknown;
  m_max: unknown;
  m_last: unknown;
  m_med: unknown;
  r_sum: unknown;
  r_last: unknown;
  r_med: unknown;
  last_ms: unknown;
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === "number" ? v : Number(v);
}

// The figures of a set of runs, as one SELECT list (aggregates only).
const FIGURES = sql`
  count(*)::int AS runs,
  count(*) FILTER (WHERE r.status = 'failed')::int AS failures,
  count(*) FILTER (WHERE r.status = 'success')::int AS successes,
  count(*) FILTER (WHERE r.status = 'running')::int AS running,
  count(r.duration_ms)::int AS timed,
  ${last("r.duration_ms")}::float8 AS d_last,
  ${median("r.duration_ms")}::float8 AS d_med,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS d_p95,
  max(r.duration_ms)::float8 AS d_max,
  sum(r.duration_ms)::float8 AS d_sum,
  count(r.cost)::int AS costed,
  sum(r.cost)::float8 AS c_sum, ${last("r.cost")}::float8 AS c_last, max(r.cost)::float8 AS c_max,
  ${median("r.cost")}::float8 AS c_med,
  sum(r.cpu_seconds)::float8 AS cpu_sum, ${last("r.cpu_seconds")}::float8 AS cpu_last,
  max(r.cpu_seconds)::float8 AS cpu_max, ${median("r.cpu_seconds")}::float8 AS cpu_med,
  max(r.memory_mb)::float8 AS m_max, ${last("r.memory_mb")}::float8 AS m_last,
  ${median("r.memory_mb")}::float8 AS m_med,
  sum(r.rows)::float8 AS r_sum, ${last("r.rows")}::float8 AS r_last, ${median("r.rows")}::float8 AS r_med,
  (extract(epoch from max(r.run_at)) * 1000)::float8 AS last_ms`;

function toFigures(r: Row): Figures {
  const lastMs = num(r.last_ms);
  return {
    key: r.key,
    runs: Number(r.runs),
    failures: Number(r.failures),
    successes: Number(r.successes),
    running: Number(r.running),
    timed: Number(r.timed),
    durationLastMs: num(r.d_last),
    durationMedianMs: num(r.d_med),
    durationP95Ms: num(r.d_p95),
    durationMaxMs: num(r.d_max),
    durationTotalMs: num(r.d_sum),
    costed: Number(r.costed),
    costTotal: num(r.c_sum),
    costLast: num(r.c_last),
    costMax: num(r.c_max),
    costMedian: num(r.c_med),
    cpuTotal: num(r.cpu_sum),
    cpuLast: num(r.cpu_last),
    cpuMax: num(r.cpu_max),
    cpuMedian: num(r.cpu_med),
    memoryMaxMb: num(r.m_max),
    memoryLastMb: num(r.m_last),
    memoryMedianMb: num(r.m_med),
    rowsTotal: num(r.r_sum),
    rowsLast: num(r.r_last),
    rowsMedian: num(r.r_med),
    lastRunAt: lastMs === null ? null : new Date(lastMs),
  };
}

/**
 * The figures of the runs in scope with run time in [from, to), one row per `key`
 * (default: per job), busiest first. Jobs without runs in the window have no row.
 */
export async function runFigures(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
  key: FigureKey = "job",
): Promise<Figures[]> {
  const rows = await store.query<Row>(sql`
    SELECT ${KEY_SQL[key]} AS key, ${FIGURES}
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE ${where(scope, from, to)}
    GROUP BY 1
    ORDER BY runs DESC, key`);
  return rows.map(toFigures);
}

/** The figures of every run in scope as one row, or undefined when there is none. */
export async function totalFigures(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
): Promise<Figures | undefined> {
  const rows = await store.query<Row>(sql`
    SELECT 'all' AS key, ${FIGURES}
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE ${where(scope, from, to)}
    HAVING count(*) > 0`);
  return rows[0] ? toFigures(rows[0]) : undefined;
}

// ---------------------------------------------------------------------------------------
// Sums over many jobs: the day rollup for whole UTC days, raw runs for the edges.

/** Options of the figure queries. */
export interface FigureOptions {
  /**
   * Only counts, sums and maxima are needed (no percentiles, no "last" values, no per-run
   * maximum cost): for a group's, an owner's or the fleet's figures the whole UTC days of
   * the window are then read from the run_daily rollup and only the partial days at its
   * edges from raw runs — exact, and some 15× faster over a week of a large fleet.
   * Ignored (raw runs) for one job and for environments, which the rollup does not split.
   */
  sumsOnly?: boolean;
}

const DAY_MS = 86_400_000;

interface DailyRow {
  key: string;
  runs: number;
  failures: number;
  successes: number;
  running: number;
  d_sum: unknown;
  d_max: unknown;
  c_sum: unknown;
  cpu_sum: unknown;
  m_max: unknown;
  r_sum: unknown;
  last_ms: unknown;
}

const DAILY_KEY: Record<Exclude<FigureKey, "environment">, SQL> = {
  job: sql`j.name`,
  group: sql`coalesce(j.group_name, '(none)')`,
  owner: sql`coalesce(j.owner, '(none)')`,
  day: sql`d.day::text`,
};

function usesRollup(
  scope: RunScope,
  key: FigureKey,
  opts: FigureOptions,
): key is Exclude<FigureKey, "environment"> {
  return (
    !!opts.sumsOnly && scope.job === undefined && scope.environment === undefined && key !== "environment"
  );
}

async function rollupDays(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
  key: Exclude<FigureKey, "environment">,
): Promise<Figures[]> {
  const parts: SQL[] = [
    sql`d.day >= ${from.toISOString().slice(0, 10)}::date`,
    sql`d.day < ${to.toISOString().slice(0, 10)}::date`,
  ];
  if (scope.group !== undefined) parts.push(sql`j.group_name = ${scope.group}`);
  if (scope.owner !== undefined) parts.push(sql`j.owner = ${scope.owner}`);
  const rows = await store.query<DailyRow>(sql`
    SELECT ${DAILY_KEY[key]} AS key, sum(d.runs)::int AS runs, sum(d.failures)::int AS failures,
      sum(d.successes)::int AS successes, sum(d.running)::int AS running,
      sum(d.duration_total_ms)::float8 AS d_sum, max(d.duration_max_ms)::float8 AS d_max,
      sum(d.cost)::float8 AS c_sum, sum(d.cpu_seconds)::float8 AS cpu_sum,
      max(d.memory_mb_max)::float8 AS m_max, sum(d.rows)::float8 AS r_sum,
      (extract(epoch from max(d.last_run_at)) * 1000)::float8 AS last_ms
    FROM run_daily d JOIN jobs j ON j.id = d.job_id
    WHERE ${sql.join(parts, sql` AND `)}
    GROUP BY 1`);
  return rows.map(fromDaily);
}

function fromDaily(r: DailyRow): Figures {
  const lastMs = num(r.last_ms);
  const runs = Number(r.runs);
  const running = Number(r.running);
  return {
    key: r.key,
    runs,
    failures: Number(r.failures),
    successes: Number(r.successes),
    running,
    timed: runs - running,
    durationLastMs: null,
    durationMedianMs: null,
    durationP95Ms: null,
    durationMaxMs: num(r.d_max),
    durationTotalMs: num(r.d_sum),
    costed: num(r.c_sum) === null ? 0 : runs,
    costTotal: num(r.c_sum),
    costLast: null,
    costMax: null,
    costMedian: null,
    cpuTotal: num(r.cpu_sum),
    cpuLast: null,
    cpuMax: null,
    cpuMedian: null,
    memoryMaxMb: num(r.m_max),
    memoryLastMb: null,
    memoryMedianMb: null,
    rowsTotal: num(r.r_sum),
    rowsLast: null,
    rowsMedian: null,
    lastRunAt: lastMs === null ? null : new Date(lastMs),
  };
}

const addNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);
const maxNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** Two sets of figures of the same key, as one: counts and sums added, maxima kept. */
function merge(a: Figures, b: Figures): Figures {
  return {
    key: a.key,
    runs: a.runs + b.runs,
    failures: a.failures + b.failures,
    successes: a.successes + b.successes,
    running: a.running + b.running,
    timed: a.timed + b.timed,
    durationLastMs: null,
    durationMedianMs: null,
    durationP95Ms: null,
    durationMaxMs: maxNull(a.durationMaxMs, b.durationMaxMs),
    durationTotalMs: addNull(a.durationTotalMs, b.durationTotalMs),
    costed: a.costed + b.costed,
    costTotal: addNull(a.costTotal, b.costTotal),
    costLast: null,
    costMax: null,
    costMedian: null,
    cpuTotal: addNull(a.cpuTotal, b.cpuTotal),
    cpuLast: null,
    cpuMax: null,
    cpuMedian: null,
    memoryMaxMb: maxNull(a.memoryMaxMb, b.memoryMaxMb),
    memoryLastMb: null,
    memoryMedianMb: null,
    rowsTotal: addNull(a.rowsTotal, b.rowsTotal),
    rowsLast: null,
    rowsMedian: null,
    lastRunAt:
      a.lastRunAt && b.lastRunAt
        ? a.lastRunAt > b.lastRunAt
          ? a.lastRunAt
          : b.lastRunAt
        : (a.lastRunAt ?? b.lastRunAt),
  };
}

/**
 * Counts, sums and maxima of many jobs' runs over [from, to), per key: whole UTC days from
 * the rollup, the partial days at the edges from raw runs. Falls back to `runFigures` when
 * the options or the scope need raw runs.
 */
export async function sumFigures(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
  key: FigureKey = "job",
  opts: FigureOptions = { sumsOnly: true },
): Promise<Figures[]> {
  if (!usesRollup(scope, key, opts)) return runFigures(store, scope, from, to, key);
  const d0 = new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS);
  const d1 = new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS);
  if (d1 <= d0) return runFigures(store, scope, from, to, key);
  const parts = await Promise.all([
    rollupDays(store, scope, d0, d1, key),
    from < d0 ? rawSums(store, scope, from, d0, key) : Promise.resolve([]),
    d1 < to ? rawSums(store, scope, d1, to, key) : Promise.resolve([]),
  ]);
  const byKey = new Map<string, Figures>();
  for (const f of parts.flat()) {
    const prev = byKey.get(f.key);
    // Every part is sums only (fromDaily): no percentile or "last" value to reset.
    byKey.set(f.key, prev ? merge(prev, f) : f);
  }
  return [...byKey.values()].sort((a, b) => b.runs - a.runs || (a.key < b.key ? -1 : 1));
}

/** The figures of all `rows` (a partition of some runs: per job, group, day…) as one row. */
export function totalOf(rows: Figures[]): Figures | undefined {
  return rows.length ? { ...rows.reduce((a, b) => merge(a, b)), key: "all" } : undefined;
}

// Counts, sums and maxima of raw runs: what the edges of a rollup window need, without the
// sorts that percentiles and "last" values cost.
const SUMS = sql`
  count(*)::int AS runs,
  count(*) FILTER (WHERE r.status = 'failed')::int AS failures,
  count(*) FILTER (WHERE r.status = 'success')::int AS successes,
  count(*) FILTER (WHERE r.status = 'running')::int AS running,
  sum(r.duration_ms)::float8 AS d_sum, max(r.duration_ms)::float8 AS d_max,
  sum(r.cost)::float8 AS c_sum, sum(r.cpu_seconds)::float8 AS cpu_sum,
  max(r.memory_mb)::float8 AS m_max, sum(r.rows)::float8 AS r_sum,
  (extract(epoch from max(r.run_at)) * 1000)::float8 AS last_ms`;

async function rawSums(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
  key: FigureKey,
): Promise<Figures[]> {
  const rows = await store.query<DailyRow>(sql`
    SELECT ${KEY_SQL[key]} AS key, ${SUMS}
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE ${where(scope, from, to)}
    GROUP BY 1`);
  return rows.map(fromDaily);
}

/**
 * A subject's figures as a whole and per key, in as few queries as the options allow: with
 * sums only, the rows come from sumFigures and the whole is their total (one query for
 * both); else the whole and the rows are read from raw runs side by side.
 */
export async function scopeFigures(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
  key: FigureKey,
  opts: FigureOptions = { sumsOnly: true },
): Promise<{ whole: Figures | undefined; rows: Figures[] }> {
  if (usesRollup(scope, key, opts)) {
    const rows = await sumFigures(store, scope, from, to, key, opts);
    return { whole: totalOf(rows), rows };
  }
  // Environments are not in the rollup: raw runs, but counts and sums only, when that is
  // all that is needed.
  if (opts.sumsOnly && scope.job === undefined) {
    const rows = await rawSums(store, scope, from, to, key);
    return { whole: totalOf(rows), rows };
  }
  const [whole, rows] = await Promise.all([
    totalFigures(store, scope, from, to),
    runFigures(store, scope, from, to, key),
  ]);
  return { whole, rows };
}

/** A figure of each run that can be drawn as a series ("last 14 runs"). */
export type RunSeriesColumn = "duration_ms" | "cost" | "cpu_seconds" | "memory_mb" | "rows";

/**
 * One figure of the latest `limit` runs of one job with run time in [from, to) that have it,
 * oldest first: a backward range scan of runs_job_run_at_idx, stopping after `limit` rows.
 */
export async function recentRunValues(
  store: Store,
  scope: RunScope & { job: string },
  from: Date,
  to: Date,
  column: RunSeriesColumn,
  limit = 14,
): Promise<number[]> {
  const rows = await store.query<{ v: unknown }>(sql`
    SELECT v FROM (
      SELECT ${sql.raw(`r.${column}`)}::float8 AS v, r.run_at
      FROM runs r JOIN jobs j ON j.id = r.job_id
      WHERE ${where(scope, from, to)} AND ${sql.raw(`r.${column}`)} IS NOT NULL
      ORDER BY r.run_at DESC LIMIT ${limit}
    ) s ORDER BY run_at`);
  return rows.map((r) => Number(r.v));
}
