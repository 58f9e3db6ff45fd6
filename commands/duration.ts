// Duration: how long a job's runs take — the last run, usually (median), p95, the longest,
// the total, and the last run against its usual — or, for a group, an owner, an
// environment or the fleet, the jobs (or groups, environments, days) ranked by it.
import { type Figures, recentRunValues } from "../src/db/queries/run-figures.ts";
import { sparkline } from "../src/digests/sparkline.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import {
  defineMeasure,
  figureKey,
  ranked,
  subjectFigures,
  USUAL_DAYS,
  usualFigures,
  versusUsual,
  runScope,
} from "../src/questions/measure.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { Frame } from "../src/understanding/frame.ts";

type Stat = NonNullable<Frame["stat"]>;

export interface DurationData {
  /** The statistic answered: the asked one, else the median for rankings and all of them for one job. */
  stat?: Stat;
  /** The subject's runs in the window as a whole (undefined: none). */
  whole?: Figures;
  /** For vs_usual: the median of the 30 days before, and the verdict on the last run. */
  usual?: { medianMs: number; runs: number; from: Date; to: Date };
  verdict?: { ratio: number; verdict: "more" | "less" | "usual" };
  /** Rankings (subjects other than one job): each job, group, environment or day with its figure. */
  rows: { key: string; valueMs: number; runs: number }[];
  by: ReturnType<typeof figureKey>;
  /** One job: the durations of its latest runs in the window (at most 14), oldest first. */
  recentMs?: number[];
}

/** "Last 14 runs: ▂▃▂▂█ (3m – 2h 18m)": the latest runs as a sparkline with its range. */
function trend(ms: number[]): string {
  return `Last ${ms.length} runs: \`${sparkline(ms)}\` (${formatDuration(Math.min(...ms))} – ${formatDuration(Math.max(...ms))})`;
}

function valueOf(f: Figures, stat: Stat | undefined): number | null {
  switch (stat) {
    case "last":
    case "vs_usual":
      return f.durationLastMs;
    case "p95":
      return f.durationP95Ms;
    case "max":
      return f.durationMaxMs;
    case "total":
      return f.durationTotalMs;
    default:
      return f.durationMedianMs;
  }
}

const STAT_WORDS: Record<Stat, string> = {
  last: "last run",
  median: "median",
  p95: "p95",
  max: "longest run",
  total: "total run time",
  vs_usual: "last run",
};

