// The daily (or weekly) SLA digest: did what was supposed to run, run on time; what failed;
// is the data fresh; did suppliers deliver; do production tests pass. Each headline is
// compared with the previous period and the usual level (7-day or 4-week average), and the
// worst offenders are named with their owners.
//
// Rules (the same as the questions that answer them one at a time):
// - Expected runs: schedule slots (expected_runs) whose slot time is in the period; a slot is
//   missed when no run matched it, and on time when its run started by slot + grace (due_at).
// - Late start vs long run (the root-cause split): a late start began after slot + grace; a
//   long run took more than 1.5× its job's usual duration and at least 2 min more, "usual"
//   being the median of the job's daily median durations (run_daily) over the 14 UTC days
//   before the period.
// - Failure streak: the failed runs in a row up to the job's last run of the period.
// - Datasets with a freshness SLA (max_age_seconds) are stale at the end of a day when their
//   last update by then is older than the SLA.
// - Supplier deliveries: see src/digests/deliveries.ts.
// - Test pass rate: pass / (all but skip) among test results of the environment (prod
//   unless the digest is for another one).
import { type SQL, sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { CHART_WIDTH, type ChartSpec } from "../src/digests/chart.ts";
import { defineReport } from "../src/digests/report.ts";
import {
  changeText,
  compare,
  dayBuckets,
  datasetScope,
  dayRows,
  emptyDigest,
  finish,
  int,
  jobScope,
  num,
  num0,
  one,
  scopeJoin,
  scopeText,
} from "../src/digests/common.ts";
import { type Delivery, loadDeliveries } from "../src/digests/deliveries.ts";
import {
  addDaysYmd,
  type DigestPeriods,
  digestPeriods,
  type Period,
  periodEnding,
  periodLabel,
} from "../src/digests/period.ts";
import { sparkline } from "../src/digests/sparkline.ts";
import type { Digest, DigestRequest } from "../src/digests/types.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import { LONG_FACTOR, LONG_MIN_EXTRA_MS, USUAL_DAYS } from "../src/questions/lateness.ts";
import { formatTime } from "../src/time/index.ts";

/** Days of attainment in the chart, and of the sparklines. */
const CHART_DAYS = 30;
const SPARK_DAYS = 14;
const LIST = 5;

interface DayCounts {
  expected: number;
  ran: number;
  missed: number;
  late: number;
  onTime: number;
}

export interface SlaJobLine {
  name: string;
  owner: string | null;
}

export interface LateStart extends SlaJobLine {
  slotAt: Date;
  startedAt: Date;
  delayMs: number;
  graceMs: number;
}

export interface LongRun extends SlaJobLine {
  day: number;
  startedAt: Date | null;
  durationMs: number;
  usualMs: number;
}

export interface Failing extends SlaJobLine {
  failures: number;
  runs: number;
  streak: number;
  /** Failures over the whole comparison span (8 days, or 5 weeks). */
  spanFailures: number;
  error: string | null;
}

export interface Missed extends SlaJobLine {
  slots: number;
  first: Date;
}

export interface StaleDataset {
  name: string;
  owner: string | null;
  ageMs: number;
  slaMs: number;
}

export interface SupplierLine {
  supplier: string;
  owner: string | null;
  due: number;
  late: number;
  missing: number;
  worstMs: number;
}

export interface FailingTest {
  name: string;
  status: string;
  value: string | null;
  owner: string | null;
}

/** Everything the SLA digest says, computed for one request; rendering is a pure function of it. */
export interface SlaData {
  req: DigestRequest;
  periods: DigestPeriods;
  expected: ReturnType<typeof compare>;
  ran: ReturnType<typeof compare>;
  missed: ReturnType<typeof compare>;
  onTimePct: { value: number | null; previous: number | null; average: number | null };
  lateStarts: LateStart[];
  lateCount: ReturnType<typeof compare>;
  longRuns: LongRun[];
  longCount: ReturnType<typeof compare>;
  failures: ReturnType<typeof compare>;
  failing: Failing[];
  missedJobs: Missed[];
  datasets: { withSla: number; stale: ReturnType<typeof compare>; staleList: StaleDataset[] };
  deliveries: {
    due: ReturnType<typeof compare>;
    bad: ReturnType<typeof compare>;
    bySupplier: SupplierLine[];
    /** Supplier deliveries are left out with a group filter (they belong to no pipeline). */
    shown: boolean;
  };
  tests: {
    environment: string;
    run: ReturnType<typeof compare>;
    passed: ReturnType<typeof compare>;
    passPct: { value: number | null; previous: number | null; average: number | null };
    failing: FailingTest[];
  };
  /** Daily share of expected runs that ran, oldest first, for the chart and sparkline. */
  attainment: { day: string; expected: number; ran: number; failed: number }[];
  failuresSpark: number[];
  /** On-time % per day of the comparison span (at most the last 14 days). */
  onTimeSpark: (number | null)[];
}

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
/**
 * Constant bounds on a time column next to the per-day range join: the planner cannot derive
 * an index range from the day list (a function scan), so without these it may read the whole
 * index (every failure ever, every slot) and filter it per day.
 */
const within = (column: string, p: Period): SQL =>
  sql`${sql.raw(column)} >= ${ts(p.from)} AND ${sql.raw(column)} < ${ts(p.to)}`;
const ratio = (a: number, b: number) => (b > 0 ? (100 * a) / b : null);

/** Per local day over the span: expected slots, ran, missed, started late, on time. */
async function slotCounts(req: DigestRequest, periods: DigestPeriods): Promise<DayCounts[]> {
  const { days, param } = dayBuckets(periods.span, req.timezone);
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT d.i, count(*)::int AS expected, count(e.run_id)::int AS ran,
          count(*) FILTER (WHERE e.run_id IS NULL)::int AS missed,
          count(*) FILTER (WHERE coalesce(r.started_at, r.run_at) > e.due_at)::int AS late,
          count(*) FILTER (WHERE coalesce(r.started_at, r.run_at) <= e.due_at)::int AS on_time
        FROM ${dayRows(param)} d
        JOIN expected_runs e ON e.slot_at >= d.f AND e.slot_at < d.t
        ${scopeJoin(req, "e.job_id")}
        LEFT JOIN runs r ON r.id = e.run_id
        WHERE ${within("e.slot_at", periods.span)} AND ${jobScope(req)}
        GROUP BY d.i`,
  );
  const out: DayCounts[] = days.map(() => ({ expected: 0, ran: 0, missed: 0, late: 0, onTime: 0 }));
  for (const r of rows) {
    out[num0(r["i"])] = {
      expected: num0(r["expected"]),
      ran: num0(r["ran"]),
      missed: num0(r["missed"]),
      late: num0(r["late"]),
      onTime: num0(r["on_time"]),
    };
  }
  return out;
}

/** Share of expected runs that ran, per local day, for the 30-day chart (a count: no join to runs). */
async function attainment(req: DigestRequest): Promise<SlaData["attainment"]> {
  const span = periodEnding(req.date, CHART_DAYS, req.timezone);
  const { days, param } = dayBuckets(span, req.timezone);
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT d.i, count(*)::int AS expected, count(e.run_id)::int AS ran
        FROM ${dayRows(param)} d
        JOIN expected_runs e ON e.slot_at >= d.f AND e.slot_at < d.t
        ${scopeJoin(req, "e.job_id")}
        WHERE ${within("e.slot_at", span)} AND ${jobScope(req)}
        GROUP BY d.i`,
  );
  const out = days.map((d) => ({ day: d.firstDay, expected: 0, ran: 0, failed: 0 }));
  for (const r of rows) {
    const o = out[num0(r["i"])]!;
    o.expected = num0(r["expected"]);
    o.ran = num0(r["ran"]);
  }
  return out;
}

