// Did failures start after a deploy? The deploys of what a job or pipeline is built from,
// and the failures of its jobs in equal spans before and after each. Which deploys belong to
// which jobs is read from names, as Houston has no other link: a pipeline deploy's artifact
// is the group's name (finance_close), a model's or a job's is the job's own name without
// its group (dim_customers for orders_daily.dim_customers).
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { json, ts } from "../sql.ts";
import { envIn } from "../../questions/scope.ts";

export interface DeployAt {
  artifact: string;
  kind: string;
  version: string | null;
  environment: string | null;
  at: Date;
}

/** The jobs a job, group or artifact name stands for, and the artifacts whose deploys count. */
export async function deployScope(
  store: Store,
  subject: { kind: "job" | "group" | "artifact"; name: string },
): Promise<{ jobs: string[]; artifacts: string[]; environments: string[] }> {
  const where =
    subject.kind === "job"
      ? sql`j.name = ${subject.name}`
      : subject.kind === "group"
        ? sql`j.group_name = ${subject.name}`
        : sql`(j.group_name = ${subject.name} OR j.name LIKE ${`%.${subject.name}`} OR j.name = ${subject.name})`;
  const rows = await store.query<{ name: string; grp: string | null; env: string | null }>(sql`
    SELECT DISTINCT j.name, j.group_name AS grp, lower(j.environment) AS env FROM jobs j WHERE ${where} ORDER BY 1`);
  const jobs = rows.map((r) => r.name);
  const artifacts = new Set<string>(subject.kind === "job" ? [] : [subject.name]);
  for (const r of rows) {
    artifacts.add(r.name.slice(r.name.lastIndexOf(".") + 1));
    if (r.grp) artifacts.add(r.grp);
  }
  const environments = [...new Set(rows.map((r) => r.env).filter((e): e is string => !!e))];
  return { jobs: [...new Set(jobs)], artifacts: [...artifacts], environments };
}

/** Successful deploys of `artifacts` in [from, to), optionally of one environment, latest first. */
export async function deploysOf(
  store: Store,
  artifacts: string[],
  from: Date,
  to: Date,
  environment?: string,
  limit = 5,
): Promise<DeployAt[]> {
  if (!artifacts.length) return [];
  const env = environment === undefined ? sql`true` : envIn(sql`d.environment`, environment);
  const rows = await store.query<{
    artifact: string;
    kind: string;
    version: string | null;
    environment: string | null;
    at_ms: unknown;
  }>(sql`
    SELECT d.artifact, d.kind, d.version, d.environment, (extract(epoch from d.at) * 1000)::float8 AS at_ms
    FROM deploys d
    WHERE d.artifact IN (SELECT jsonb_array_elements_text(${json(artifacts)})) AND d.status = 'success'
      AND d.at >= ${ts(from)} AND d.at < ${ts(to)} AND ${env}
    ORDER BY d.at DESC LIMIT ${limit}`);
  return rows.map((r) => ({
    artifact: r.artifact,
    kind: r.kind,
    version: r.version,
    environment: r.environment,
    at: new Date(Number(r.at_ms)),
  }));
}

/** Runs and failures of `jobs` with run time in [from, to). */
export async function failuresOf(
  store: Store,
  jobs: string[],
  from: Date,
  to: Date,
): Promise<{ runs: number; failures: number }> {
  if (!jobs.length) return { runs: 0, failures: 0 };
  const [r] = await store.query<{ runs: number; failures: number }>(sql`
    SELECT count(*)::int AS runs, count(*) FILTER (WHERE r.status = 'failed')::int AS failures
    FROM runs r JOIN jobs j ON j.id = r.job_id
    WHERE j.name IN (SELECT jsonb_array_elements_text(${json(jobs)}))
      AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}`);
  return { runs: Number(r?.runs ?? 0), failures: Number(r?.failures ?? 0) };
}
