// Last run, last success, last failure: when a job last ran (succeeded, failed), with its
// status, duration and error — or, for a group or an owner, the latest of each of its jobs.
import { lastRuns, type LastRun } from "../src/db/queries/last-runs.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration, statusIcon } from "../src/questions/format.ts";
import { defineMeasure, runScope } from "../src/questions/measure.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { Frame } from "../src/understanding/frame.ts";

export interface LastRunData {
  /** Which runs count: any, successful ones, failed ones. */
  status?: "success" | "failed";
  /** The latest such run of each job in scope, latest first. */
  runs: LastRun[];
  /** The most recent run of any status of a single job, when the one asked about is older or missing. */
  latestAny?: LastRun;
}

const STATUS: Partial<Record<Frame["measure"], "success" | "failed">> = {
  last_success: "success",
  last_failure: "failed",
};

const WORD = { success: "succeeded", failed: "failed" } as const;

export default defineMeasure<LastRunData>({
  id: "last-run",
  title: "Last run",
  summary: "when a job last ran, last succeeded or last failed — for a group, each of its jobs",
  examples: [
    "when did gl_summary last run?",
    "when did fx_revaluation last fail?",
    "last successful run of revenue_recognition",
    "when did each finance_close job last succeed?",
  ],
  measure: ["last_run", "last_success", "last_failure"],
  subjects: ["job", "group", "owner"],
  // Without a time in the question, the whole history counts: the last failure may be old.
  defaultDays: null,
  async compute(ctx, frame, window) {
    const scope = runScope(frame);
    const status = STATUS[frame.measure];
    const range = window.given ? { from: window.from, to: window.to } : {};
    const runs = await lastRuns(ctx.store, scope, { ...range, ...(status ? { status } : {}) });
    const data: LastRunData = { runs };
    if (status) data.status = status;
    if (frame.subject.kind === "job" && status) {
      const [any] = await lastRuns(ctx.store, scope, range);
      if (any && (!runs[0] || any.runAt > runs[0].runAt)) data.latestAny = any;
    }
    return data;
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const when = (r: LastRun) => formatDateTime(r.startedAt ?? r.runAt, ctx.timezone, ctx.now);
    const detail = (r: LastRun) => {
      const dur =
        r.durationMs !== null && r.status !== "running" ? ` in ${formatDuration(r.durationMs)}` : "";
      const env = r.environment ? ` (${esc(r.environment)})` : "";
      const err = r.status === "failed" && r.error ? ` — ${esc(r.error.slice(0, 200))}` : "";
      return `${dur}${env}${err}`;
    };
    const line = (r: LastRun) => `${statusIcon(r.status)} ${r.status} ${when(r)}${detail(r)}`;
    const what = d.status ? WORD[d.status] : "ran";
    const where = frame.environment ? ` in ${frame.environment}` : "";
    const span = window.given ? ` ${esc(window.label)}` : "";
    if (frame.subject.kind === "job") {
      const name = frame.subject.name!;
      const r = d.runs[0];
      if (!r)
        b.headline(
          d.status
            ? `${code(name)} has not ${what}${where}${span || " in Houston's history"}.`
            : `${code(name)} has no runs${where}${span || " in Houston's history"}.`,
        );
      else
        b.headline(
          `${statusIcon(r.status)} ${code(name)} last ${what}${where} ${when(r)}${d.status ? "" : `, ${r.status}`}${detail(r)}.`,
        );
      if (d.latestAny) b.section(`Its latest run of any outcome: ${line(d.latestAny)}`);
      return b.from(`from the run history of ${name}`);
    }
    const top = d.runs[0];
    b.headline(
      top
        ? `Latest: ${code(top.job)} ${what} ${when(top)}.`
        : `No job of ${code(frame.subject.name ?? "")} has ${what}${where}${span}.`,
    );
    b.list(
      `Each job's last ${d.status === "failed" ? "failure" : d.status === "success" ? "success" : "run"}`,
      d.runs.map((r) => `${code(r.job)} ${line(r)}`),
    );
    return b.from(`from the run history of ${d.runs.length} job${d.runs.length === 1 ? "" : "s"}`);
  },
});
