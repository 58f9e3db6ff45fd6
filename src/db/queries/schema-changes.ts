// Schema changes: dataset updates whose schema fingerprint differs from the previous
// update's (dataset_updates.schema_changed, set at ingest), with the columns before and
// after, and the run and job that produced them. Per dataset, an index range scan of its
// updates in the period (dataset_updates_dataset_time_idx); the producing run by primary
// key; the previous schema by the same index, one row.
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { ts } from "../sql.ts";

export interface SchemaField {
  name: string;
  type?: string;
}

export interface SchemaChangeRow {
  namespace: string;
  name: string;
  at: Date;
  fields: SchemaField[];
  /** The schema of the dataset's previous update that had one; empty when none did. */
  before: SchemaField[];
  /** The producing run's environment, its job's, and the job. */
  runEnv: string | null;
  jobEnv: string | null;
  job: string | null;
}

interface Row {
  namespace: string;
  name: string;
  updated_at: string;
  fields: unknown;
  prev_fields: unknown;
  run_env: string | null;
  job_env: string | null;
  job: string | null;
}

function fieldList(v: unknown): SchemaField[] {
  if (!Array.isArray(v)) return [];
  return v.filter((f): f is SchemaField => typeof f === "object" && f !== null && typeof f.name === "string");
}

/** The schema changes in [from, to), of one dataset (every namespace) or all, newest first, at most `limit`. */
export async function schemaChanges(
  store: Store,
  opts: { from: Date; to: Date; dataset?: string; limit: number },
): Promise<SchemaChangeRow[]> {
  const rows = await store.query<Row>(
    sql`SELECT d.namespace, d.name, u.updated_at::text AS updated_at, u.schema_fields AS fields,
          prev.schema_fields AS prev_fields, r.environment AS run_env, j.environment AS job_env, j.name AS job
        FROM datasets d
        CROSS JOIN LATERAL (
          SELECT x.updated_at, x.schema_fields, x.run_id FROM dataset_updates x
          WHERE x.dataset_id = d.id AND x.updated_at >= ${ts(opts.from)} AND x.updated_at < ${ts(opts.to)}
            AND x.schema_changed) u
        LEFT JOIN runs r ON r.id = u.run_id
        LEFT JOIN jobs j ON j.id = r.job_id
        LEFT JOIN LATERAL (
          SELECT p.schema_fields FROM dataset_updates p
          WHERE p.dataset_id = d.id AND p.updated_at < u.updated_at AND p.schema_fingerprint IS NOT NULL
          ORDER BY p.updated_at DESC LIMIT 1) prev ON true
        ${opts.dataset !== undefined ? sql`WHERE d.name = ${opts.dataset}` : sql``}
        ORDER BY u.updated_at DESC, d.namespace, d.name
        LIMIT ${opts.limit}`,
  );
  return rows.map((r) => ({
    namespace: r.namespace,
    name: r.name,
    at: new Date(r.updated_at),
    fields: fieldList(r.fields),
    before: fieldList(r.prev_fields),
    runEnv: r.run_env,
    jobEnv: r.job_env,
    job: r.job,
  }));
}