async function lateStarts(req: DigestRequest, periods: DigestPeriods): Promise<LateStart[]> {
  const p = periods.period;
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT j.name, j.owner, (extract(epoch FROM e.slot_at) * 1000)::float8 AS slot_at,
          (extract(epoch FROM coalesce(r.started_at, r.run_at)) * 1000)::float8 AS started_at,
          (extract(epoch FROM e.due_at - e.slot_at) * 1000)::float8 AS grace_ms
        FROM expected_runs e JOIN jobs j ON j.id = e.job_id JOIN runs r ON r.id = e.run_id
        WHERE e.slot_at >= ${ts(p.from)} AND e.slot_at < ${ts(p.to)}
          AND coalesce(r.started_at, r.run_at) > e.due_at AND ${jobScope(req)}
        ORDER BY coalesce(r.started_at, r.run_at) - e.slot_at DESC, j.name
        LIMIT 200`,
  );
  return rows.map((r) => {
    const slotAt = new Date(num0(r["slot_at"]));
    const startedAt = new Date(num0(r["started_at"]));
    return {
      name: String(r["name"]),
      owner: (r["owner"] as string | null) ?? null,
      slotAt,
      startedAt,
      delayMs: startedAt.getTime() - slotAt.getTime(),
      graceMs: num0(r["grace_ms"]),
    };
  });
}

/** Runs of the span that ran long against their job's usual duration, with their day index. */
async function longRuns(req: DigestRequest, periods: DigestPeriods): Promise<LongRun[]> {
  const { param } = dayBuckets(periods.span, req.timezone);
  const usualTo = periods.period.firstDay;
  const usualFrom = addDaysYmd(usualTo, -USUAL_DAYS);
  const rows = await req.store.query<Record<string, unknown>>(
    sql`WITH usual AS (
          SELECT d.job_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY d.duration_p50_ms) AS usual_ms
          FROM run_daily d JOIN jobs j ON j.id = d.job_id
          WHERE d.day >= ${usualFrom}::date AND d.day < ${usualTo}::date
            AND d.duration_p50_ms IS NOT NULL AND ${jobScope(req)}
          GROUP BY d.job_id
        )
        SELECT d.i, j.name, j.owner, r.duration_ms::float8 AS duration_ms, u.usual_ms,
          (extract(epoch FROM r.started_at) * 1000)::float8 AS started_at
        FROM ${dayRows(param)} d
        JOIN runs r ON r.run_at >= d.f AND r.run_at < d.t
        JOIN usual u ON u.job_id = r.job_id
        JOIN jobs j ON j.id = r.job_id
        WHERE ${within("r.run_at", periods.span)} AND r.duration_ms > ${LONG_FACTOR} * u.usual_ms AND r.duration_ms - u.usual_ms > ${LONG_MIN_EXTRA_MS}
        ORDER BY r.duration_ms / u.usual_ms DESC, j.name
        LIMIT 2000`,
  );
  return rows.map((r) => ({
    day: num0(r["i"]),
    name: String(r["name"]),
    owner: (r["owner"] as string | null) ?? null,
    startedAt: r["started_at"] === null ? null : new Date(num0(r["started_at"])),
    durationMs: num0(r["duration_ms"]),
    usualMs: num0(r["usual_ms"]),
  }));
}

/** Failed runs per local day over `span` (the partial index on failed runs serves it). */
async function failuresPerDay(req: DigestRequest, span: ReturnType<typeof periodEnding>): Promise<number[]> {
  const { days, param } = dayBuckets(span, req.timezone);
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT d.i, count(*)::int AS n
        FROM ${dayRows(param)} d
        JOIN runs r ON r.status = 'failed' AND r.run_at >= d.f AND r.run_at < d.t
        ${scopeJoin(req, "r.job_id")}
        WHERE ${within("r.run_at", span)} AND ${jobScope(req)}
        GROUP BY d.i`,
  );
  const out = days.map(() => 0);
  for (const r of rows) out[num0(r["i"])] = num0(r["n"]);
  return out;
}

