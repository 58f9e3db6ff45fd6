// Bad records: what runs and dataset updates reported rejecting (`bad_records`), summed per
// job (or group, environment, day, owner) over a window, with the rows written beside them
// so a rate can be given. Only runs that report bad_records count towards the rate: a job
// that never says how many it rejected has no rate, not a rate of zero.
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { ts } from "../sql.ts";
import { envIn } from "../../questions/scope.ts";
import type { FigureKey, RunScope } from "./run-figures.ts";

export interface BadRecordFigures {
  key: string;
  runs: number;
  /** Runs that reported a bad_records figure (zero included). */
  reporting: number;
  bad: number;
  /** Rows written by the reporting runs (the rate's other side). */
  rows: number;
  /** The latest reporting run's figure and when it ran. */
  lastBad: number | null;
  lastAt: Date | null;
}

const KEY: Record<FigureKey, ReturnType<typeof sql>> = {
  job: sql`j.name`,
  group: sql`coalesce(j.group_name, '(none)')`,
  owner: sql`coalesce(j.owner, '(none)')`,
  environment: sql`coalesce(lower(coalesce(r.environment, j.environment)), '(none)')`,
  day: sql`to_char(r.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

interface Row {
  key: string;
  runs: number;
  reporting: number;
  bad: unknown;
  rows: unknown;
  last_bad: unknown;
  last_ms: unknown;
}

const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Bad records of the runs in scope with run time in [from, to), per key, most rejected first. */
export async function runBadRecords(
  store: Store,
  scope: RunScope,
  from: Date,
  to: Date,
  key: FigureKey | "all" = "job",
): Promise<BadRecordFigures[]> {
  const where = [sql`r.run_at >= ${ts(from)}`, sql`r.run_at < ${ts(to)}`];
  if (scope.job !== undefined) where.push(sql`j.name = ${scope.job}`);
  if (scope.group !== undefined) where.push(sql`j.group_name = ${scope.group}`);
  if (scope.owner !== undefined) where.push(sql`j.owner = ${scope.owner}`);
  if (scope.environment !== undefined)
    where.push(envIn(sql`coalesce(r.environment, j.environment)`, scope.environment));
  const rows = await store.query<Row>(sql`
    SELECT ${key === "all" ? sql`'all'` : KEY[key]} AS key, count(*)::int AS runs,
      count(r.bad_records)::int AS reporting,
      coalesce(sum(r.bad_records), 0)::float8 AS bad,
      coalesce(sum(r.rows) FILTER (WHERE r.bad_records IS NOT NULL), 0)::float8 AS rows,
      (array_agg(r.bad_records ORDER BY r.run_at DESC) FILTER (WHERE r.bad_records IS NOT NULL))[1]::float8 AS last_bad,
      (extract(epoch from max(r.run_at) FILTER (WHERE r.bad_records IS NOT NULL)) * 1000)::float8 AS last_ms
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE ${sql.join(where, sql` AND `)}
    GROUP BY 1
    ORDER BY bad DESC, key`);
  return rows.map((r) => ({
    key: r.key,
    runs: Number(r.runs),
    reporting: Number(r.reporting),
    bad: Number(r.bad),
    rows: Number(r.rows),
    lastBad: n(r.last_bad),
    lastAt: n(r.last_ms) === null ? null : new Date(n(r.last_ms)!),
  }));
}

/** Bad records of a dataset's updates (any namespace) in [from, to), as one figure. */
export async function datasetBadRecords(
  store: Store,
  name: string,
  from: Date,
  to: Date,
): Promise<BadRecordFigures> {
  const [r] = await store.query<Row>(sql`
    SELECT ${name} AS key, count(*)::int AS runs, count(u.bad_records)::int AS reporting,
      coalesce(sum(u.bad_records), 0)::float8 AS bad,
      coalesce(sum(u.rows) FILTER (WHERE u.bad_records IS NOT NULL), 0)::float8 AS rows,
      (array_agg(u.bad_records ORDER BY u.updated_at DESC) FILTER (WHERE u.bad_records IS NOT NULL))[1]::float8 AS last_bad,
      (extract(epoch from max(u.updated_at) FILTER (WHERE u.bad_records IS NOT NULL)) * 1000)::float8 AS last_ms
    FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
    WHERE d.name = ${name} AND u.updated_at >= ${ts(from)} AND u.updated_at < ${ts(to)}`);
  return {
    key: name,
    runs: Number(r?.runs ?? 0),
    reporting: Number(r?.reporting ?? 0),
    bad: Number(r?.bad ?? 0),
    rows: Number(r?.rows ?? 0),
    lastBad: n(r?.last_bad),
    lastAt: n(r?.last_ms) === null ? null : new Date(n(r?.last_ms)!),
  };
}