export default defineMeasure<DurationData>({
  id: "duration",
  title: "Duration",
  summary: "how long a job takes: last run, usual (median), p95, longest, total, against usual; slowest jobs",
  examples: [
    "how long does gl_summary usually take?",
    "p95 runtime of user_embeddings over the last 30 days",
    "did train_churn_model take longer than usual yesterday?",
    "slowest 5 jobs this week",
  ],
  measure: "duration",
  subjects: ["job", "group", "owner", "environment", "fleet"],
  defaultDays: USUAL_DAYS,
  // "how long did the jobs take yesterday" is the day's overview (yesterdays-work); a
  // ranking, a statistic or a split of many jobs is this measure's.
  applies: (f) => f.subject.kind === "job" || !!f.rank || !!f.stat || !!f.groupBy,
  async compute(ctx, frame, window) {
    const by = figureKey(frame);
    const many = frame.subject.kind !== "job";
    // Totals and maxima of many jobs add up from the day rollup; medians and p95s need the runs.
    const sums = frame.stat === "total" || frame.stat === "max";
    const figures = await subjectFigures(ctx, frame, window, { many, sumsOnly: sums });
    const whole = figures.whole;
    const data: DurationData = { by, rows: [] };
    if (frame.stat) data.stat = frame.stat;
    if (whole) data.whole = whole;
    if (many) {
      data.stat ??= "median";
      data.rows = ranked(figures.rows, (r) => valueOf(r, data.stat), frame).map(({ row, value }) => ({
        key: row.key,
        valueMs: value,
        runs: row.runs,
      }));
      return data;
    }
    // A picture of the latest runs beside the figure.
    if (whole)
      data.recentMs = await recentRunValues(
        ctx.store,
        { ...runScope(frame), job: frame.subject.name! },
        window.from,
        window.to,
        "duration_ms",
      );
    if (frame.stat === "vs_usual" && whole?.durationLastMs != null && whole.lastRunAt) {
      const { figures: before, from, to } = await usualFigures(ctx, frame, window, whole.lastRunAt);
      if (before?.durationMedianMs != null) {
        data.usual = { medianMs: before.durationMedianMs, runs: before.timed, from, to };
        data.verdict = versusUsual(whole.durationLastMs, before.durationMedianMs);
      }
    }
    return data;
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const name = frame.subject.name;
    const where = frame.environment ? ` in ${frame.environment}` : "";
    if (!d.whole || d.whole.timed === 0) {
      b.headline(`${name ? code(name) : "No job"} has no finished run${where} ${esc(window.label)} to time.`);
      return b;
    }
    const w = d.whole;
    if (frame.subject.kind !== "job") {
      const title = `${STAT_WORDS[d.stat ?? "median"]} per ${d.by}`;
      const top = d.rows[0];
      b.headline(
        top
          ? `${frame.rank?.order === "least" ? "Quickest" : "Slowest"} ${d.by}: ${code(top.key)} — ${STAT_WORDS[d.stat ?? "median"]} ${formatDuration(top.valueMs)}`
          : `No finished runs${where} ${esc(window.label)}.`,
      );
      b.list(
        title[0]!.toUpperCase() + title.slice(1),
        d.rows.map(
          (r) => `${code(r.key)} ${formatDuration(r.valueMs)} (${r.runs} run${r.runs === 1 ? "" : "s"})`,
        ),
      );
      return b.from(`from ${w.timed} finished runs ${window.label}`);
    }
    const last = w.lastRunAt ? formatDateTime(w.lastRunAt, ctx.timezone, ctx.now) : "?";
    switch (d.stat) {
      case "vs_usual": {
        if (!d.usual || !d.verdict) {
          b.headline(
            `${code(name!)}'s last run took ${formatDuration(w.durationLastMs!)}; there is no earlier history to call usual.`,
          );
          break;
        }
        const { ratio, verdict } = d.verdict;
        const yes = verdict === "more";
        const word =
          verdict === "more"
            ? "longer than usual"
            : verdict === "less"
              ? "shorter than usual"
              : "about as long as usual";
        const lead = frame.polarity ? `${yes === (frame.polarity === "present") ? "Yes" : "No"} — ` : "";
        b.headline(
          `${lead}${code(name!)}'s last run (${last}) took ${formatDuration(w.durationLastMs!)}, ${word}: ${ratio.toFixed(1)}× its usual ${formatDuration(d.usual.medianMs)}.`,
        );
        if (d.recentMs && d.recentMs.length > 1) b.section(trend(d.recentMs));
        b.from(`usual = the median of ${d.usual.runs} runs in the ${USUAL_DAYS} days before`);
        return b;
      }
      case "last":
        b.headline(`${code(name!)}'s last run${where} (${last}) took ${formatDuration(w.durationLastMs!)}.`);
        break;
      case "median":
        b.headline(`${code(name!)} usually takes ${formatDuration(w.durationMedianMs!)} (median)${where}.`);
        break;
      case "p95":
        b.headline(`${code(name!)}'s p95 duration${where} is ${formatDuration(w.durationP95Ms!)}.`);
        break;
      case "max":
        b.headline(`${code(name!)}'s longest run${where} took ${formatDuration(w.durationMaxMs!)}.`);
        break;
      case "total":
        b.headline(`${code(name!)} ran for ${formatDuration(w.durationTotalMs!)} in total${where}.`);
        break;
      default:
        b.headline(
          `${code(name!)} usually takes ${formatDuration(w.durationMedianMs!)}; its last run took ${formatDuration(w.durationLastMs!)}.`,
        );
    }
    if (d.recentMs && d.recentMs.length > 1) b.section(trend(d.recentMs));
    b.fields([
      ["Last run", `${formatDuration(w.durationLastMs!)} (${last})`],
      ["Usual (median)", formatDuration(w.durationMedianMs!)],
      ["p95", formatDuration(w.durationP95Ms!)],
      ["Longest", formatDuration(w.durationMaxMs!)],
    ]);
    return b.from(`from ${w.timed} finished run${w.timed === 1 ? "" : "s"} of ${name} ${window.label}`);
  },
});
