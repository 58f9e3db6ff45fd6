// The latest run of each job in scope, optionally of one status: "when did X last run /
// succeed / fail". One backward index scan per job (runs_job_run_at_idx), so a group of
// jobs costs a few index pages each, whatever the history's size.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { envIn } from "../../questions/scope.ts";
import { ts } from "../sql.ts";
import type { RunScope } from "./run-figures.ts";

export interface LastRun {
  job: string;
  status: string;
  startedAt: Date | null;
  endedAt: Date | null;
  runAt: Date;
  durationMs: number | null;
  error: string | null;
  environment: string | null;
}

interface Row {
  job: string;
  status: string;
  started_ms: unknown;
  ended_ms: unknown;
  run_ms: unknown;
  duration_ms: unknown;
  error: string | null;
  environment: string | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const date = (v: unknown): Date | null => (num(v) === null ? null : new Date(num(v)!));

/**
 * The latest run (with run time in [from, to) when given) of each job in scope whose
 * status is `status` (any status when undefined), latest first. Jobs without such a run
 * are left out.
 */
export async function lastRuns(
  store: Store,
  scope: RunScope,
  opts: { status?: "success" | "failed"; from?: Date; to?: Date } = {},
): Promise<LastRun[]> {
  const jobWhere: SQL[] = [sql`true`];
  if (scope.job !== undefined) jobWhere.push(sql`j.name = ${scope.job}`);
  if (scope.group !== undefined) jobWhere.push(sql`j.group_name = ${scope.group}`);
  if (scope.owner !== undefined) jobWhere.push(sql`j.owner = ${scope.owner}`);
  const runWhere: SQL[] = [sql`r.job_id = j.id`];
  if (opts.status) runWhere.push(sql`r.status = ${opts.status}`);
  if (opts.from) runWhere.push(sql`r.run_at >= ${ts(opts.from)}`);
  if (opts.to) runWhere.push(sql`r.run_at < ${ts(opts.to)}`);
  if (scope.environment !== undefined)
    runWhere.push(envIn(sql`coalesce(r.environment, j.environment)`, scope.environment));
  const rows = await store.query<Row>(sql`
    SELECT j.name AS job, l.status,
      (extract(epoch from l.started_at) * 1000)::float8 AS started_ms,
      (extract(epoch from l.ended_at) * 1000)::float8 AS ended_ms,
      (extract(epoch from l.run_at) * 1000)::float8 AS run_ms,
      l.duration_ms::float8 AS duration_ms, l.error, l.environment
    FROM jobs j
    CROSS JOIN LATERAL (
      SELECT r.status, r.started_at, r.ended_at, r.run_at, r.duration_ms, r.error,
        coalesce(r.environment, j.environment) AS environment
      FROM runs r
      WHERE ${sql.join(runWhere, sql` AND `)}
      ORDER BY r.run_at DESC
      LIMIT 1
    ) l
    WHERE ${sql.join(jobWhere, sql` AND `)}
    ORDER BY l.run_at DESC, j.name`);
  return rows.map((r) => ({
    job: r.job,
    status: r.status,
    startedAt: date(r.started_ms),
    endedAt: date(r.ended_ms),
    runAt: date(r.run_ms)!,
    durationMs: num(r.duration_ms),
    error: r.error,
    environment: r.environment,
  }));
}
