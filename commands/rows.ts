// Rows: how many rows runs wrote (`rows` on run events) or a dataset's updates carried —
// in total over a window, in the last run, against the usual; for a group, an owner, an
// environment or the fleet, the jobs (or groups, environments, days) that wrote the most.
import { subDays } from "date-fns";
import { datasetUpdateFigures } from "../src/db/queries/dataset-figures.ts";
import { compact } from "../src/digests/common.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import {
  defineMeasure,
  figureKey,
  manyJobs,
  ranked,
  subjectFigures,
  USUAL_DAYS,
  usualFigures,
  versusUsual,
} from "../src/questions/measure.ts";

export interface RowsData {
  /** Runs (or a dataset's updates) in the window. */
  events: number;
  total: number | null;
  last: number | null;
  median: number | null;
  /** vs_usual: the median per run (update) of the 30 days before, and the verdict on the last. */
  usual?: { median: number; verdict: ReturnType<typeof versusUsual> };
  rows: { key: string; rows: number; runs: number }[];
  by: ReturnType<typeof figureKey>;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");

export default defineMeasure<RowsData>({
  id: "rows",
  title: "Rows",
  summary:
    "rows a job wrote or a dataset received over a period, the last run's, against usual; who wrote the most",
  examples: [
    "how many rows did extract_orders write yesterday",
    "rows added to analytics.fct_orders this week",
    "did stg_payments write 0 rows today?",
    "which jobs wrote the most rows yesterday",
  ],
  measure: "rows",
  subjects: ["job", "dataset", "group", "owner", "environment", "fleet"],
  defaultDays: 7,
  async compute(ctx, frame, window) {
    const by = figureKey(frame);
    if (frame.subject.kind === "dataset") {
      const name = frame.subject.name!;
      const f = await datasetUpdateFigures(ctx.store, name, window.from, window.to);
      const data: RowsData = {
        events: f.updates,
        total: f.rowsTotal,
        last: f.rowsLast,
        median: f.rowsMedian,
        rows: [],
        by,
      };
      if (frame.stat === "vs_usual" && f.rowsLast !== null && f.lastUpdateAt) {
        const end = window.given ? window.from : f.lastUpdateAt;
        const before = await datasetUpdateFigures(ctx.store, name, subDays(end, USUAL_DAYS), end);
        if (before.rowsMedian !== null)
          data.usual = { median: before.rowsMedian, verdict: versusUsual(f.rowsLast, before.rowsMedian) };
      }
      return data;
    }
    const figures = await subjectFigures(ctx, frame, window);
    const w = figures.whole;
    const data: RowsData = {
      events: w?.runs ?? 0,
      total: w?.rowsTotal ?? null,
      last: w?.rowsLast ?? null,
      median: w?.rowsMedian ?? null,
      rows: [],
      by,
    };
    if (manyJobs(frame)) {
      data.rows = ranked(figures.rows, (r) => r.rowsTotal, frame).map(({ row, value }) => ({
        key: row.key,
        rows: value,
        runs: row.runs,
      }));
    }
    if (frame.stat === "vs_usual" && w?.lastRunAt && data.last !== null) {
      const before = (await usualFigures(ctx, frame, window, w.lastRunAt)).figures;
      if (before?.rowsMedian != null)
        data.usual = { median: before.rowsMedian, verdict: versusUsual(data.last, before.rowsMedian) };
    }
    return data;
  },
  render(d, frame, _ctx, window) {
    const b = new AnswerBuilder();
    const where = frame.environment ? ` in ${frame.environment}` : "";
    const subject = frame.subject.name ? code(frame.subject.name) : "All jobs";
    const what = frame.subject.kind === "dataset" ? "update" : "run";
    if (d.total === null) {
      b.headline(
        d.events
          ? `${subject} had ${d.events} ${what}${d.events === 1 ? "" : "s"}${where} ${esc(window.label)}, but none reported a row count.`
          : `${subject} had no ${what}s${where} ${esc(window.label)}.`,
      );
      // "did X write 0 rows?": no run at all is not zero rows; say so rather than answer Yes.
      return b;
    }
    if (frame.polarity) {
      // "did X write 0 rows / any rows": Yes means rows were written (present) or none (absent).
      const wrote = d.total > 0;
      b.headline(
        `${wrote === (frame.polarity === "present") ? "Yes" : "No"} — ${subject} wrote ${int(d.total)} rows${where} ${esc(window.label)} over ${d.events} ${what}${d.events === 1 ? "" : "s"}.`,
      );
    } else if (frame.stat === "vs_usual" && d.usual) {
      const word = { more: "more than usual", less: "fewer than usual", usual: "about as usual" }[
        d.usual.verdict.verdict
      ];
      b.headline(
        `${subject}'s last ${what} wrote ${int(d.last!)} rows, ${word}: ${d.usual.verdict.ratio.toFixed(1)}× its usual ${int(d.usual.median)}.`,
      );
    } else if (frame.stat === "last")
      b.headline(`${subject}'s last ${what}${where} wrote ${int(d.last!)} rows.`);
    else
      b.headline(
        `${subject} wrote ${int(d.total)} rows${where} ${esc(window.label)} over ${d.events} ${what}${d.events === 1 ? "" : "s"}.`,
      );
    if (d.rows.length)
      b.list(
        `Rows per ${d.by}`,
        d.rows.map((r) => `${code(r.key)} ${compact(r.rows)} (${r.runs} run${r.runs === 1 ? "" : "s"})`),
      );
    return b.from(`from ${d.events} ${what}${d.events === 1 ? "" : "s"} ${window.label}`);
  },
});
