// A frame read back in words: what Houston understood, for the line that says so, for the
// interpretations offered when unsure, and for "understood, but not answerable yet".
import type { Frame, Measure, Subject } from "./frame.ts";

const MEASURE_WORDS: Record<Measure, string> = {
  runs: "runs",
  status: "status now",
  last_run: "last run",
  last_success: "last successful run",
  last_failure: "last failure",
  failures: "failures",
  failure_rate: "failure rate",
  duration: "duration",
  start_lateness: "start delays",
  ended_late: "late finishes",
  missed: "missed runs",
  plan: "scheduled runs",
  ordering: "run order",
  rows: "rows written",
  freshness: "freshness",
  arrivals: "supplier arrivals",
  tests: "data tests",
  deploys: "deploys",
  schema_changes: "schema changes",
  root_cause: "why it was late or failed",
  incidents: "incidents",
  troublesome: "most troublesome",
  summary: "summary",
  environments: "pipelines per environment",
  tickets: "tickets released",
  cost: "cost",
  resources: "CPU and memory",
  upstream: "upstream (what it reads from)",
  downstream: "downstream (readers and impact)",
  owner: "owner",
  bad_records: "bad records",
  sla: "SLA attainment",
  anomalies: "anomalies",
  refresh_history: "refresh history",
  deploy_impact: "failures before and after deploys",
};

const STAT_WORDS: Record<NonNullable<Frame["stat"]>, string> = {
  last: "last",
  median: "usual (median)",
  p95: "p95",
  max: "longest",
  total: "total",
  vs_usual: "compared with usual",
};

function subjectWords(s: Subject): string {
  if (s.kind === "fleet") return "all jobs";
  return `${s.kind} \`${s.name}\``;
}

/** "p95 duration of job `finance_close.gl_summary`, the last 7 days, in prod". */
export function describeFrame(frame: Frame, windowLabel?: string): string {
  let out =
    frame.measure === "resources" && frame.figure
      ? frame.figure === "memory"
        ? "peak memory"
        : "CPU"
      : MEASURE_WORDS[frame.measure];
  if (frame.stat) out = `${STAT_WORDS[frame.stat]} ${out}`;
  if (frame.rank)
    out = `${frame.rank.order === "most" ? "top" : "bottom"}${frame.rank.n ? ` ${frame.rank.n}` : ""} by ${out}`;
  out = `${out[0]!.toUpperCase()}${out.slice(1)} of ${subjectWords(frame.subject)}`;
  if (frame.against) out += ` against ${frame.against.all ? "all of " : ""}${subjectWords(frame.against)}`;
  if (frame.groupBy) out += `, per ${frame.groupBy}`;
  if (windowLabel) out += `, ${windowLabel}`;
  if (frame.environment) out += `, in ${frame.environment}`;
  return out;
}
