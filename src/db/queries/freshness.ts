// What freshness is judged on: each dataset's latest updates (up to PACE_UPDATES, newest
// first) as of an instant, its SLA, and the job behind its latest update that came from a
// run; and, for "is the data behind job J fresh", J's group and the jobs of that group that
// ran before J. Each dataset costs two short backward scans of
// dataset_updates (dataset_id, updated_at).
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { json, ts } from "../sql.ts";

/** Updates read for a dataset's usual pace: 15 updates give 14 gaps. */
export const PACE_UPDATES = 15;

export interface DatasetUpdates {
  namespace: string;
  name: string;
  owner: string | null;
  /** The freshness SLA, when declared. */
  maxAgeSeconds: number | null;
  /** Update times up to the instant asked, newest first (at most PACE_UPDATES). */
  recent: Date[];
  /** The job of the run behind the latest update that came from a run, and that run's environment. */
  writer: string | null;
  writerEnv: string | null;
}

/** Which datasets: one name (every namespace), those written by some jobs or by a group's jobs, or all. */
export type DatasetFilter =
  { name: string } | { writerIds: number[] } | { writerGroup: string } | Record<string, never>;

interface Row {
  namespace: string;
  name: string;
  owner: string | null;
  max_age_seconds: number | null;
  recent: string[] | null;
  writer: string | null;
  writer_env: string | null;
}

/** The datasets of `filter` as of `asOf`, by name then namespace. */
export async function datasetUpdates(
  store: Store,
  filter: DatasetFilter,
  asOf: Date,
): Promise<DatasetUpdates[]> {
  const where =
    "name" in filter
      ? sql`d.name = ${filter.name}`
      : "writerIds" in filter
        ? sql`w.writer_id IN (SELECT (jsonb_array_elements_text(${json(filter.writerIds)}))::int)`
        : "writerGroup" in filter
          ? sql`w.writer_id IN (SELECT j.id FROM jobs j WHERE j.group_name = ${filter.writerGroup})`
          : sql`true`;
  const rows = await store.query<Row>(
    sql`SELECT d.namespace, d.name, d.owner, d.max_age_seconds::int AS max_age_seconds,
          ARRAY(SELECT u.updated_at::text FROM dataset_updates u
                WHERE u.dataset_id = d.id AND u.updated_at <= ${ts(asOf)}
                ORDER BY u.updated_at DESC LIMIT ${PACE_UPDATES}) AS recent,
          w.writer, w.writer_env
        FROM datasets d
        LEFT JOIN LATERAL (
          SELECT j.id AS writer_id, j.name AS writer, r.environment AS writer_env
          FROM dataset_updates u JOIN runs r ON r.id = u.run_id JOIN jobs j ON j.id = r.job_id
          WHERE u.dataset_id = d.id AND u.run_id IS NOT NULL AND u.updated_at <= ${ts(asOf)}
          ORDER BY u.updated_at DESC LIMIT 1) w ON true
        WHERE ${where}
        ORDER BY d.name, d.namespace`,
  );
  return rows.map((r) => ({
    namespace: r.namespace,
    name: r.name,
    owner: r.owner,
    maxAgeSeconds: r.max_age_seconds === null ? null : Number(r.max_age_seconds),
    recent: (r.recent ?? []).map((t) => new Date(t)),
    writer: r.writer,
    writerEnv: r.writer_env,
  }));
}

export interface LineageJob {
  id: number;
  group: string | null;
  environment: string | null;
  /** Its schedule's time zone, when it has a schedule. */
  timezone: string | null;
}

/** The job named `name`, its copy in `environment` first (prod when none is asked). */
export async function lineageJob(
  store: Store,
  name: string,
  environment: string | undefined,
): Promise<LineageJob | undefined> {
  const rows = await store.query<{
    id: number;
    group_name: string | null;
    environment: string | null;
    tz: string | null;
  }>(
    sql`SELECT j.id, j.group_name, j.environment, s.timezone AS tz
        FROM jobs j LEFT JOIN job_schedules s ON s.job_id = j.id
        WHERE j.name = ${name}
        ORDER BY (j.environment = ${environment ?? "prod"}) DESC NULLS LAST, j.id LIMIT 1`,
  );
  const r = rows[0];
  return r && { id: Number(r.id), group: r.group_name, environment: r.environment, timezone: r.tz };
}

/** When the job last ran at or before `asOf`. */
export async function lastRunAt(store: Store, jobId: number, asOf: Date): Promise<Date | undefined> {
  const rows = await store.query<{ run_at: string }>(
    sql`SELECT r.run_at::text FROM runs r WHERE r.job_id = ${jobId} AND r.run_at <= ${ts(asOf)}
        ORDER BY r.run_at DESC LIMIT 1`,
  );
  return rows[0] ? new Date(rows[0].run_at) : undefined;
}

/** The other jobs of `job`'s group, in its environment, that ran in [from, to). */
export async function groupJobsRanBetween(
  store: Store,
  job: LineageJob & { group: string },
  from: Date,
  to: Date,
): Promise<number[]> {
  const rows = await store.query<{ job_id: number }>(
    sql`SELECT DISTINCT r.job_id FROM runs r
        WHERE r.job_id IN (SELECT j.id FROM jobs j WHERE j.group_name = ${job.group}
                             AND j.environment IS NOT DISTINCT FROM ${job.environment} AND j.id <> ${job.id})
          AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}`,
  );
  return rows.map((r) => Number(r.job_id));
}
