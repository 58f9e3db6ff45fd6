// Quality: is dataset X the right quality (the latest result of each of its tests), how
// many tests ran / passed / failed / warned in an environment, and the pass-rate trend
// day by day with a sparkline. Reads test_results through its indexes: (test_id, at) for
// one dataset's tests, (environment, at) for counts and trends; without an environment the
// environments are enumerated with a skip scan and each is read by that same index.
import { type SQL, sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct, statusIcon } from "../src/questions/format.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { formatDateTime, formatDay, localDay } from "../src/time/index.ts";
import type { AskContext, Command, Question, TimeWindow } from "../src/questions/types.ts";

const DAY_MS = 86_400_000;
/** How far back "the latest result" of a test is looked for. */
const LATEST_LOOKBACK_MS = 30 * DAY_MS;
/** Latest results older than this are called out: the tests may have stopped running. */
const OLD_RESULT_MS = 36 * 3_600_000;
const SPARKS = "▁▂▃▄▅▆▇█";

const TESTS = /\btests?\b|\b(?:dq|quality|data) checks?\b|\bassertions?\b|\bexpectations?\b/;
const OUTCOME =
  /\b(?:pass\w*|fail\w*|warn\w*|errors?|ran|run|running|results?|rate|trend\w*|green|red|broken|how many|status)\b/;
const QUALITY = /\b(?:quality|dq|trustworthy|trust|good data|bad data)\b/;
const TREND =
  /\b(?:trend\w*|over time|per day|by day|daily|day by day|each day|history|historical|sparkline)\b/;

interface LatestRow {
  test: string;
  namespace: string | null;
  dataset: string | null;
  status: string;
  environment: string | null;
  value: string | null;
  at: string;
}

