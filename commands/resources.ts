// Resources: the CPU and memory runs used (`cpu_seconds`, `memory_mb` on run events) — one
// job's CPU total and peak memory over a window, its last run, spikes against its usual; or
// the jobs (or groups, environments, days) that used the most.
import { compact, memory } from "../src/digests/common.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import {
  defineMeasure,
  figureKey,
  manyJobs,
  ranked,
  subjectFigures,
  usualFigures,
  versusUsual,
} from "../src/questions/measure.ts";

export interface ResourcesData {
  runs: number;
  cpuTotal: number | null;
  cpuLast: number | null;
  cpuMax: number | null;
  memoryMaxMb: number | null;
  memoryLastMb: number | null;
  /** vs_usual: the peak of the window against the medians of the 30 days before. */
  usual?: {
    cpuMedian: number | null;
    memoryMedianMb: number | null;
    cpu?: ReturnType<typeof versusUsual>;
    memory?: ReturnType<typeof versusUsual>;
  };
  /** Ranked by memory when the question is about memory, else by CPU seconds. */
  rankedBy: "cpu" | "memory";
  rows: { key: string; cpu: number | null; memoryMb: number | null; runs: number }[];
  by: ReturnType<typeof figureKey>;
}

export default defineMeasure<ResourcesData>({
  id: "resources",
  title: "CPU and memory",
  summary: "the CPU seconds and peak memory of a job's runs, spikes against usual; the heaviest jobs",
  examples: [
    "how much memory does user_embeddings use",
    "cpu usage of ml_features this week",
    "did train_churn_model spike in memory yesterday",
    "top 5 memory hogs",
  ],
  measure: "resources",
  subjects: ["job", "group", "owner", "environment", "fleet"],
  defaultDays: 7,
  async compute(ctx, frame, window) {
    const by = figureKey(frame);
    const figures = await subjectFigures(ctx, frame, window);
    const w = figures.whole;
    // "memory hogs", "peak ram": the frame says which figure; CPU otherwise.
    const rankedBy = frame.figure === "memory" ? "memory" : "cpu";
    const data: ResourcesData = {
      runs: w?.runs ?? 0,
      cpuTotal: w?.cpuTotal ?? null,
      cpuLast: w?.cpuLast ?? null,
      cpuMax: w?.cpuMax ?? null,
      memoryMaxMb: w?.memoryMaxMb ?? null,
      memoryLastMb: w?.memoryLastMb ?? null,
      rankedBy,
      rows: [],
      by,
    };
    if (manyJobs(frame)) {
      data.rows = ranked(
        figures.rows,
        (r) => (rankedBy === "memory" ? r.memoryMaxMb : r.cpuTotal),
        frame,
      ).map(({ row }) => ({ key: row.key, cpu: row.cpuTotal, memoryMb: row.memoryMaxMb, runs: row.runs }));
    }
    if (frame.stat === "vs_usual" && w?.lastRunAt) {
      const before = (await usualFigures(ctx, frame, window, w.lastRunAt)).figures;
      if (before) {
        data.usual = { cpuMedian: before.cpuMedian, memoryMedianMb: before.memoryMedianMb };
        if (w.cpuMax !== null && before.cpuMedian !== null)
          data.usual.cpu = versusUsual(w.cpuMax, before.cpuMedian);
        if (w.memoryMaxMb !== null && before.memoryMedianMb !== null)
          data.usual.memory = versusUsual(w.memoryMaxMb, before.memoryMedianMb);
      }
    }
    return data;
  },
  render(d, frame, _ctx, window) {
    const b = new AnswerBuilder();
    const where = frame.environment ? ` in ${frame.environment}` : "";
    const subject = frame.subject.name ? code(frame.subject.name) : "All jobs";
    if (d.cpuTotal === null && d.memoryMaxMb === null) {
      b.headline(
        d.runs
          ? `${subject} ran ${d.runs} time${d.runs === 1 ? "" : "s"}${where} ${esc(window.label)}, but no run reported CPU or memory.`
          : `${subject} had no runs${where} ${esc(window.label)}.`,
      );
      if (d.runs) b.section("Send `cpu_seconds` and `memory_mb` with run events to see what runs use.");
      return b;
    }
    const cmp = d.usual?.[d.rankedBy];
    if (frame.stat === "vs_usual" && cmp) {
      const what = d.rankedBy === "memory" ? "peak memory" : "CPU";
      const value = d.rankedBy === "memory" ? memory(d.memoryMaxMb!) : `${compact(d.cpuMax!)} cpu-s`;
      const usual =
        d.rankedBy === "memory" ? memory(d.usual!.memoryMedianMb!) : `${compact(d.usual!.cpuMedian!)} cpu-s`;
      const word = { more: "above its usual", less: "below its usual", usual: "about its usual" }[
        cmp.verdict
      ];
      const lead = frame.polarity
        ? `${(cmp.verdict === "more") === (frame.polarity === "present") ? "Yes" : "No"} — `
        : "";
      b.headline(
        `${lead}${subject}'s ${what}${where} ${esc(window.label)} peaked at ${value}, ${word} ${usual} (${cmp.ratio.toFixed(1)}×).`,
      );
    } else if (frame.stat === "last")
      b.headline(
        `${subject}'s last run${where} used ${d.cpuLast === null ? "?" : compact(d.cpuLast)} cpu-s and ${d.memoryLastMb === null ? "?" : memory(d.memoryLastMb)} of memory.`,
      );
    else
      b.headline(
        `${subject} used ${d.cpuTotal === null ? "?" : compact(d.cpuTotal)} cpu-seconds${where} ${esc(window.label)}, peak memory ${d.memoryMaxMb === null ? "?" : memory(d.memoryMaxMb)}.`,
      );
    if (d.rows.length)
      b.list(
        `${d.rankedBy === "memory" ? "Peak memory" : "CPU seconds"} per ${d.by}`,
        d.rows.map(
          (r) =>
            `${code(r.key)} ${r.cpu === null ? "?" : compact(r.cpu)} cpu-s · peak ${r.memoryMb === null ? "?" : memory(r.memoryMb)}`,
        ),
      );
    return b.from(`from ${d.runs} run${d.runs === 1 ? "" : "s"} ${window.label}`);
  },
});
