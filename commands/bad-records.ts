// Bad records: how many records a job's runs (or a group's, an owner's, the fleet's) or a
// dataset's updates reported rejecting over a period, and the rate against the rows they
// wrote; over many jobs, the jobs (or groups, environments, days) that rejected the most.
import { type BadRecordFigures, datasetBadRecords, runBadRecords } from "../src/db/queries/bad-records.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { defineMeasure, figureKey, manyJobs, ranked, runScope } from "../src/questions/measure.ts";

export interface BadRecordsData {
  whole: BadRecordFigures;
  /** bad / (rows + bad) over the reporting runs; null when none reported. */
  rate: number | null;
  rows: BadRecordFigures[];
  by: ReturnType<typeof figureKey>;
}

const rateOf = (f: BadRecordFigures) => (f.reporting && f.rows + f.bad > 0 ? f.bad / (f.rows + f.bad) : null);
// Rejection rates are often tiny (0.012 %): two significant digits, never a rounded "0%".
const pct = (rate: number) => (rate === 0 ? "0%" : `${Number((100 * rate).toPrecision(2))}%`);
const EMPTY = (key: string): BadRecordFigures => ({
  key,
  runs: 0,
  reporting: 0,
  bad: 0,
  rows: 0,
  lastBad: null,
  lastAt: null,
});

export default defineMeasure<BadRecordsData>({
  id: "bad-records",
  title: "Bad records",
  summary:
    "records rejected by a job's runs or a dataset's updates, the rejection rate, the jobs rejecting most",
  examples: [
    "how many bad records did load_acme_settlements reject yesterday",
    "rejected records this week by job",
    "bad records in raw.acme_settlements this month",
  ],
  measure: "bad_records",
  subjects: ["job", "dataset", "group", "owner", "environment", "fleet"],
  defaultDays: 7,
  async compute(ctx, frame, window) {
    const by = figureKey(frame);
    if (frame.subject.kind === "dataset") {
      const whole = await datasetBadRecords(ctx.store, frame.subject.name!, window.from, window.to);
      return { whole, rate: rateOf(whole), rows: [], by };
    }
    const scope = runScope(frame);
    const [whole = EMPTY("all")] = await runBadRecords(ctx.store, scope, window.from, window.to, "all");
    const data: BadRecordsData = { whole, rate: rateOf(whole), rows: [], by };
    if (manyJobs(frame)) {
      const rows = await runBadRecords(ctx.store, scope, window.from, window.to, by);
      data.rows = ranked(
        rows.filter((r) => r.reporting > 0),
        (r) => r.bad,
        frame,
      ).map(({ row }) => row);
    }
    return data;
  },
  render(d, frame, _ctx, window) {
    const b = new AnswerBuilder();
    const what = frame.subject.kind === "dataset" ? "updates" : "runs";
    const name = frame.subject.name ? code(frame.subject.name) : "All jobs";
    const span = esc(window.label);
    const w = d.whole;
    if (!w.runs) b.headline(`${name} has no ${what} ${span}.`);
    else if (!w.reporting)
      b.headline(
        `None of the ${w.runs} ${what} of ${name} ${span} reported bad records (send \`bad_records\` with run or dataset events to count them).`,
      );
    else
      b.headline(
        `${name} rejected ${w.bad.toLocaleString("en-US")} record${w.bad === 1 ? "" : "s"} ${span}` +
          `${d.rate !== null ? ` (${pct(d.rate)} of ${(w.rows + w.bad).toLocaleString("en-US")} seen)` : ""}, over ${w.reporting} ${what} that reported.`,
      );
    if (d.rows.length)
      b.list(
        `By ${d.by}`,
        d.rows.map((r) => {
          const rate = rateOf(r);
          return `${code(r.key)} ${r.bad.toLocaleString("en-US")}${rate !== null ? ` (${pct(rate)})` : ""}`;
        }),
      );
    return b.from(`from ${what} that report bad_records`);
  },
});