async function failingJobs(req: DigestRequest, periods: DigestPeriods): Promise<Failing[]> {
  const p = periods.period;
  const s = periods.span;
  const rows = await req.store.query<Record<string, unknown>>(
    sql`WITH f AS (
          SELECT r.job_id, count(*) FILTER (WHERE r.run_at >= ${ts(p.from)})::int AS failures,
            count(*)::int AS span_failures
          FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE r.status = 'failed' AND r.run_at >= ${ts(s.from)} AND r.run_at < ${ts(p.to)} AND ${jobScope(req)}
          GROUP BY r.job_id
        )
        SELECT j.name, j.owner, f.failures, f.span_failures,
          (SELECT count(*)::int FROM runs r WHERE r.job_id = f.job_id AND r.run_at >= ${ts(p.from)} AND r.run_at < ${ts(p.to)}) AS runs,
          (SELECT r.error FROM runs r WHERE r.job_id = f.job_id AND r.status = 'failed' AND r.run_at < ${ts(p.to)}
           ORDER BY r.run_at DESC LIMIT 1) AS error,
          -- failures in a row up to the last run of the period: those after the last run that did not fail
          (SELECT count(*)::int FROM runs r WHERE r.job_id = f.job_id AND r.status = 'failed' AND r.run_at < ${ts(p.to)}
             AND r.run_at > coalesce((SELECT max(r2.run_at) FROM runs r2 WHERE r2.job_id = f.job_id
                                        AND r2.run_at < ${ts(p.to)} AND r2.status IN ('success', 'cancelled', 'skipped')),
                                     '-infinity'::timestamptz)) AS streak
        FROM f JOIN jobs j ON j.id = f.job_id
        WHERE f.failures > 0
        ORDER BY f.failures DESC, j.name`,
  );
  return rows
    .map((r) => ({
      name: String(r["name"]),
      owner: (r["owner"] as string | null) ?? null,
      failures: num0(r["failures"]),
      spanFailures: num0(r["span_failures"]),
      runs: num0(r["runs"]),
      streak: num0(r["streak"]),
      error: (r["error"] as string | null) ?? null,
    }))
    .sort((a, b) => b.streak - a.streak || b.failures - a.failures || b.spanFailures - a.spanFailures);
}

