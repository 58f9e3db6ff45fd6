// Yesterday's work: how many jobs ran in a period and how long they took — runs, outcomes,
// total run time, p50/p95 of run durations, the slowest jobs and the ones that failed.
//
// Where the numbers come from: a window of whole UTC days is read from the daily rollup
// (run_daily, one row per job and day) and so never touches raw runs for its counts; any
// other window (a local "yesterday" outside UTC, "last night", "this week") aggregates raw
// runs bounded by run_at, which the BRIN index serves (one day ≈ 25k runs at 10M runs).
// p50/p95 are exact — percentile_cont over the raw run durations of the window — for
// windows up to MAX_RAW_DAYS: a fleet-wide percentile cannot be derived from per-job
// percentiles. Longer windows read only the rollup and give percentiles of the per-job
// daily p50/p95 instead, labelled as approximate.
import { sql } from "drizzle-orm";
import { fleetRead } from "../src/db/queries.ts";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code } from "../src/questions/answer.ts";
import { formatDuration, scopeOf, scopeFilter } from "../src/questions/format.ts";
import { during, formatDateTime, parseTimeWindow } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";

const DAY_MS = 86_400_000;
/** Longest window whose p50/p95 are computed exactly from raw runs (a week, plus DST slack). */
const MAX_RAW_DAYS = 8;

const HOW_MANY_RAN =
  /\bhow many (?:jobs|runs|pipelines|tasks|dags)\b(?!.*\b(?:will|going to|scheduled|expected|planned|left)\b).*\b(?:ran|run|executed|completed|finished)\b/;
const HOW_LONG_ALL =
  /\bhow long did (?:the |all (?:the )?|our )?(?:jobs|runs|pipelines|everything|it all|they all|they)\b/;
const WORK = /\b(?:yesterday|last night|today|this week|last week)'?s (?:work|runs|jobs|batch|load)\b/;
const WHAT_RAN = /\bwhat (?:ran|happened|ran and how long)\b/;
const SUMMARY = /\b(?:summary|summari[sz]e|recap|stats|statistics|numbers)\b.*\b(?:runs|jobs|work|batch)\b/;
const HOW_MANY_RUNS =
  /\bhow many runs\b(?!.*\b(?:will|going to|scheduled|expected|planned|left|missed|missing|failed|late)\b)/;
const RUN_TIME =
  /\b(?:total|overall|fleet) (?:run ?time|runtime|compute time)\b|\bp(?:50|95) of (?:all )?(?:runs|run durations)\b/;

interface Totals {
  jobs: number;
  runs: number;
  successes: number;
  failures: number;
  running: number;
  total_ms: number;
  p50: number | null;
  p95: number | null;
  timed: number;
}

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

