// Data test results: the latest result of each test of a dataset, job or pipeline; and
// results over a period counted per environment, per local day, or listed when they did not
// pass. Reads test_results through its indexes: (test_id, at) for one subject's tests,
// (environment, at) for counts and trends; without an environment the environments are
// enumerated with a skip scan and each is read by that same index.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { ts } from "../sql.ts";

/** Whose tests: a dataset's, a job's, a pipeline's (its jobs'), or every test. */
export type TestScope = { dataset: string } | { job: string } | { group: string } | Record<string, never>;

/** Results per outcome. */
export interface Outcomes {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface TestResult {
  test: string;
  dataset: string | null;
  status: string;
  environment: string | null;
  value: string | null;
  at: Date;
}

/** The tests a scope covers, as a predicate on tests t. */
function testsOf(s: TestScope): SQL {
  if ("dataset" in s) return sql`t.dataset_id IN (SELECT id FROM datasets WHERE name = ${s.dataset})`;
  if ("job" in s) return sql`t.job_id IN (SELECT id FROM jobs WHERE name = ${s.job})`;
  if ("group" in s) return sql`t.job_id IN (SELECT id FROM jobs WHERE group_name = ${s.group})`;
  return sql`true`;
}

/** A condition on results r: of the scope's tests (none for every test). */
function ofScope(s: TestScope): SQL {
  return Object.keys(s).length ? sql`AND r.test_id IN (SELECT t.id FROM tests t WHERE ${testsOf(s)})` : sql``;
}

/**
 * Results with from ≤ at < to in one environment, or in every environment: the distinct
 * environments come from a skip scan of (environment, at), and each is read by range.
 */
function resultsIn(from: Date, to: Date, env: string | undefined): SQL {
  const range = sql`x.at >= ${ts(from)} AND x.at < ${ts(to)}`;
  if (env) return sql`(SELECT x.* FROM test_results x WHERE x.environment = ${env} AND ${range})`;
  return sql`(
    WITH RECURSIVE envs AS (
      (SELECT environment FROM test_results WHERE environment IS NOT NULL ORDER BY environment LIMIT 1)
      UNION ALL
      SELECT (SELECT y.environment FROM test_results y WHERE y.environment > envs.environment
              ORDER BY y.environment LIMIT 1)
      FROM envs WHERE envs.environment IS NOT NULL
    )
    SELECT x.* FROM envs CROSS JOIN LATERAL (
      SELECT x.* FROM test_results x WHERE x.environment = envs.environment AND ${range}) x
    UNION ALL
    SELECT x.* FROM test_results x WHERE x.environment IS NULL AND ${range})`;
}

const OUTCOME_COLUMNS = sql`count(*) FILTER (WHERE r.status = 'pass')::int AS pass,
  count(*) FILTER (WHERE r.status = 'fail')::int AS fail,
  count(*) FILTER (WHERE r.status = 'warn')::int AS warn,
  count(*) FILTER (WHERE r.status = 'error')::int AS error,
  count(*) FILTER (WHERE r.status = 'skip')::int AS skip`;

interface ResultRow {
  test: string;
  dataset: string | null;
  status: string;
  environment: string | null;
  value: string | null;
  at: string;
}

const result = (r: ResultRow): TestResult => ({ ...r, at: new Date(r.at) });

/**
 * The latest result of each test of the scope in each environment, with since ≤ at ≤ asOf
 * (in `env` only, when given): one short index range per test. By environment (none last), then test.
 */
export async function latestTestResults(
  store: Store,
  scope: TestScope,
  opts: { since: Date; asOf: Date; environment?: string },
): Promise<TestResult[]> {
  const env = opts.environment ? sql`AND r.environment = ${opts.environment}` : sql``;
  const rows = await store.query<ResultRow>(
    sql`SELECT t.name AS test, d.name AS dataset, l.status, l.environment, l.value, l.at::text AS at
        FROM tests t LEFT JOIN datasets d ON d.id = t.dataset_id
        CROSS JOIN LATERAL (
          SELECT DISTINCT ON (r.environment) r.status, r.environment, r.value, r.at
          FROM test_results r
          WHERE r.test_id = t.id AND r.at >= ${ts(opts.since)} AND r.at <= ${ts(opts.asOf)} ${env}
          ORDER BY r.environment, r.at DESC
        ) l
        WHERE ${testsOf(scope)}
        ORDER BY l.environment NULLS LAST, t.name`,
  );
  return rows.map(result);
}

/** How many tests the scope has, whether or not they reported. */
export async function testCount(store: Store, scope: TestScope): Promise<number> {
  const rows = await store.query<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM tests t WHERE ${testsOf(scope)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Outcomes of the scope's results in [from, to) per local day of `timezone` ("YYYY-MM-DD"), by day. */
export async function testOutcomesPerDay(
  store: Store,
  scope: TestScope,
  opts: { from: Date; to: Date; environment?: string; timezone: string },
): Promise<(Outcomes & { day: string })[]> {
  return store.query<Outcomes & { day: string }>(
    sql`SELECT to_char((r.at AT TIME ZONE ${opts.timezone})::date, 'YYYY-MM-DD') AS day, ${OUTCOME_COLUMNS}
        FROM ${resultsIn(opts.from, opts.to, opts.environment)} r WHERE true ${ofScope(scope)}
        GROUP BY 1 ORDER BY 1`,
  );
}

export interface EnvironmentOutcomes extends Outcomes {
  environment: string | null;
  results: number;
  tests: number;
}

/** Results, distinct tests and outcomes of the scope in [from, to) per environment, most results first. */
export function testOutcomesPerEnvironment(
  store: Store,
  scope: TestScope,
  opts: { from: Date; to: Date; environment?: string },
): Promise<EnvironmentOutcomes[]> {
  return store.query<EnvironmentOutcomes>(
    sql`SELECT r.environment, count(*)::int AS results, count(DISTINCT r.test_id)::int AS tests, ${OUTCOME_COLUMNS}
        FROM ${resultsIn(opts.from, opts.to, opts.environment)} r WHERE true ${ofScope(scope)}
        GROUP BY r.environment ORDER BY count(*) DESC, r.environment`,
  );
}

/** Distinct tests of the scope that reported in [from, to). */
export async function testsReporting(
  store: Store,
  scope: TestScope,
  opts: { from: Date; to: Date; environment?: string },
): Promise<number> {
  const rows = await store.query<{ n: number }>(
    sql`SELECT count(DISTINCT r.test_id)::int AS n
        FROM ${resultsIn(opts.from, opts.to, opts.environment)} r WHERE true ${ofScope(scope)}`,
  );
  return Number(rows[0]!.n);
}

/** The scope's failures, errors and warnings in [from, to), newest first, at most `limit`. */
export async function testProblems(
  store: Store,
  scope: TestScope,
  opts: { from: Date; to: Date; environment?: string; limit: number },
): Promise<TestResult[]> {
  const rows = await store.query<ResultRow>(
    sql`SELECT t.name AS test, d.name AS dataset, r.status, r.environment, r.value, r.at::text AS at
        FROM ${resultsIn(opts.from, opts.to, opts.environment)} r
        JOIN tests t ON t.id = r.test_id LEFT JOIN datasets d ON d.id = t.dataset_id
        WHERE r.status IN ('fail', 'error', 'warn') ${ofScope(scope)}
        ORDER BY r.at DESC LIMIT ${opts.limit}`,
  );
  return rows.map(result);
}