async function missedJobs(req: DigestRequest, periods: DigestPeriods): Promise<Missed[]> {
  const p = periods.period;
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT j.name, j.owner, count(*)::int AS slots, (extract(epoch FROM min(e.slot_at)) * 1000)::float8 AS first
        FROM expected_runs e JOIN jobs j ON j.id = e.job_id
        WHERE e.run_id IS NULL AND e.slot_at >= ${ts(p.from)} AND e.slot_at < ${ts(p.to)} AND ${jobScope(req)}
        GROUP BY j.name, j.owner
        ORDER BY count(*) DESC, j.name`,
  );
  return rows.map((r) => ({
    name: String(r["name"]),
    owner: (r["owner"] as string | null) ?? null,
    slots: num0(r["slots"]),
    first: new Date(num0(r["first"])),
  }));
}

/**
 * Datasets with a freshness SLA, judged at the end of each day of the span: stale when the
 * last update by then is older than the SLA (two index scans per dataset, whatever the span). Only
 * datasets updated at least once by then count. With a scope, a dataset counts when the job
 * behind its latest update is in scope.
 */
async function freshness(
  req: DigestRequest,
  periods: DigestPeriods,
): Promise<{ withSla: number; stalePerDay: number[]; staleList: StaleDataset[] }> {
  const days = dayBuckets(periods.span, req.timezone).days;
  const span = periods.span;
  const end = periods.period.to;
  // Two probes per dataset whatever the span: the last update before the span, and one range
  // scan over the span that yields the last update before each day's end.
  const lastBy = sql.join(
    days.map(
      (d, i) =>
        sql`(extract(epoch FROM max(u.updated_at) FILTER (WHERE u.updated_at < ${ts(d.to)})) * 1000)::float8 AS ${sql.raw(`l${i}`)}`,
    ),
    sql`, `,
  );
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT ds.name, ds.owner, ds.max_age_seconds::float8 AS max_age_s,
          (SELECT (extract(epoch FROM max(u.updated_at)) * 1000)::float8 FROM dataset_updates u
           WHERE u.dataset_id = ds.id AND u.updated_at < ${ts(span.from)}) AS before, l.*
        FROM datasets ds
        CROSS JOIN LATERAL (SELECT ${lastBy} FROM dataset_updates u
                            WHERE u.dataset_id = ds.id AND u.updated_at >= ${ts(span.from)}
                              AND u.updated_at < ${ts(span.to)}) l
        WHERE ds.max_age_seconds > 0 AND ${datasetScope(req, end)}`,
  );
  const stalePerDay = days.map(() => 0);
  const lastDay = days.length - 1;
  let withSla = 0;
  const staleList: StaleDataset[] = [];
  for (const r of rows) {
    const slaMs = num0(r["max_age_s"]) * 1000;
    days.forEach((d, i) => {
      const last = num(r[`l${i}`]) ?? num(r["before"]);
      // Only datasets updated at least once by then are judged.
      if (last === null) return;
      const ageMs = d.to.getTime() - last;
      if (i === lastDay) withSla++;
      if (ageMs <= slaMs) return;
      stalePerDay[i]!++;
      if (i === lastDay)
        staleList.push({
          name: String(r["name"]),
          owner: (r["owner"] as string | null) ?? null,
          ageMs,
          slaMs,
        });
    });
  }
  staleList.sort((a, b) => b.ageMs / b.slaMs - a.ageMs / a.slaMs || (a.name < b.name ? -1 : 1));
  return { withSla, stalePerDay, staleList };
}

