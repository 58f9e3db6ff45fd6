// Failure rate: the share of runs that failed — one job's, or for a group, an owner, an
// environment or the fleet as a whole and per job (or per group, environment, day),
// ranked.
import type { Figures } from "../src/db/queries/run-figures.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct } from "../src/questions/format.ts";
import { defineMeasure, figureKey, manyJobs, ranked, subjectFigures } from "../src/questions/measure.ts";

export interface FailureRateData {
  /** The subject's runs as a whole (undefined: no run in the window). */
  whole?: { runs: number; failures: number; rate: number };
  /** Each job (or group, environment, day) with its rate, ranked; empty for one job. */
  rows: { key: string; runs: number; failures: number; rate: number }[];
  by: ReturnType<typeof figureKey>;
}

/** Runs that ended (a run still going has not failed yet). */
const ended = (f: Figures) => f.runs - f.running;
const rate = (f: Figures) => (ended(f) ? f.failures / ended(f) : 0);

export default defineMeasure<FailureRateData>({
  id: "failure-rate",
  title: "Failure rate",
  summary: "the share of a job's (or a group's, or every job's) runs that failed, ranked",
  examples: [
    "failure rate of fx_revaluation over the last 7 days",
    "how reliable is stg_orders",
    "what % of ml_features runs failed this month",
    "failure rate per environment this week",
  ],
  measure: "failure_rate",
  subjects: ["job", "group", "owner", "environment", "fleet"],
  defaultDays: 30,
  async compute(ctx, frame, window) {
    const by = figureKey(frame);
    const data: FailureRateData = { by, rows: [] };
    const figures = await subjectFigures(ctx, frame, window);
    const whole = figures.whole;
    if (whole) data.whole = { runs: ended(whole), failures: whole.failures, rate: rate(whole) };
    if (manyJobs(frame)) {
      data.rows = ranked(figures.rows, rate, frame).map(({ row, value }) => ({
        key: row.key,
        runs: ended(row),
        failures: row.failures,
        rate: value,
      }));
      // A rate over one run says little: ties at 100 % are broken by how many failed.
      if (!frame.rank || frame.rank.order === "most")
        data.rows.sort((a, b) => b.rate - a.rate || b.failures - a.failures);
    }
    return data;
  },
  render(d, frame, _ctx, window) {
    const b = new AnswerBuilder();
    const where = frame.environment ? ` in ${frame.environment}` : "";
    const subject = frame.subject.name ? code(frame.subject.name) : "All jobs";
    if (!d.whole) {
      b.headline(`${subject} had no runs${where} ${esc(window.label)}.`);
      return b;
    }
    const w = d.whole;
    b.headline(
      `${subject} failed ${w.failures} of ${w.runs} run${w.runs === 1 ? "" : "s"}${where} ${esc(window.label)}: a failure rate of ${pct(w.failures, w.runs)}.`,
    );
    if (d.rows.length)
      b.list(
        `Failure rate per ${d.by}`,
        d.rows.map((r) => `${code(r.key)} ${pct(r.failures, r.runs)} (${r.failures} of ${r.runs})`),
      );
    return b.from(`from ${w.runs} runs ${window.label}`);
  },
});
