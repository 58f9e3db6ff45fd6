// Anomalies: which jobs and datasets behaved unlike themselves over a day or a week — run
// duration, rows, CPU, peak memory, rows per update, time of first update — scored as the
// anomaly digest scores them (reports/anomalies.ts: each day against its own trailing
// window). For one job or dataset, its own anomalies; for a group or an environment, theirs.
import { type Anomaly, anomalySentence, computeAnomalies, type Metric } from "../reports/anomalies.ts";
import { periodLabel } from "../src/digests/period.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { defineMeasure, digestPeriodOf } from "../src/questions/measure.ts";

export interface AnomaliesData {
  period: string;
  days: 1 | 7;
  /** Most severe first. */
  anomalies: Pick<Anomaly, "kind" | "name" | "metric" | "day" | "verdict" | "settings" | "runs">[];
  /** Series scored, and series without enough history to be scored. */
  scored: number;
  insufficient: number;
  /** The sentences, as the digest states them (for the render). */
  sentences: string[];
}

export default defineMeasure<AnomaliesData>({
  id: "anomalies",
  title: "Anomalies",
  summary:
    "which jobs or datasets behaved unlike themselves (duration, rows, CPU, memory, first update) over a day or a week",
  examples: [
    "any anomalies yesterday?",
    "anything unusual with user_embeddings this week",
    "volume drop on analytics.fct_orders?",
  ],
  measure: "anomalies",
  subjects: ["fleet", "group", "environment", "job", "dataset"],
  defaultDays: 1,
  async compute(ctx, frame, window) {
    const { date, days } = digestPeriodOf(window, ctx.now, ctx.timezone);
    const group = frame.subject.kind === "group" ? frame.subject.name : undefined;
    const environment =
      frame.environment ?? (frame.subject.kind === "environment" ? frame.subject.name : undefined);
    const d = await computeAnomalies({
      store: ctx.store,
      date,
      days,
      timezone: ctx.timezone,
      chart: false,
      ...(group ? { group } : {}),
      ...(environment ? { environment } : {}),
    });
    const one = frame.subject.kind === "job" || frame.subject.kind === "dataset";
    // "cpu anomalies", "memory spikes": only that figure's series.
    const metrics: Metric[] | undefined = frame.figure ? [frame.figure] : undefined;
    const found = d.anomalies.filter(
      (a) =>
        (!one || (a.kind === frame.subject.kind && a.name === frame.subject.name)) &&
        (!metrics || metrics.includes(a.metric)),
    );
    return {
      period: periodLabel(d.periods.period),
      days,
      anomalies: found.map(({ kind, name, metric, day, verdict, settings, runs }) => ({
        kind,
        name,
        metric,
        day,
        verdict,
        settings,
        ...(runs === undefined ? {} : { runs }),
      })),
      scored: d.scored,
      insufficient: d.insufficient,
      sentences: found.map((a) => anomalySentence(a, days === 7)),
    };
  },
  render(d, frame) {
    const b = new AnswerBuilder();
    const about = frame.subject.name ? ` for ${code(frame.subject.name)}` : "";
    const n = d.anomalies.length;
    const lead = frame.polarity ? `${(frame.polarity === "absent" ? !n : !!n) ? "Yes" : "No"} — ` : "";
    b.headline(
      n
        ? `${lead}${n} anomal${n === 1 ? "y" : "ies"}${about} on ${esc(d.period)}.`
        : `${lead}No anomalies${about} on ${esc(d.period)}${d.scored ? "" : " (nothing had enough history to be judged)"}.`,
    );
    b.list("Most unusual first", d.sentences);
    return b.from(
      `from the anomaly digest's scores: ${d.scored} series judged against their own history${d.insufficient ? `, ${d.insufficient} without enough of it` : ""}`,
    );
  },
});