/** Test results of the environment per local day over `span`: run (not skipped) and passed. */
async function testsPerDay(
  req: DigestRequest,
  env: string,
  span: ReturnType<typeof periodEnding>,
): Promise<{ run: number[]; passed: number[] }> {
  const { days, param } = dayBuckets(span, req.timezone);
  const grp: SQL =
    req.group !== undefined
      ? sql`AND EXISTS (SELECT 1 FROM tests t JOIN jobs j ON j.id = t.job_id WHERE t.id = x.test_id AND j.group_name = ${req.group})`
      : sql``;
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT d.i, count(*) FILTER (WHERE x.status <> 'skip')::int AS run,
          count(*) FILTER (WHERE x.status = 'pass')::int AS passed
        FROM ${dayRows(param)} d
        JOIN test_results x ON x.environment = ${env} AND x.at >= d.f AND x.at < d.t
        WHERE ${within("x.at", span)} ${grp}
        GROUP BY d.i`,
  );
  const run = days.map(() => 0);
  const passed = days.map(() => 0);
  for (const r of rows) {
    run[num0(r["i"])] = num0(r["run"]);
    passed[num0(r["i"])] = num0(r["passed"]);
  }
  return { run, passed };
}

async function failingTests(req: DigestRequest, env: string, periods: DigestPeriods): Promise<FailingTest[]> {
  const p = periods.period;
  const grp: SQL = req.group !== undefined ? sql`AND j.group_name = ${req.group}` : sql``;
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT DISTINCT ON (t.id) t.name, x.status, x.value, coalesce(j.owner, ds.owner) AS owner
        FROM test_results x JOIN tests t ON t.id = x.test_id
        LEFT JOIN jobs j ON j.id = t.job_id LEFT JOIN datasets ds ON ds.id = t.dataset_id
        WHERE x.environment = ${env} AND x.at >= ${ts(p.from)} AND x.at < ${ts(p.to)}
          AND x.status IN ('fail', 'error', 'warn') ${grp}
        ORDER BY t.id, x.at DESC`,
  );
  const rank = (s: string) => (s === "error" ? 0 : s === "fail" ? 1 : 2);
  return rows
    .map((r) => ({
      name: String(r["name"]),
      status: String(r["status"]),
      value: (r["value"] as string | null) ?? null,
      owner: (r["owner"] as string | null) ?? null,
    }))
    .sort((a, b) => rank(a.status) - rank(b.status) || (a.name < b.name ? -1 : 1));
}

function supplierLines(ds: Delivery[]): SupplierLine[] {
  const by = new Map<string, SupplierLine>();
  for (const d of ds) {
    const s = by.get(d.feed.supplier) ?? {
      supplier: d.feed.supplier,
      owner: d.feed.owner,
      due: 0,
      late: 0,
      missing: 0,
      worstMs: 0,
    };
    s.due++;
    if (d.outcome === "late") {
      s.late++;
      s.worstMs = Math.max(s.worstMs, d.delayMs!);
    }
    if (d.outcome === "missing") s.missing++;
    by.set(d.feed.supplier, s);
  }
  return [...by.values()].sort(
    (a, b) =>
      b.late + b.missing - (a.late + a.missing) ||
      b.worstMs - a.worstMs ||
      (a.supplier < b.supplier ? -1 : 1),
  );
}

const pctOf = (value: number, whole: number) => ratio(value, whole);

