// Quality: is dataset X the right quality (the latest result of each of its tests), how
// many tests ran / passed / failed / warned in an environment, and the pass-rate trend
// day by day with a sparkline. The results are read by src/db/queries/test-results.ts.
import {
  type EnvironmentOutcomes,
  latestTestResults,
  type Outcomes,
  testCount,
  testOutcomesPerDay,
  testOutcomesPerEnvironment,
  testProblems,
  testsReporting,
  type TestResult,
  type TestScope,
} from "../src/db/queries/test-results.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct, statusIcon } from "../src/questions/format.ts";
import { defineMeasure, frameOfWords } from "../src/questions/measure.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { canonicalEnv } from "../src/questions/scope.ts";
import { during, formatDateTime, formatDay, localDay } from "../src/time/index.ts";
import type { AskContext, Question } from "../src/questions/types.ts";
import type { Frame } from "../src/understanding/frame.ts";

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

/** What a tests question asks beyond its frame: the pass rate day by day ("trend", "over time"). */
export interface QualityAsk {
  trend: boolean;
}

export type QualityData =
  | {
      /** A dataset's, job's or pipeline's latest result of each test, in each environment. */
      view: "latest";
      asOf: Date;
      results: TestResult[];
      /** The environment judged: the one asked, else prod when it reported, else the first. */
      primary: string | null;
      /** Tests of the subject (counted only when none reported). */
      tests: number;
    }
  | {
      /** The pass rate per local day of the window, a day without results included. */
      view: "trend";
      days: { day: Date; outcomes: Outcomes | null }[];
      total: Outcomes;
    }
  | {
      /** Tests and results per environment over the window, and the results that did not pass. */
      view: "counts";
      perEnvironment: EnvironmentOutcomes[];
      total: Outcomes & { results: number };
      /** Distinct tests that reported. */
      tests: number;
      /** Failures, errors and warnings, newest first (at most 50). */
      problems: TestResult[];
    };

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;
const looksLikeName = (n: string) => /[_.\d]/.test(n);

/** The subject the words name, as the family always found it: a dataset, job or pipeline, else every test. */
async function subjectOfWords(ctx: AskContext, q: Question): Promise<Frame["subject"]> {
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
  return { kind: "fleet" };
}

function scopeOf(subject: Frame["subject"]): TestScope {
  const { kind, name } = subject;
  if (kind === "dataset") return { dataset: name! };
  if (kind === "job") return { job: name! };
  if (kind === "group") return { group: name! };
  return {};
}