interface CountRow {
  environment: string | null;
  results: number;
  tests: number;
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

interface DayRow {
  day: string;
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

interface BadRow {
  test: string;
  dataset: string | null;
  status: string;
  environment: string | null;
  value: string | null;
  at: string;
}

type Subject = { kind: "dataset" | "job" | "group"; name: string } | { kind: "all" };

function defaultWindow(now: Date): TimeWindow {
  return { from: new Date(now.getTime() - 7 * DAY_MS), to: now, label: "the last 7 days", phrase: "" };
}

const during = (label: string) => (label.startsWith("the ") ? `in ${label}` : label);
const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
const looksLikeName = (n: string) => /[_.\d]/.test(n);

async function pickSubject(ctx: AskContext, q: Question): Promise<Subject> {
  const words = q.text.split(/\s+/).filter((w) => w.length > 2);
  for (const cands of [q.names, words]) {
    for (const kind of ["dataset", "job", "group"] as const) {
      const found = await findKnown(ctx.store, kind, cands);
      if (found) return { kind, name: found };
    }
  }
  const given = q.names.find(looksLikeName);
  if (given) {
    const known = [...(await knownNames(ctx.store, "dataset")), ...(await knownNames(ctx.store, "job"))];
    throw new UnknownNameError("dataset", given, closest(given, known));
  }
  return { kind: "all" };
}

/** The tests a subject covers, as a predicate on tests t. */
function testsOf(s: Subject): SQL {
  if (s.kind === "dataset") return sql`t.dataset_id IN (SELECT id FROM datasets WHERE name = ${s.name})`;
  if (s.kind === "job") return sql`t.job_id IN (SELECT id FROM jobs WHERE name = ${s.name})`;
  if (s.kind === "group") return sql`t.job_id IN (SELECT id FROM jobs WHERE group_name = ${s.name})`;
  return sql`true`;
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

function sparkline(rates: (number | null)[]): string {
  const known = rates.filter((r): r is number => r !== null);
  if (known.length === 0) return "";
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  return rates
    .map((r) => {
      if (r === null) return "·";
      if (hi === lo) return SPARKS[SPARKS.length - 1]!;
      return SPARKS[Math.round(((r - lo) / (hi - lo)) * (SPARKS.length - 1))]!;
    })
    .join("");
}

/** Passed share of results that ran (skips excluded). */
const judged = (r: { pass: number; fail: number; warn: number; error: number }) =>
  r.pass + r.fail + r.warn + r.error;

function resultLine(r: LatestRow | BadRow, ctx: AskContext, showDataset: boolean): string {
  const ds = showDataset && r.dataset ? ` on ${code(r.dataset)}` : "";
  const env = r.environment ? `${esc(r.environment)}, ` : "";
  const value = r.value ? `: ${esc(r.value.slice(0, 160))}` : "";
  return `${statusIcon(r.status)} ${code(r.test)}${ds} — ${r.status}${value} (${env}${formatDateTime(new Date(r.at), ctx.timezone, ctx.now)})`;
}

async function latestResults(ctx: AskContext, q: Question, subj: Subject): Promise<AnswerBuilder> {
  const asOf = q.window ? new Date(Math.min(q.window.to.getTime(), ctx.now.getTime())) : ctx.now;
  const since = q.window ? q.window.from : new Date(asOf.getTime() - LATEST_LOOKBACK_MS);
  const env = q.environment ? sql`AND r.environment = ${q.environment}` : sql``;
  // The latest result of each test in each environment (one short index range per test).
  const rows = await ctx.store.query<LatestRow>(
    sql`SELECT t.name AS test, d.namespace, d.name AS dataset, l.status, l.environment, l.value, l.at::text AS at
        FROM tests t LEFT JOIN datasets d ON d.id = t.dataset_id
        CROSS JOIN LATERAL (
          SELECT DISTINCT ON (r.environment) r.status, r.environment, r.value, r.at
          FROM test_results r
          WHERE r.test_id = t.id AND r.at >= ${ts(since)} AND r.at <= ${ts(asOf)} ${env}
          ORDER BY r.environment, r.at DESC
        ) l
        WHERE ${testsOf(subj)}
        ORDER BY l.environment NULLS LAST, t.name`,
  );
  const b = new AnswerBuilder();
  const name = subj.kind === "all" ? "" : subj.name;
  const what = subj.kind === "group" ? `pipeline ${code(name)}` : code(name);
  const envNote = q.environment ? ` in ${q.environment}` : "";
  const period = q.window ? ` ${during(q.window.label)}` : "";
  if (rows.length === 0) {
    const anyTests = await ctx.store.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM tests t WHERE ${testsOf(subj)}`,
    );
    b.headline(
      anyTests[0]?.n
        ? `${what} has ${plural(anyTests[0].n, "test")}, but none reported a result${envNote}${period || " in the last 30 days"}.`
        : `No tests report on ${what}, so Houston can't judge its quality. Tests arrive as \`test\` events (dbt, Great Expectations, Soda…).`,
    );
    return b.from(`from the tests of ${name}`);
  }
  const envs = [...new Set(rows.map((r) => r.environment))];
  const primary = q.environment ?? (envs.includes("prod") ? "prod" : envs[0]);
  const main = rows.filter((r) => r.environment === primary);
  const bad = main.filter((r) => r.status === "fail" || r.status === "error");
  const warn = main.filter((r) => r.status === "warn");
  const where = primary ? ` in ${primary}` : "";
  const newest = Math.max(...main.map((r) => new Date(r.at).getTime()));
  if (bad.length) {
    b.headline(
      `No — ${bad.length} of ${plural(main.length, "test")} on ${what} failed in the latest run${where}: ${bad
        .slice(0, 3)
        .map((r) => code(r.test))
        .join(", ")}${bad.length > 3 ? ` and ${bad.length - 3} more` : ""}.`,
    );
  } else if (warn.length) {
    b.headline(
      `Mostly — ${main.length - warn.length} of ${plural(main.length, "test")} on ${what} passed${where}; ${warn.length} warned: ${warn
        .slice(0, 3)
        .map((r) => code(r.test))
        .join(", ")}.`,
    );
  } else {
    b.headline(
      `Yes — ${main.length === 1 ? "its test" : `all ${main.length} tests`} on ${what} passed in the latest run${where}${period}.`,
    );
  }
  if (asOf.getTime() - newest > OLD_RESULT_MS) {
    b.section(
      `:warning: The latest result${where} is from ${formatDateTime(new Date(newest), ctx.timezone, ctx.now)}: these tests have not reported since, so this may be out of date.`,
    );
  }
  const showDs = subj.kind !== "dataset";
  b.list(
    `Latest results${where}`,
    main.map((r) => resultLine(r, ctx, showDs)),
  );
  for (const e of envs.filter((x) => x !== primary)) {
    const inEnv = rows.filter((r) => r.environment === e);
    const ok = inEnv.filter((r) => r.status === "pass").length;
    const notOk = inEnv.filter((r) => r.status !== "pass" && r.status !== "skip");
    b.section(
      `In ${esc(e ?? "no environment")}: ${ok} of ${plural(inEnv.length, "test")} passed${notOk.length ? ` — ${notOk.map((r) => `${code(r.test)} ${r.status}`).join(", ")}` : ""}.`,
    );
  }
  return b.from(
    `from the latest result of each of ${plural(new Set(rows.map((r) => r.test)).size, "test")} on ${name}${q.window ? ` ${during(q.window.label)}` : " (last 30 days)"}`,
  );
}

const command: Command = {
  id: "quality",
  title: "Data quality",
  summary:
    "test results: a dataset's latest test outcomes, tests run/passed/failed per environment, pass-rate trend",
  examples: [
    "is analytics.fct_orders the right quality?",
    "how many tests ran in QA, passed, failed, warned?",
    "test pass rate over time in prod",
    "tests pass/fail trend this week",
    "how many tests run in production?",
  ],
  match(q) {
    if (QUALITY.test(q.text)) return 0.9;
    if (TESTS.test(q.text)) return OUTCOME.test(q.text) ? 0.9 : 0.6;
    return 0;
  },
  async run(ctx, q) {
    const subj = await pickSubject(ctx, q);
    const trend = TREND.test(q.text);
    if (subj.kind !== "all" && !trend) return (await latestResults(ctx, q, subj)).build();

    const w = q.window ?? defaultWindow(ctx.now);
    const to = new Date(Math.min(w.to.getTime(), ctx.now.getTime()));
    const when = during(w.label);
    const envNote = q.environment ? ` in ${q.environment}` : "";
    const onSubj =
      subj.kind === "all" ? "" : ` on ${subj.kind === "group" ? "pipeline " : ""}${code(subj.name)}`;
    const results = resultsIn(w.from, to, q.environment);
    const scope =
      subj.kind === "all" ? sql`` : sql`AND r.test_id IN (SELECT t.id FROM tests t WHERE ${testsOf(subj)})`;
    const b = new AnswerBuilder();

    if (trend) {
      const tz = ctx.timezone;
      const rows = await ctx.store.query<DayRow>(
        sql`SELECT to_char((r.at AT TIME ZONE ${tz})::date, 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE r.status = 'pass')::int AS pass,
              count(*) FILTER (WHERE r.status = 'fail')::int AS fail,
              count(*) FILTER (WHERE r.status = 'warn')::int AS warn,
              count(*) FILTER (WHERE r.status = 'error')::int AS error,
              count(*) FILTER (WHERE r.status = 'skip')::int AS skip
            FROM ${results} r WHERE true ${scope}
            GROUP BY 1 ORDER BY 1`,
      );
      const byDay = new Map(rows.map((r) => [r.day, r]));
      // Every local day of the window, so a day without tests shows as a gap.
      const days: { label: string; row?: DayRow }[] = [];
      for (
        let d = localDay(w.from, tz).from;
        d < to;
        d = localDay(new Date(d.getTime() + 36 * 3_600_000), tz).from
      ) {
        const key = new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(d);
        const row = byDay.get(key);
        days.push(row ? { label: formatDay(d, tz), row } : { label: formatDay(d, tz) });
      }
      const total = rows.reduce(
        (a, r) => ({
          pass: a.pass + r.pass,
          fail: a.fail + r.fail,
          warn: a.warn + r.warn,
          error: a.error + r.error,
          skip: a.skip + r.skip,
        }),
        { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
      );
      if (judged(total) === 0) {
        b.headline(`No test results${onSubj}${envNote} ${when}.`);
        return b.from(`from test results${envNote} ${when}`).build();
      }
      const rates = days.map((d) => (d.row && judged(d.row) ? d.row.pass / judged(d.row) : null));
      let worst = -1;
      rates.forEach((r, i) => {
        if (r !== null && (worst < 0 || r < rates[worst]!)) worst = i;
      });
      const allSame = rates.every((r) => r === null || r === rates[worst]);
      b.headline(
        `Test pass rate${onSubj}${envNote} ${when}: ${pct(total.pass, judged(total))} (${total.pass.toLocaleString("en-US")} of ${judged(total).toLocaleString("en-US")} results)` +
          (allSame
            ? ", the same every day."
            : `; lowest ${days[worst]!.label} at ${pct(days[worst]!.row!.pass, judged(days[worst]!.row!))}.`),
      );
      const lo = Math.min(...rates.filter((r): r is number => r !== null));
      b.section(
        `\`${sparkline(rates)}\`  ${days[0]!.label} → ${days[days.length - 1]!.label}` +
          (allSame
            ? ""
            : `  _(scaled from ${pct(lo * 1000, 1000)} to ${pct(Math.max(...rates.filter((r): r is number => r !== null)) * 1000, 1000)})_`),
      );
      b.list(
        "Per day",
        days.map((d) =>
          d.row
            ? `${d.label} — ${d.row.pass} pass, ${d.row.fail} fail, ${d.row.warn} warn${d.row.error ? `, ${d.row.error} error` : ""}${d.row.skip ? `, ${d.row.skip} skip` : ""} (${pct(d.row.pass, judged(d.row))})`
            : `${d.label} — no results`,
        ),
        31,
      );
      return b
        .from(
          `from ${(judged(total) + total.skip).toLocaleString("en-US")} test results${envNote} ${when}, days in ${tz}; pass rate = pass / (pass + fail + warn + error)`,
        )
        .build();
    }

    const counts = await ctx.store.query<CountRow>(
      sql`SELECT r.environment, count(*)::int AS results, count(DISTINCT r.test_id)::int AS tests,
            count(*) FILTER (WHERE r.status = 'pass')::int AS pass,
            count(*) FILTER (WHERE r.status = 'fail')::int AS fail,
            count(*) FILTER (WHERE r.status = 'warn')::int AS warn,
            count(*) FILTER (WHERE r.status = 'error')::int AS error,
            count(*) FILTER (WHERE r.status = 'skip')::int AS skip
          FROM ${results} r WHERE true ${scope}
          GROUP BY r.environment ORDER BY count(*) DESC, r.environment`,
    );
    if (counts.length === 0) {
      b.headline(`No tests ran${onSubj}${envNote} ${when}.`);
      return b.from(`from test results${envNote} ${when}`).build();
    }
    const bad = await ctx.store.query<BadRow>(
      sql`SELECT t.name AS test, d.name AS dataset, r.status, r.environment, r.value, r.at::text AS at
          FROM ${results} r JOIN tests t ON t.id = r.test_id LEFT JOIN datasets d ON d.id = t.dataset_id
          WHERE r.status IN ('fail', 'error', 'warn') ${scope}
          ORDER BY r.at DESC LIMIT 50`,
    );
    const sum = counts.reduce(
      (a, c) => ({
        results: a.results + c.results,
        pass: a.pass + c.pass,
        fail: a.fail + c.fail,
        warn: a.warn + c.warn,
        error: a.error + c.error,
        skip: a.skip + c.skip,
      }),
      { results: 0, pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
    );
    const distinctTests =
      counts.length === 1
        ? counts[0]!.tests
        : (
            await ctx.store.query<{ n: number }>(
              sql`SELECT count(DISTINCT r.test_id)::int AS n FROM ${results} r WHERE true ${scope}`,
            )
          )[0]!.n;
    const outcome = [
      `${sum.pass.toLocaleString("en-US")} passed`,
      `${sum.fail} failed`,
      `${sum.warn} warned`,
      ...(sum.error ? [`${sum.error} errored`] : []),
      ...(sum.skip ? [`${sum.skip} skipped`] : []),
    ].join(", ");
    b.headline(
      `${plural(distinctTests, "test")} ran${onSubj}${envNote} ${when}, ${plural(sum.results, "time")} in all: ${outcome} (pass rate ${pct(sum.pass, judged(sum))}).`,
    );
    if (counts.length > 1) {
      b.fields(
        counts.map((c) => [
          esc(c.environment ?? "no environment"),
          `${plural(c.tests, "test")}, ${plural(c.results, "result")}: ${c.pass} pass, ${c.fail} fail, ${c.warn} warn${c.error ? `, ${c.error} error` : ""}`,
        ]),
      );
    }
    b.list(
      "Failures and warnings (newest first)",
      bad.map((r) => resultLine(r, ctx, true)),
    );
    return b.from(`from ${plural(sum.results, "test result")}${envNote} ${when}`).build();
  },
};

export default command;
