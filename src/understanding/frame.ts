// What a question means, as data: the frame the parser produces and every measure answers.
// Nothing after the parser reads the raw text. test/corpus/ labels questions with frames of
// this shape (see its README for how each slot is labelled); the understanding benchmark
// compares the parser's frames with those labels slot by slot.

/** The kinds of thing a question can be about. */
export const SUBJECT_KINDS = [
  "fleet",
  "group",
  "job",
  "dataset",
  "supplier",
  "artifact",
  "project",
  "test",
  "environment",
  "owner",
] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** The measures of the catalogue (issue 14): what is computed about the subject. */
export const MEASURES = [
  "runs", // did it run / how many runs / list of runs
  "status", // is it ok / running / failing right now
  "last_run", // when did it last run
  "last_success", // when did it last succeed
  "last_failure", // when did it last fail
  "failures", // did it fail / what failed / how many failures
  "failure_rate", // share of runs that failed
  "duration", // how long (stat: last, median, p95, max, total, vs_usual)
  "start_lateness", // did it start late / how late
  "ended_late", // finished later than usual
  "missed", // expected runs versus actual: which did not run
  "plan", // what is scheduled (today, tonight, rest of today)
  "ordering", // did X run after (everything in) group G
  "rows", // rows written
  "freshness", // fresh / age / last update of data
  "arrivals", // supplier deliveries on time
  "tests", // data tests: count, pass / fail / warn, pass rate
  "deploys", // deploys: count, failed, versions, by kind
  "schema_changes", // columns added / removed / retyped
  "root_cause", // why late or failed: late start vs long run vs upstream
  "incidents", // open incidents, who acknowledged
  "troublesome", // which fails / flaps / breaks the most
  "summary", // an overview: summary of a day, anything to worry about
  "environments", // pipelines per environment
  "tickets", // tickets released (per project)
  "cost", // cost of runs
  "resources", // CPU and memory of runs
  "upstream", // what a job or dataset reads from, to depth N (lineage)
  "downstream", // what reads a job's or dataset's output: its readers, what breaks if it is late
  "owner", // who owns a job, dataset or group
  "bad_records", // records rejected by runs or dataset updates
  "sla", // SLA attainment over a period: runs on time, missed, data fresh, deliveries on time
  "anomalies", // what behaved unlike itself: the anomaly digest's scores (duration, rows, cpu, memory, lateness)
  "refresh_history", // a dataset's latest updates: when, rows, the gap since the one before against its usual
  "deploy_impact", // did failures start after a deploy: failures before and after each recent deploy
] as const;
export type Measure = (typeof MEASURES)[number];

export interface Subject {
  kind: SubjectKind;
  /** The store's name: "finance_close.gl_summary", "analytics.fct_orders", "acme_payments"; none for the fleet. */
  name?: string;
}

/** A window as instants: [from, to). Calendar periods run to their natural end. */
export interface FrameWindow {
  from: string;
  to: string;
}

export interface Frame {
  measure: Measure;
  subject: Subject;
  /** Absent when the question names no time (the measure's default then applies). */
  window?: FrameWindow;
  /** prod | staging | dev | qa, when the question names one. */
  environment?: string;
  /** For duration (and similar figures): which statistic. */
  stat?: "last" | "median" | "p95" | "max" | "total" | "vs_usual";
  /** Yes/no questions only: Yes means the measure's condition is present, or absent. */
  polarity?: "present" | "absent";
  /** "which 3 jobs fail the most": most or least, and how many. */
  rank?: { order: "most" | "least"; n?: number };
  /** "per environment", "by kind", "for each group". */
  groupBy?: "environment" | "group" | "job" | "kind" | "day" | "project" | "supplier" | "status";
  /** resources: which figure was asked about ("memory hogs", "cpu usage"); CPU when unsaid. */
  figure?: "cpu" | "memory";
  /** ordering: what the subject is compared against. */
  against?: Subject & { all?: boolean };
}