/** Computes the SLA digest's numbers for a request (SQL only; no rendering). */
export async function computeSla(req: DigestRequest): Promise<SlaData> {
  const periods = digestPeriods(req);
  const sparkSpan = periodEnding(req.date, Math.max(CHART_DAYS, periods.span.days), req.timezone);
  const testEnv = req.environment ?? "prod";
  const { days: spanDays } = dayBuckets(periods.span, req.timezone);
  const [slots, late, long, failSeries, failing, missed, fresh, tests, failTests, attain] = await Promise.all(
    [
      slotCounts(req, periods),
      lateStarts(req, periods),
      longRuns(req, periods),
      failuresPerDay(req, sparkSpan),
      failingJobs(req, periods),
      missedJobs(req, periods),
      freshness(req, periods),
      testsPerDay(req, testEnv, periods.span),
      failingTests(req, testEnv, periods),
      attainment(req),
    ],
  );
  const deliveriesShown = req.group === undefined;
  const deliveries = deliveriesShown
    ? await loadDeliveries(req.store, periods.span.from, periods.span.to)
    : [];
  const dayIndex = (t: Date) => spanDays.findIndex((d) => t >= d.from && t < d.to);
  const duePerDay = spanDays.map(() => 0);
  const badPerDay = spanDays.map(() => 0);
  for (const d of deliveries) {
    const i = dayIndex(d.expected);
    if (i < 0) continue;
    duePerDay[i]!++;
    if (d.outcome !== "on_time") badPerDay[i]!++;
  }
  const inPeriod = deliveries.filter(
    (d) => d.expected >= periods.period.from && d.expected < periods.period.to,
  );
  const col = (k: keyof DayCounts) =>
    compare(
      slots.map((s) => s[k]),
      periods,
    );
  const expected = col("expected");
  const onTime = col("onTime");
  const longPerDay = spanDays.map(() => 0);
  for (const l of long) longPerDay[l.day]!++;
  const firstOfPeriod = spanDays.length - periods.period.days;
  const lastState = (xs: number[]) => xs[xs.length - 1] ?? 0;
  const failuresSpan = failSeries.slice(failSeries.length - spanDays.length);
  const testRun = compare(tests.run, periods);
  const testPassed = compare(tests.passed, periods);
  return {
    req,
    periods,
    expected,
    ran: col("ran"),
    missed: col("missed"),
    onTimePct: {
      value: pctOf(onTime.value, expected.value),
      previous: pctOf(onTime.previous, expected.previous),
      average: pctOf(onTime.average, expected.average),
    },
    lateStarts: late,
    lateCount: col("late"),
    longRuns: long.filter((l) => l.day >= firstOfPeriod),
    longCount: compare(longPerDay, periods),
    failures: compare(failuresSpan, periods),
    failing,
    missedJobs: missed,
    datasets: {
      withSla: fresh.withSla,
      stale: compare(fresh.stalePerDay, periods, lastState),
      staleList: fresh.staleList,
    },
    deliveries: {
      due: compare(duePerDay, periods),
      bad: compare(badPerDay, periods),
      bySupplier: supplierLines(inPeriod),
      shown: deliveriesShown,
    },
    tests: {
      environment: testEnv,
      run: testRun,
      passed: testPassed,
      passPct: {
        value: pctOf(testPassed.value, testRun.value),
        previous: pctOf(testPassed.previous, testRun.previous),
        average: pctOf(testPassed.average, testRun.average),
      },
      failing: failTests,
    },
    attainment: attain.map((a, i) => ({
      ...a,
      failed: failSeries[failSeries.length - attain.length + i] ?? 0,
    })),
    failuresSpark: failSeries.slice(-SPARK_DAYS),
    onTimeSpark: slots.slice(-SPARK_DAYS).map((x) => ratio(x.onTime, x.expected)),
  };
}

const owner = (o: string | null) => (o ? ` — ${esc(o)}` : "");
const plural = (n: number, w: string, ws = `${w}s`) => `${int(n)} ${n === 1 ? w : ws}`;

function pctChangeText(p: SlaData["onTimePct"], periods: DigestPeriods): string {
  if (p.value === null) return "";
  return changeText(
    { value: p.value, previous: p.previous ?? p.value, average: p.average ?? p.value },
    periods,
    "percent-points",
  );
}

/** True when the period had nothing at all to report on. */
export function slaIsEmpty(d: SlaData): boolean {
  return (
    d.expected.value === 0 &&
    d.failures.value === 0 &&
    d.longRuns.length === 0 &&
    d.datasets.withSla === 0 &&
    d.deliveries.due.value === 0 &&
    d.tests.run.value === 0
  );
}

