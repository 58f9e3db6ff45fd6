// Figures of a dataset's updates over a window: how many, the rows they wrote (total, last,
// median). One range scan of dataset_updates_dataset_time_idx.
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { ts } from "../sql.ts";

export interface UpdateFigures {
  updates: number;
  /** Updates that reported a row count, and the figures over them. */
  counted: number;
  rowsTotal: number | null;
  rowsLast: number | null;
  rowsMedian: number | null;
  lastUpdateAt: Date | null;
}

interface Row {
  updates: number;
  counted: number;
  r_sum: unknown;
  r_last: unknown;
  r_med: unknown;
  last_ms: unknown;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The updates of the dataset named `name` with update time in [from, to). */
export async function datasetUpdateFigures(
  store: Store,
  name: string,
  from: Date,
  to: Date,
): Promise<UpdateFigures> {
  const rows = await store.query<Row>(sql`
    SELECT count(*)::int AS updates, count(u.rows)::int AS counted,
      sum(u.rows)::float8 AS r_sum,
      ((array_agg(u.rows ORDER BY u.updated_at DESC) FILTER (WHERE u.rows IS NOT NULL))[1])::float8 AS r_last,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY u.rows)::float8 AS r_med,
      (extract(epoch from max(u.updated_at)) * 1000)::float8 AS last_ms
    FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
    WHERE d.name = ${name} AND u.updated_at >= ${ts(from)} AND u.updated_at < ${ts(to)}`);
  const r = rows[0]!;
  const lastMs = num(r.last_ms);
  return {
    updates: Number(r.updates),
    counted: Number(r.counted),
    rowsTotal: num(r.r_sum),
    rowsLast: num(r.r_last),
    rowsMedian: num(r.r_med),
    lastUpdateAt: lastMs === null ? null : new Date(lastMs),
  };
}

/** The stored datasets called `name`, one per namespace (a table several producers name). */
export async function datasetsCalled(
  store: Store,
  name: string,
): Promise<{ namespace: string; name: string }[]> {
  return store.query<{ namespace: string; name: string }>(sql`
    SELECT namespace, name FROM datasets WHERE name = ${name} ORDER BY namespace`);
}

export interface DatasetUpdate {
  namespace: string;
  at: Date;
  rows: number | null;
  schemaChanged: boolean;
  /** Time since the update before it (of the same dataset and namespace); null for the first. */
  gapMs: number | null;
}

interface UpdateRow {
  namespace: string;
  at_ms: unknown;
  rows: unknown;
  schema_changed: boolean;
  gap_ms: unknown;
}

/**
 * The latest `limit` updates of the datasets called `name` with update time in [from, to),
 * newest first, each with the gap since the update before it (looked up one row further
 * back, so the oldest one shown has its gap too), and the usual gap: the median gap of
 * the 30 days before `to`.
 */
export async function datasetUpdateHistory(
  store: Store,
  name: string,
  opts: { from: Date; to: Date; limit: number },
): Promise<{ updates: DatasetUpdate[]; usualGapMs: number | null }> {
  const rows = await store.query<UpdateRow>(sql`
    SELECT x.namespace, x.at_ms, x.rows, x.schema_changed, x.gap_ms FROM (
      SELECT d.namespace, (extract(epoch from u.updated_at) * 1000)::float8 AS at_ms, u.rows::float8 AS rows,
        u.schema_changed,
        (extract(epoch from u.updated_at - lag(u.updated_at) OVER (PARTITION BY u.dataset_id ORDER BY u.updated_at)) * 1000)::float8 AS gap_ms,
        u.updated_at
      FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
      WHERE d.name = ${name} AND u.updated_at < ${ts(opts.to)}
    ) x
    WHERE x.updated_at >= ${ts(opts.from)}
    ORDER BY x.updated_at DESC
    LIMIT ${opts.limit}`);
  const [usual] = await store.query<{ gap: unknown }>(sql`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY g)::float8 AS gap FROM (
      SELECT (extract(epoch from u.updated_at - lag(u.updated_at) OVER (PARTITION BY u.dataset_id ORDER BY u.updated_at)) * 1000) AS g
      FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
      WHERE d.name = ${name} AND u.updated_at < ${ts(opts.to)} AND u.updated_at >= ${ts(new Date(opts.to.getTime() - 30 * 86_400_000))}
    ) s WHERE g IS NOT NULL`);
  return {
    updates: rows.map((r) => ({
      namespace: r.namespace,
      at: new Date(Number(r.at_ms)),
      rows: num(r.rows),
      schemaChanged: r.schema_changed,
      gapMs: num(r.gap_ms),
    })),
    usualGapMs: num(usual?.gap),
  };
}