/** The environment asked: said, or the subject when it is one. */
function environmentOf(frame: Frame): string | undefined {
  if (frame.environment) return frame.environment;
  return frame.subject.kind === "environment" ? (canonicalEnv(frame.subject.name!) ?? undefined) : undefined;
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
const judged = (r: Outcomes) => r.pass + r.fail + r.warn + r.error;

function resultLine(r: TestResult, ctx: AskContext, showDataset: boolean): string {
  const ds = showDataset && r.dataset ? ` on ${code(r.dataset)}` : "";
  const env = r.environment ? `${esc(r.environment)}, ` : "";
  const value = r.value ? `: ${esc(r.value.slice(0, 160))}` : "";
  return `${statusIcon(r.status)} ${code(r.test)}${ds} — ${r.status}${value} (${env}${formatDateTime(r.at, ctx.timezone, ctx.now)})`;
}

const sum = <T extends Outcomes>(rows: T[]): Outcomes =>
  rows.reduce(
    (a, r) => ({
      pass: a.pass + r.pass,
      fail: a.fail + r.fail,
      warn: a.warn + r.warn,
      error: a.error + r.error,
      skip: a.skip + r.skip,
    }),
    { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
  );

export default defineMeasure<QualityData, QualityAsk>({
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
  measure: "tests",
  subjects: ["dataset", "job", "group", "environment", "fleet"],
  defaultDays: 7,
  byDefault: "the last 7 days (a subject's latest results: the last 30 days)",
  // A subject's latest results look back 30 days, and counts name their period themselves.
  openingWindow: "asked",
  keywords: {
    match(q) {
      if (QUALITY.test(q.text)) return 0.9;
      if (TESTS.test(q.text)) return OUTCOME.test(q.text) ? 0.9 : 0.6;
      return 0;
    },
    async frame(ctx, q) {
      return frameOfWords(q, "tests", await subjectOfWords(ctx, q));
    },
  },
  details(q) {
    return { trend: TREND.test(q.text) };
  },
  async compute(ctx, frame, window, ask) {
    const scope = scopeOf(frame.subject);
    const environment = environmentOf(frame);
    const env = environment ? { environment } : {};
    const one = Object.keys(scope).length > 0;
    if (one && !ask.trend) {
      const asOf = window.given ? window.to : ctx.now;
      const since = window.given ? window.from : new Date(asOf.getTime() - LATEST_LOOKBACK_MS);
      const results = await latestTestResults(ctx.store, scope, { since, asOf, ...env });
      const envs = [...new Set(results.map((r) => r.environment))];
      const primary = environment ?? (envs.includes("prod") ? "prod" : (envs[0] ?? null));
      const tests = results.length ? 0 : await testCount(ctx.store, scope);
      return { view: "latest", asOf, results, primary, tests };
    }
    const range = { from: window.from, to: window.to, ...env };
    if (ask.trend) {
      const tz = ctx.timezone;
      const rows = await testOutcomesPerDay(ctx.store, scope, { ...range, timezone: tz });
      const byDay = new Map(rows.map((r) => [r.day, r]));
      // Every local day of the window, so a day without tests shows as a gap.
      const days: { day: Date; outcomes: Outcomes | null }[] = [];
      for (
        let d = localDay(window.from, tz).from;
        d < window.to;
        d = localDay(new Date(d.getTime() + 36 * 3_600_000), tz).from
      ) {
        const row = byDay.get(new Intl.DateTimeFormat("en-CA", { timeZone: tz }).format(d));
        days.push({
          day: d,
          outcomes: row
            ? { pass: row.pass, fail: row.fail, warn: row.warn, error: row.error, skip: row.skip }
            : null,
        });
      }
      return { view: "trend", days, total: sum(rows) };
    }
    const perEnvironment = await testOutcomesPerEnvironment(ctx.store, scope, range);
    if (perEnvironment.length === 0)
      return {
        view: "counts",
        perEnvironment,
        total: { ...sum([]), results: 0 },
        tests: 0,
        problems: [],
      };
    const [problems, tests] = await Promise.all([
      testProblems(ctx.store, scope, { ...range, limit: 50 }),
      perEnvironment.length === 1 ? perEnvironment[0]!.tests : testsReporting(ctx.store, scope, range),
    ]);
    const results = perEnvironment.reduce((n, e) => n + e.results, 0);
    return { view: "counts", perEnvironment, total: { ...sum(perEnvironment), results }, tests, problems };
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const environment = environmentOf(frame);
    const envNote = environment ? ` in ${environment}` : "";
    const { kind, name } = frame.subject;
    const one = kind === "dataset" || kind === "job" || kind === "group";
    const when = during(window.label);

    if (d.view === "latest") {
      const what = kind === "group" ? `pipeline ${code(name!)}` : code(name!);
      const period = window.given ? ` ${when}` : "";
      if (d.results.length === 0) {
        b.headline(
          d.tests
            ? `${what} has ${plural(d.tests, "test")}, but none reported a result${envNote}${period || " in the last 30 days"}.`
            : `No tests report on ${what}, so Houston can't judge its quality. Tests arrive as \`test\` events (dbt, Great Expectations, Soda…).`,
        );
        return b.from(`from the tests of ${name}`);
      }
      const main = d.results.filter((r) => r.environment === d.primary);
      const bad = main.filter((r) => r.status === "fail" || r.status === "error");
      const warn = main.filter((r) => r.status === "warn");
      const where = d.primary ? ` in ${d.primary}` : "";
      const newest = Math.max(...main.map((r) => r.at.getTime()));
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
      if (d.asOf.getTime() - newest > OLD_RESULT_MS) {
        b.section(
          `:warning: The latest result${where} is from ${formatDateTime(new Date(newest), ctx.timezone, ctx.now)}: these tests have not reported since, so this may be out of date.`,
        );
      }
      b.list(
        `Latest results${where}`,
        main.map((r) => resultLine(r, ctx, kind !== "dataset")),
      );
      for (const e of [...new Set(d.results.map((r) => r.environment))].filter((x) => x !== d.primary)) {
        const inEnv = d.results.filter((r) => r.environment === e);
        const ok = inEnv.filter((r) => r.status === "pass").length;
        const notOk = inEnv.filter((r) => r.status !== "pass" && r.status !== "skip");
        b.section(
          `In ${esc(e ?? "no environment")}: ${ok} of ${plural(inEnv.length, "test")} passed${notOk.length ? ` — ${notOk.map((r) => `${code(r.test)} ${r.status}`).join(", ")}` : ""}.`,
        );
      }
      return b.from(
        `from the latest result of each of ${plural(new Set(d.results.map((r) => r.test)).size, "test")} on ${name}${window.given ? ` ${when}` : " (last 30 days)"}`,
      );
    }

    const onSubj = one ? ` on ${kind === "group" ? "pipeline " : ""}${code(name!)}` : "";
    if (d.view === "trend") {
      const tz = ctx.timezone;
      const { total } = d;
      if (judged(total) === 0) {
        b.headline(`No test results${onSubj}${envNote} ${when}.`);
        return b.from(`from test results${envNote} ${when}`);
      }
      const days = d.days.map((x) => ({ label: formatDay(x.day, tz), row: x.outcomes }));
      const rates = days.map((x) => (x.row && judged(x.row) ? x.row.pass / judged(x.row) : null));
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
      const known = rates.filter((r): r is number => r !== null);
      b.section(
        `\`${sparkline(rates)}\`  ${days[0]!.label} → ${days[days.length - 1]!.label}` +
          (allSame
            ? ""
            : `  _(scaled from ${pct(Math.min(...known) * 1000, 1000)} to ${pct(Math.max(...known) * 1000, 1000)})_`),
      );
      b.list(
        "Per day",
        days.map((x) =>
          x.row
            ? `${x.label} — ${x.row.pass} pass, ${x.row.fail} fail, ${x.row.warn} warn${x.row.error ? `, ${x.row.error} error` : ""}${x.row.skip ? `, ${x.row.skip} skip` : ""} (${pct(x.row.pass, judged(x.row))})`
            : `${x.label} — no results`,
        ),
        31,
      );
      return b.from(
        `from ${(judged(total) + total.skip).toLocaleString("en-US")} test results${envNote} ${when}, days in ${tz}; pass rate = pass / (pass + fail + warn + error)`,
      );
    }

    if (d.perEnvironment.length === 0) {
      b.headline(`No tests ran${onSubj}${envNote} ${when}.`);
      return b.from(`from test results${envNote} ${when}`);
    }
    const sumAll = d.total;
    const outcome = [
      `${sumAll.pass.toLocaleString("en-US")} passed`,
      `${sumAll.fail} failed`,
      `${sumAll.warn} warned`,
      ...(sumAll.error ? [`${sumAll.error} errored`] : []),
      ...(sumAll.skip ? [`${sumAll.skip} skipped`] : []),
    ].join(", ");
    b.headline(
      `${plural(d.tests, "test")} ran${onSubj}${envNote} ${when}, ${plural(sumAll.results, "time")} in all: ${outcome} (pass rate ${pct(sumAll.pass, judged(sumAll))}).`,
    );
    if (d.perEnvironment.length > 1) {
      b.fields(
        d.perEnvironment.map((c) => [
          esc(c.environment ?? "no environment"),
          `${plural(c.tests, "test")}, ${plural(c.results, "result")}: ${c.pass} pass, ${c.fail} fail, ${c.warn} warn${c.error ? `, ${c.error} error` : ""}`,
        ]),
      );
    }
    b.list(
      "Failures and warnings (newest first)",
      d.problems.map((r) => resultLine(r, ctx, true)),
    );
    return b.from(`from ${plural(sumAll.results, "test result")}${envNote} ${when}`);
  },
});