/** The digest's Block Kit and text (pure). */
export function renderSla(d: SlaData, title: string): Digest {
  const { periods, req } = d;
  const tz = req.timezone;
  if (slaIsEmpty(d))
    return emptyDigest(
      "sla",
      title,
      `Nothing to report: no run was expected or failed, no dataset has a freshness SLA, no delivery or test was due${scopeText(req)}.`,
    );
  const b = new AnswerBuilder();
  const problems: string[] = [];
  if (d.missed.value) problems.push(`${int(d.missed.value)} missed`);
  if (d.lateStarts.length) problems.push(`${int(d.lateCount.value)} started late`);
  if (d.longRuns.length) problems.push(`${int(d.longRuns.length)} ran long`);
  if (d.failures.value) problems.push(`${plural(d.failures.value, "failure")}`);
  if (d.datasets.stale.value) problems.push(`${plural(d.datasets.stale.value, "stale dataset")}`);
  const badDeliveries = d.deliveries.bad.value;
  if (badDeliveries) problems.push(`${plural(badDeliveries, "late delivery", "late deliveries")}`);
  b.headline(
    d.expected.value
      ? `${one(d.onTimePct.value ?? 0)}% of ${plural(d.expected.value, "expected run")} started on time${problems.length ? ` — ${problems.join(", ")}` : " — nothing missed, late or failed"}.`
      : problems.length
        ? `No scheduled runs; ${problems.join(", ")}.`
        : "No scheduled runs, and nothing failed.",
  );
  const f: [string, string][] = [];
  if (d.expected.value)
    f.push([
      "Expected runs",
      `${int(d.ran.value)} of ${int(d.expected.value)} ran, ${int(d.missed.value)} missed ${sparkline(d.attainment.slice(-SPARK_DAYS).map((a) => ratio(a.ran, a.expected)))}\n_missed ${changeText(d.missed, periods, "count")}_`,
    ]);
  if (d.onTimePct.value !== null)
    f.push([
      "On time",
      `${one(d.onTimePct.value)}% ${sparkline(d.onTimeSpark)}\n_${pctChangeText(d.onTimePct, periods)}_`,
    ]);
  if (d.expected.value || d.longRuns.length)
    f.push([
      "Late: started late / ran long",
      `${int(d.lateCount.value)} / ${int(d.longRuns.length)}\n_late starts ${changeText(d.lateCount, periods, "count")}_`,
    ]);
  f.push([
    "Failed runs",
    `${int(d.failures.value)}${d.failing.length ? ` in ${plural(d.failing.length, "job")}` : ""} ${sparkline(d.failuresSpark)}\n_${changeText(d.failures, periods, "count")}_`,
  ]);
  if (d.datasets.withSla)
    f.push([
      "Datasets (freshness SLA)",
      `${int(d.datasets.withSla - d.datasets.stale.value)} fresh, ${int(d.datasets.stale.value)} stale\n_stale ${changeText(d.datasets.stale, periods, "count")}_`,
    ]);
  if (d.deliveries.due.value)
    f.push([
      "Supplier deliveries",
      `${int(d.deliveries.due.value - badDeliveries)} of ${int(d.deliveries.due.value)} on time\n_late or missing ${changeText(d.deliveries.bad, periods, "count")}_`,
    ]);
  if (d.tests.passPct.value !== null)
    f.push([
      `Tests (${esc(d.tests.environment)})`,
      `${one(d.tests.passPct.value)}% of ${int(d.tests.run.value)} passed\n_${pctChangeText(d.tests.passPct, periods)}_`,
    ]);
  b.fields(f);

  b.list(
    "Started late",
    d.lateStarts.map(
      (l) =>
        `${code(l.name)} started ${formatDuration(l.delayMs)} after its ${formatTime(l.slotAt, tz)} slot (grace ${formatDuration(l.graceMs)})${owner(l.owner)}`,
    ),
    LIST,
  );
  b.list(
    "Ran long",
    d.longRuns.map(
      (l) =>
        `${code(l.name)} ran ${formatDuration(l.durationMs)}, ${(l.durationMs / l.usualMs).toFixed(1)}× its usual ${formatDuration(l.usualMs)}${owner(l.owner)}`,
    ),
    LIST,
  );
  const spanDays = periods.span.days;
  b.list(
    "Failures",
    d.failing.map(
      (x) =>
        `${code(x.name)} failed ${x.failures === x.runs ? (x.runs === 1 ? "its run" : `all ${x.runs} runs`) : `${x.failures} of ${x.runs} runs`}` +
        `${x.streak > 1 ? `, ${x.streak} in a row` : x.streak === 0 ? ", since recovered" : ""}` +
        `${x.spanFailures > x.failures ? ` (${x.spanFailures} failures in ${spanDays} days)` : ""}` +
        `${x.error ? ` — _${esc(clip(x.error, 120))}_` : ""}${owner(x.owner)}`,
    ),
    LIST,
  );
  b.list(
    "Missed runs",
    d.missedJobs.map(
      (m) =>
        `${code(m.name)} ${m.slots === 1 ? `missed its ${formatTime(m.first, tz)} run` : `missed ${m.slots} runs from ${formatTime(m.first, tz)}`}${owner(m.owner)}`,
    ),
    LIST,
  );
  b.list(
    "Stale datasets",
    d.datasets.staleList.map(
      (s) =>
        `${code(s.name)} last updated ${formatDuration(s.ageMs)} before the end of the ${periods.period.days === 1 ? "day" : "week"} (SLA ${formatDuration(s.slaMs)})${owner(s.owner)}`,
    ),
    LIST,
  );
  b.list(
    "Late deliveries by supplier",
    d.deliveries.bySupplier
      .filter((s) => s.late + s.missing > 0)
      .map(
        (s) =>
          `${code(s.supplier)}: ${[s.late ? `${s.late} late` : "", s.missing ? `${s.missing} missing` : ""].filter(Boolean).join(", ")} of ${s.due}${s.late ? `, up to ${formatDuration(s.worstMs)} late` : ""}${owner(s.owner)}`,
      ),
    LIST,
  );
  b.list(
    `Failing tests (${esc(d.tests.environment)})`,
    d.tests.failing.map(
      (t) =>
        `${t.status === "warn" ? "warn" : t.status}: ${code(t.name)}${t.value ? ` — ${esc(t.value)}` : ""}${owner(t.owner)}`,
    ),
    LIST,
  );
  b.from(
    `${periodLabel(periods.period)}, local days in ${tz}; compared with the ${periods.period.days === 1 ? "day before and the 7 days before" : "week before and the 4 weeks before"}. ` +
      `On time = started by slot + grace; ran long = over ${LONG_FACTOR}× the job's usual duration (median of the ${USUAL_DAYS} days before) and ${formatDuration(LONG_MIN_EXTRA_MS)} more.` +
      (!d.deliveries.shown
        ? " Supplier deliveries belong to no group and are left out."
        : req.environment
          ? " Supplier deliveries have no environment and are counted whatever the filter."
          : ""),
  );
  return finish("sla", title, b);
}

