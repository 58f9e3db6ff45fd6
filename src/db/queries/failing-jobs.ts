// Which jobs and pipelines failed most over whole UTC days, from the daily rollup
// (run_daily), so a 30-day fleet-wide ranking never reads raw runs; and the flips (success
// ↔ failure switches) of a few jobs from their raw runs, each scan bounded by job and run_at.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { json, ts } from "../sql.ts";

/** Whose runs: optionally one environment (as stored on the job) and one group. */
export interface FailureScope {
  environment?: string;
  group?: string;
}

export interface JobFailures {
  id: number;
  name: string;
  group: string | null;
  owner: string | null;
  runs: number;
  failures: number;
}

export interface FailureTotals {
  runs: number;
  failures: number;
  /** Jobs that ran. */
  jobs: number;
}

const scoped = (s: FailureScope): SQL =>
  sql`${s.environment ? sql`AND j.environment = ${s.environment}` : sql``} ${s.group ? sql`AND j.group_name = ${s.group}` : sql``}`;

/**
 * Runs, failures and jobs of the UTC days [fromDay, toDay] (YYYY-MM-DD, both included), and
 * the jobs that failed: most failures first, then the highest share, then by name.
 */
export async function failingJobs(
  store: Store,
  scope: FailureScope,
  fromDay: string,
  toDay: string,
): Promise<{ totals: FailureTotals; jobs: JobFailures[] }> {
  const rows = await store.query<{
    job_id: number | null;
    name: string | null;
    group_name: string | null;
    owner: string | null;
    runs: number | null;
    failures: number | null;
    total_runs: number;
    total_failures: number;
    total_jobs: number;
  }>(
    // Joined to jobs only when a group or environment narrows the ranking: unfiltered, the
    // window's rollup rows (5,000 a day) are summed per job before any join.
    sql`WITH per AS (
          SELECT d.job_id, sum(d.runs)::int AS runs, sum(d.failures)::int AS failures
          FROM run_daily d ${scope.environment || scope.group ? sql`JOIN jobs j ON j.id = d.job_id` : sql``}
          WHERE d.day >= ${fromDay}::date AND d.day <= ${toDay}::date ${scoped(scope)}
          GROUP BY d.job_id
        ),
        tot AS (
          SELECT coalesce(sum(runs), 0)::int AS total_runs, coalesce(sum(failures), 0)::int AS total_failures,
            count(*)::int AS total_jobs
          FROM per
        )
        SELECT tot.total_runs, tot.total_failures, tot.total_jobs, f.job_id, f.name, f.group_name, f.owner,
          f.runs, f.failures
        FROM tot LEFT JOIN LATERAL (
          SELECT per.job_id, j.name, j.group_name, j.owner, per.runs, per.failures
          FROM per JOIN jobs j ON j.id = per.job_id
          WHERE per.failures > 0
        ) f ON true
        ORDER BY f.failures DESC NULLS LAST, f.failures::float8 / greatest(f.runs, 1) DESC, f.name`,
  );
  const t = rows[0];
  return {
    totals: {
      runs: Number(t?.total_runs ?? 0),
      failures: Number(t?.total_failures ?? 0),
      jobs: Number(t?.total_jobs ?? 0),
    },
    jobs: rows
      .filter((r) => r.job_id !== null)
      .map((r) => ({
        id: Number(r.job_id),
        name: r.name!,
        group: r.group_name,
        owner: r.owner,
        runs: Number(r.runs ?? 0),
        failures: Number(r.failures ?? 0),
      })),
  };
}

export interface GroupFailures {
  group: string;
  runs: number;
  failures: number;
  jobs: number;
}

/**
 * The groups that failed in the UTC days [fromDay, toDay]: per job first, then per group,
 * so "jobs" is a plain count and both steps hash instead of sorting the window's rows by
 * group name. Most failures first, then the highest share, then by name.
 */
export async function failingGroups(
  store: Store,
  scope: FailureScope,
  fromDay: string,
  toDay: string,
): Promise<GroupFailures[]> {
  const rows = await store.query<{ group_name: string; runs: number; failures: number; jobs: number }>(
    sql`SELECT j.group_name, sum(p.runs)::int AS runs, sum(p.failures)::int AS failures,
          count(*)::int AS jobs
        FROM (SELECT d.job_id, sum(d.runs)::int AS runs, sum(d.failures)::int AS failures
              FROM run_daily d
              WHERE d.day >= ${fromDay}::date AND d.day <= ${toDay}::date
              GROUP BY d.job_id) p
        JOIN jobs j ON j.id = p.job_id
        WHERE j.group_name IS NOT NULL ${scoped(scope)}
        GROUP BY j.group_name
        HAVING sum(p.failures) > 0
        ORDER BY sum(p.failures) DESC, sum(p.failures)::float8 / greatest(sum(p.runs), 1) DESC, j.group_name`,
  );
  return rows.map((r) => ({
    group: r.group_name,
    runs: Number(r.runs),
    failures: Number(r.failures),
    jobs: Number(r.jobs),
  }));
}

export interface JobFlips {
  jobId: number;
  /** Runs whose status differs from the job's previous run's (success ↔ failed). */
  flips: number;
  /** The latest 14 statuses, newest first. */
  recent: string[];
}

/** Flips of each of the jobs over their successful and failed runs in [from, to). */
export async function jobFlips(store: Store, jobIds: number[], from: Date, to: Date): Promise<JobFlips[]> {
  const rows = await store.query<{ job_id: number; flips: number; recent: string[] | null }>(
    sql`SELECT s.job_id, count(*) FILTER (WHERE s.prev IS NOT NULL AND s.prev <> s.status)::int AS flips,
          (array_agg(s.status ORDER BY s.run_at DESC, s.id DESC))[1:14] AS recent
        FROM (
          SELECT r.job_id, r.id, r.run_at, r.status,
            lag(r.status) OVER (PARTITION BY r.job_id ORDER BY r.run_at, r.id) AS prev
          FROM runs r
          WHERE r.job_id IN (SELECT (jsonb_array_elements_text(${json(jobIds)}))::int)
            AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}
            AND r.status IN ('success', 'failed')
        ) s
        GROUP BY s.job_id`,
  );
  return rows.map((r) => ({ jobId: Number(r.job_id), flips: Number(r.flips), recent: r.recent ?? [] }));
}
