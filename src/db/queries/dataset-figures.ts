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