/**
 * Vega-Lite, 30 days: the share of expected runs that ran (top) above the failed runs per
 * day (bottom), one panel each on the same days. One plot with two y axes read badly: the
 * attainment line lay flat on a 90–100 axis while a one-failure bar reached up to the 95 %
 * gridline of the other axis, as if attainment had fallen.
 */
/** The plot width of each panel: the digest's width less the axis titles, labels and padding. */
const PANEL_WIDTH = CHART_WIDTH - 110;

export function slaChartSpec(d: SlaData): ChartSpec | undefined {
  const values = d.attainment
    .filter((a) => a.expected > 0 || a.failed > 0)
    .map((a) => ({
      day: a.day,
      pct: a.expected > 0 ? Math.round((1000 * a.ran) / a.expected) / 10 : null,
      failed: a.failed,
    }));
  if (values.length < 2) return undefined;
  const pcts = values.map((v) => v.pct).filter((p): p is number => p !== null);
  const last = values.at(-1)!;
  const x = (labels: boolean) => ({
    field: "day",
    type: "temporal",
    title: null,
    axis: labels ? { format: "%d %b", labelAngle: 0, tickCount: 8 } : { labels: false, ticks: false },
  });
  // The attainment axis starts low enough to show a dip, and says where it starts.
  const floor = Math.floor(Math.min(90, ...pcts));
  return {
    title: `SLA attainment, last ${CHART_DAYS} days${scopeText(d.req)}`,
    alt:
      `Daily share of expected runs that ran and failed runs per day, ${values[0]!.day} to ${last.day}` +
      `${last.pct !== null ? `: ${last.pct}% ran` : ""} and ${last.failed} failed on the last day.`,
    filename: `sla-${d.req.date}.png`,
    spec: {
      data: { values },
      vconcat: [
        {
          width: PANEL_WIDTH,
          height: 190,
          mark: {
            type: "line",
            color: "#2e7d32",
            strokeWidth: 2.5,
            point: { filled: true, color: "#2e7d32" },
          },
          encoding: {
            x: x(false),
            y: {
              field: "pct",
              type: "quantitative",
              title: ["% of expected", "runs that ran"],
              axis: { titleColor: "#2e7d32" },
              scale: { domain: [floor, 100] },
            },
          },
        },
        {
          width: PANEL_WIDTH,
          height: 70,
          mark: { type: "bar", color: "#e57373", opacity: 0.8, width: 12 },
          encoding: {
            x: x(true),
            y: {
              field: "failed",
              type: "quantitative",
              title: "failed runs",
              axis: { tickMinStep: 1, titleColor: "#c62828" },
              scale: { domainMin: 0, nice: true },
            },
          },
        },
      ],
      // One time axis for both panels, so a day's bar sits under its point.
      resolve: { scale: { x: "shared" } },
    },
  };
}

export default defineReport({
  name: "sla",
  title: "Daily SLA",
  heading: "SLA digest",
  compute: computeSla,
  render: renderSla,
  chart: slaChartSpec,
});