const command: Command = {
  id: "yesterdays-work",
  title: "Yesterday's work",
  summary:
    "how many jobs ran in a period and how long they took: outcomes, total run time, p50/p95, slowest jobs",
  examples: [
    "how many jobs ran yesterday and how long did they take?",
    "yesterday's work",
    "how many jobs ran last night in prod?",
    "how many jobs ran this week in finance_close?",
    "summary of runs on 2026-11-20",
  ],
  match(q) {
    const raw = q.raw.toLowerCase();
    if (HOW_MANY_RAN.test(q.text)) return 0.9;
    if (WORK.test(raw)) return 0.9;
    if (HOW_LONG_ALL.test(q.text) && !q.names.length) return 0.85;
    if (RUN_TIME.test(q.text)) return 0.8;
    if (HOW_MANY_RUNS.test(q.text)) return q.window ? 0.75 : 0.6;
    if (SUMMARY.test(q.text) && q.window && q.window.from < q.window.to) return 0.75;
    if (WHAT_RAN.test(q.text) && !q.names.length) return 0.7;
    return 0;
  },
  async run(ctx, q) {
    const tz = ctx.timezone;
    const w = q.window ?? parseTimeWindow("yesterday", ctx.now, tz)!;
    const scope = await scopeOf(ctx, q);
    const b = new AnswerBuilder();

    // A window reaching into the future (e.g. "today") ends now; a long rolling window is
    // widened to whole UTC days so it can be read from the rollup.
    const aligned = w.from.getTime() % DAY_MS === 0 && w.to.getTime() % DAY_MS === 0;
    const spanDays = (Math.min(w.to.getTime(), ctx.now.getTime()) - w.from.getTime()) / DAY_MS;
    const useRollup = aligned || spanDays > MAX_RAW_DAYS;
    const exactPct = spanDays <= MAX_RAW_DAYS;
    const lo = useRollup ? new Date(Math.floor(w.from.getTime() / DAY_MS) * DAY_MS) : w.from;
    const hi = useRollup
      ? new Date(Math.ceil(w.to.getTime() / DAY_MS) * DAY_MS)
      : new Date(Math.min(w.to.getTime(), ctx.now.getTime()));
    const widened = useRollup && !aligned;

    let where = during(w.label);
    if (q.environment) where += ` in ${q.environment}`;
    const scopeText = scope
      ? scope.kind === "group"
        ? ` in ${code(scope.name)}`
        : ` of ${code(scope.name)}`
      : "";
    if (hi <= lo) {
      b.headline(`Nothing has run ${where}${scopeText} yet: that window has not started.`);
      return b.build();
    }

    const { scopeJ, envJ, envR } = scopeFilter(q, scope);
    // Raw runs carry their own environment; the rollup only knows the job's.
    const rawWindow = sql`r.run_at >= ${ts(lo)} AND r.run_at < ${ts(hi)}`;

    // The exact percentiles sort every duration of the window (a day: 25k+ values): JIT off
    // and sort memory up (fleetRead), and no join to jobs unless a group or job narrows it.
    const rawPct = async () =>
      (
        await fleetRead(ctx.store, (read) =>
          read<{ p50: number | null; p95: number | null; timed: number }>(
            sql`SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p50,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p95,
                  count(r.duration_ms)::int AS timed
                FROM runs r ${scope ? sql`JOIN jobs j ON j.id = r.job_id` : sql``}
                WHERE ${rawWindow} ${envR} ${scopeJ}`,
          ),
        )
      )[0]!;
    // Failures only ever touch the failing minority (partial index on failed runs).
    const failedRuns = () =>
      ctx.store.query<{ name: string; n: number; last_at: string }>(
        sql`SELECT j.name, count(*)::int AS n, max(r.run_at)::text AS last_at
            FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.status = 'failed' AND ${rawWindow} ${envR} ${scopeJ}
            GROUP BY j.id, j.name ORDER BY 2 DESC, 1 LIMIT 50`,
      );

    let t: Totals;
    let slowest: { name: string; max_ms: number; runs: number }[];
    let failed: { name: string; n: number; last_at: string }[];
    // The parts are independent reads: asked together, they cost the slowest, not the sum.
    if (useRollup) {
      const fromDay = dayOf(lo);
      const toDay = dayOf(hi);
      let rows: Totals[];
      let pct: Awaited<ReturnType<typeof rawPct>> | undefined;
      [rows, pct, slowest, failed] = await Promise.all([
        ctx.store.query<Totals>(
          sql`SELECT count(DISTINCT d.job_id)::int AS jobs, coalesce(sum(d.runs), 0)::int AS runs,
                coalesce(sum(d.successes), 0)::int AS successes, coalesce(sum(d.failures), 0)::int AS failures,
                coalesce(sum(d.running), 0)::int AS running,
                coalesce(sum(d.duration_total_ms), 0)::float8 AS total_ms,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY d.duration_p50_ms)::float8 AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY d.duration_p95_ms)::float8 AS p95,
                0 AS timed
              FROM run_daily d JOIN jobs j ON j.id = d.job_id
              WHERE d.day >= ${fromDay}::date AND d.day < ${toDay}::date ${envJ} ${scopeJ}`,
        ),
        exactPct ? rawPct() : Promise.resolve(undefined),
        ctx.store.query<{ name: string; max_ms: number; runs: number }>(
          sql`SELECT j.name, max(d.duration_max_ms)::float8 AS max_ms, sum(d.runs)::int AS runs
              FROM run_daily d JOIN jobs j ON j.id = d.job_id
              WHERE d.day >= ${fromDay}::date AND d.day < ${toDay}::date ${envJ} ${scopeJ}
                AND d.duration_max_ms IS NOT NULL
              GROUP BY j.id, j.name ORDER BY 2 DESC, 1 LIMIT 5`,
        ),
        failedRuns(),
      ]);
      t = rows[0]!;
      if (pct) Object.assign(t, pct);
    } else {
      let rows: Totals[];
      [rows, slowest, failed] = await Promise.all([
        fleetRead(ctx.store, (read) =>
          read<Totals>(
            sql`SELECT count(DISTINCT r.job_id)::int AS jobs, count(*)::int AS runs,
                  count(*) FILTER (WHERE r.status = 'success')::int AS successes,
                  count(*) FILTER (WHERE r.status = 'failed')::int AS failures,
                  count(*) FILTER (WHERE r.status = 'running')::int AS running,
                  coalesce(sum(r.duration_ms), 0)::float8 AS total_ms,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p50,
                  percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_ms)::float8 AS p95,
                  count(r.duration_ms)::int AS timed
                FROM runs r JOIN jobs j ON j.id = r.job_id
                WHERE ${rawWindow} ${envR} ${scopeJ}`,
          ),
        ),
        ctx.store.query<{ name: string; max_ms: number; runs: number }>(
          sql`SELECT j.name, max(r.duration_ms)::float8 AS max_ms, count(*)::int AS runs
              FROM runs r JOIN jobs j ON j.id = r.job_id
              WHERE ${rawWindow} ${envR} ${scopeJ} AND r.duration_ms IS NOT NULL
              GROUP BY j.id, j.name ORDER BY 2 DESC, 1 LIMIT 5`,
        ),
        failedRuns(),
      ]);
      t = rows[0]!;
    }

    const span = widened
      ? ` (read as whole UTC days ${dayOf(lo)} to ${dayOf(new Date(hi.getTime() - 1))})`
      : "";
    if (t.runs === 0) {
      b.headline(`No jobs ran ${where}${scopeText}.`);
      return b
        .from(useRollup ? `from the daily rollup for ${where}${span}` : `from the run history ${where}`)
        .build();
    }

    const other = t.runs - t.successes - t.failures - t.running;
    const outcome = [
      `${t.successes.toLocaleString("en-US")} succeeded`,
      `${t.failures.toLocaleString("en-US")} failed`,
      ...(t.running ? [`${t.running.toLocaleString("en-US")} still running`] : []),
      ...(other > 0 ? [`${other.toLocaleString("en-US")} cancelled or skipped`] : []),
    ].join(", ");
    b.headline(
      `${t.jobs.toLocaleString("en-US")} job${t.jobs === 1 ? "" : "s"} ran ${t.runs.toLocaleString("en-US")} time${t.runs === 1 ? "" : "s"} ${where}${scopeText}: ` +
        `${outcome} — ${formatDuration(t.total_ms)} of run time in total.`,
    );
    const pctLabel = exactPct ? "" : " (approx.)";
    b.fields([
      ["Jobs", t.jobs.toLocaleString("en-US")],
      ["Runs", t.runs.toLocaleString("en-US")],
      ["Succeeded", t.successes.toLocaleString("en-US")],
      ["Failed", t.failures.toLocaleString("en-US")],
      ["Total run time", formatDuration(t.total_ms)],
      [`Median run (p50)${pctLabel}`, t.p50 === null ? "–" : formatDuration(t.p50)],
      [`p95 run${pctLabel}`, t.p95 === null ? "–" : formatDuration(t.p95)],
      ...(t.running ? ([["Still running", t.running.toLocaleString("en-US")]] as [string, string][]) : []),
    ]);
    b.list(
      "Slowest jobs",
      slowest.map(
        (s) =>
          `${code(s.name)} — ${formatDuration(s.max_ms)}${s.runs > 1 ? ` (longest of ${s.runs.toLocaleString("en-US")} runs)` : ""}`,
      ),
    );
    b.list(
      "Failed",
      failed.map(
        (f) =>
          `${code(f.name)} — ${f.n} failed run${f.n === 1 ? "" : "s"}, last ${formatDateTime(new Date(f.last_at), tz, ctx.now)}`,
      ),
    );
    const pctSource = exactPct
      ? `p50/p95 exact over ${t.timed.toLocaleString("en-US")} finished runs`
      : "p50/p95 approximated from per-job daily percentiles";
    return b
      .from(
        useRollup
          ? `from the daily rollup ${where}${span}; ${pctSource}`
          : `from ${t.runs.toLocaleString("en-US")} runs ${where}; ${pctSource}`,
      )
      .build();
  },
};

export default command;
