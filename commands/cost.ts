// Cost: what runs cost (the `cost` runs report) — one job's total over a window, its last
// and most expensive run, against its usual; or a group's, an owner's, an environment's or
// the fleet's total and the jobs (or groups, environments, days) that cost the most.
import { money } from "../src/digests/common.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct } from "../src/questions/format.ts";
import {
  defineMeasure,
  figureKey,
  manyJobs,
  ranked,
  subjectFigures,
  usualFigures,
  versusUsual,
} from "../src/questions/measure.ts";

export interface CostData {
  /**
   * Runs in the window, and those that reported a cost (a job that sends none has no cost).
   * Over many jobs the whole days come from the day rollup, which counts runs, not priced
   * runs: there `costed` is every run of a day that has a cost.
   */
  runs: number;
  costed: number;
  total: number;
  last: number | null;
  max: number | null;
  median: number | null;
  /** vs_usual: the median cost per run of the 30 days before, and the verdict on the last run. */
  usual?: { median: number; runs: number };
  verdict?: { ratio: number; verdict: "more" | "less" | "usual" };
  /** Each job (or group, environment, day, owner) with its total cost, ranked. */
  rows: { key: string; cost: number; runs: number }[];
  by: ReturnType<typeof figureKey>;
}

export default defineMeasure<CostData>({
  id: "cost",
  title: "Cost",
  summary: "what a job's, a group's or every job's runs cost over a period; the most expensive jobs",
  examples: [
    "how much did user_embeddings cost this month",
    "what did ml_features cost yesterday",
    "most expensive 5 jobs last week",
    "cost by environment this month",
  ],
  measure: "cost",
  subjects: ["job", "group", "owner", "environment", "fleet"],
  defaultDays: 30,
  async compute(ctx, frame, window) {
    const by = figureKey(frame);
    const figures = await subjectFigures(ctx, frame, window);
    const w = figures.whole;
    const data: CostData = {
      runs: w?.runs ?? 0,
      costed: w?.costed ?? 0,
      total: w?.costTotal ?? 0,
      last: w?.costLast ?? null,
      max: w?.costMax ?? null,
      median: w?.costMedian ?? null,
      rows: [],
      by,
    };
    if (manyJobs(frame)) {
      data.rows = ranked(figures.rows, (r) => (r.costed ? r.costTotal : null), frame).map(
        ({ row, value }) => ({
          key: row.key,
          cost: value,
          runs: row.runs,
        }),
      );
    }
    if (frame.stat === "vs_usual" && w?.lastRunAt && data.last !== null) {
      const before = (await usualFigures(ctx, frame, window, w.lastRunAt)).figures;
      if (before?.costMedian != null) {
        data.usual = { median: before.costMedian, runs: before.costed };
        data.verdict = versusUsual(data.last, before.costMedian);
      }
    }
    return data;
  },
  render(d, frame, _ctx, window) {
    const b = new AnswerBuilder();
    const where = frame.environment ? ` in ${frame.environment}` : "";
    const subject = frame.subject.name ? code(frame.subject.name) : "All jobs";
    if (!d.costed) {
      b.headline(
        d.runs
          ? `${subject} ran ${d.runs} time${d.runs === 1 ? "" : "s"}${where} ${esc(window.label)}, but no run reported a cost.`
          : `${subject} had no runs${where} ${esc(window.label)}.`,
      );
      if (d.runs) b.section("Send `cost` with run events (or `houston run --cost`) to see what runs cost.");
      return b;
    }
    if (frame.stat === "vs_usual" && d.verdict && d.usual) {
      const word = { more: "more than usual", less: "less than usual", usual: "about as usual" }[
        d.verdict.verdict
      ];
      const lead = frame.polarity
        ? `${(d.verdict.verdict === "more") === (frame.polarity === "present") ? "Yes" : "No"} — `
        : "";
      b.headline(
        `${lead}${subject}'s last run cost ${money(d.last!)}, ${word}: ${d.verdict.ratio.toFixed(1)}× its usual ${money(d.usual.median)} per run.`,
      );
    } else if (frame.stat === "last") b.headline(`${subject}'s last run${where} cost ${money(d.last!)}.`);
    else if (frame.stat === "max")
      b.headline(`${subject}'s most expensive run${where} ${esc(window.label)} cost ${money(d.max!)}.`);
    else
      b.headline(
        `${subject} cost ${money(d.total)}${where} ${esc(window.label)}, over ${d.runs} run${d.runs === 1 ? "" : "s"}.`,
      );
    if (d.rows.length)
      b.list(
        `Cost per ${d.by}`,
        d.rows.map((r) => `${code(r.key)} ${money(r.cost)} (${pct(r.cost, d.total)})`),
      );
    else
      b.fields([
        ["Total", money(d.total)],
        ["Last run", d.last === null ? "–" : money(d.last)],
        ["Usual run (median)", d.median === null ? "–" : money(d.median)],
        ["Most expensive run", d.max === null ? "–" : money(d.max)],
      ]);
    const unpriced = d.runs - d.costed;
    return b.from(
      `from ${d.runs} run${d.runs === 1 ? "" : "s"} ${window.label}${unpriced ? `, ${unpriced} of which reported no cost` : ""}`,
    );
  },
});
