// The anomaly digest: which jobs and datasets behaved unlike themselves. Series, one value
// per day:
// - per job (from the run_daily rollup, UTC days): median run duration, rows processed,
//   cpu-seconds, peak memory;
// - per dataset (from dataset_updates, local days in the digest's zone): rows per update,
//   and lateness = the time of day of the day's first update.
// Each day of the period is scored against its own trailing training window (the day itself
// excluded) with src/digests/anomaly.ts: classic and robust z, sensitivity, minimum points,
// optional weekday seasonality, per subscription and per job (houston.yml). Anomalies are
// ranked by severity (the larger |z|) and stated plainly.
import { sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import {
  detect,
  type DetectOptions,
  settingsFor,
  sigmaText,
  trainingValues,
  type Verdict,
} from "../src/digests/anomaly.ts";
import type { ChartSpec } from "../src/digests/chart.ts";
import { defineReport } from "../src/digests/report.ts";
import {
  compact,
  datasetScope,
  emptyDigest,
  finish,
  int,
  jobScope,
  memory,
  num,
  num0,
  scopeText,
} from "../src/digests/common.ts";
import {
  addDaysYmd,
  dayOffsets,
  daysOf,
  type DigestPeriods,
  digestPeriods,
  periodEnding,
  periodLabel,
} from "../src/digests/period.ts";
import { sparkline } from "../src/digests/sparkline.ts";
import type { AnomalySettings, Digest, DigestRequest } from "../src/digests/types.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";

const MINUTE = 60_000;
const LIST = 10;
const SPARK_DAYS = 14;

export type Metric = "duration" | "rows" | "cpu" | "memory" | "rows_per_update" | "lateness";

interface MetricDef {
  /** What the series is about, for the "usual" sentence. */
  noun: string;
  opts: DetectOptions;
  /** The value in words. */
  show(v: number): string;
}

// Minimum changes keep tiny series quiet: a 20-second job 15 s slower is not news. CPU and
// memory count only upwards: using less is never a problem to report, and a daily peak
// (memory is the day's maximum) naturally falls on a day with fewer or steadier runs.
export const METRICS: Record<Metric, MetricDef> = {
  duration: { noun: "duration", opts: { minDelta: MINUTE }, show: (v) => formatDuration(v) },
  rows: { noun: "rows", opts: {}, show: (v) => `${compact(v)} rows` },
  cpu: { noun: "cpu", opts: { sides: "high", minDelta: 60 }, show: (v) => `${compact(v)} cpu-s` },
  memory: { noun: "memory", opts: { sides: "high", minDelta: 64 }, show: (v) => memory(v) },
  rows_per_update: { noun: "rows per update", opts: {}, show: (v) => `${compact(v)} rows per update` },
  lateness: { noun: "first update", opts: { sides: "high", minDelta: 15 * MINUTE }, show: (v) => clock(v) },
};

/** ms after local midnight → "14:02" (past 24 h: "+1d 00:20"). */
function clock(ms: number): string {
  const m = Math.round(ms / MINUTE);
  const d = Math.floor(m / 1440);
  const hh = String(Math.floor((m % 1440) / 60)).padStart(2, "0");
  const mm = String(m % 60).padStart(2, "0");
  return `${d > 0 ? `+${d}d ` : ""}${hh}:${mm}`;
}

export interface Anomaly {
  kind: "job" | "dataset";
  name: string;
  owner: string | null;
  metric: Metric;
  day: string;
  verdict: Verdict;
  settings: AnomalySettings;
  /** The training values' days and the detected day, oldest first (for sparkline and chart). */
  series: { day: string; value: number | null }[];
  /** Runs that day (jobs): "ran" for one run, "runs took (median)" for several. */
  runs?: number;
}

export interface AnomalyData {
  req: DigestRequest;
  periods: DigestPeriods;
  anomalies: Anomaly[];
  /** Series scored (with enough history), and how many lacked the minimum points. */
  scored: number;
  insufficient: number;
  jobs: number;
  datasets: number;
}

type Series = Map<string, number>;

interface Subject {
  kind: "job" | "dataset";
  name: string;
  owner: string | null;
  settings: AnomalySettings;
  series: Partial<Record<Metric, Series>>;
  runs?: Map<string, number>;
}

function score(subject: Subject, days: string[], out: AnomalyData): void {
  for (const [metric, series] of Object.entries(subject.series) as [Metric, Series][]) {
    for (const day of days) {
      const value = series.get(day);
      if (value === undefined) continue;
      const training = trainingValues(series, day, subject.settings);
      const v = detect(value, training, subject.settings, METRICS[metric].opts);
      if (v.status === "insufficient") {
        out.insufficient++;
        continue;
      }
      out.scored++;
      if (v.status !== "anomaly") continue;
      const from = addDaysYmd(day, -subject.settings.trainingDays);
      const seriesDays: { day: string; value: number | null }[] = [];
      for (let d = from; d <= day; d = addDaysYmd(d, 1))
        seriesDays.push({ day: d, value: series.get(d) ?? null });
      const a: Anomaly = {
        kind: subject.kind,
        name: subject.name,
        owner: subject.owner,
        metric,
        day,
        verdict: v,
        settings: subject.settings,
        series: seriesDays,
      };
      const runs = subject.runs?.get(day);
      if (runs !== undefined) a.runs = runs;
      out.anomalies.push(a);
    }
  }
}

/**
 * Per-job series from run_daily: one row per job with its days as JSON (rollup rows, never
 * runs). Each row becomes a Subject only when it is scored (jobSubject), so a 5,000-job
 * fleet never holds every job's series maps at once: the digest's peak memory stays low.
 */
async function jobRows(
  req: DigestRequest,
  periods: DigestPeriods,
  maxTraining: number,
): Promise<{ from: string; rows: Record<string, unknown>[] }> {
  const from = addDaysYmd(periods.period.firstDay, -maxTraining);
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT j.name, j.owner,
          json_agg(json_build_array(d.day - ${from}::date, d.duration_p50_ms, d.rows::float8, d.cpu_seconds,
                                    d.memory_mb_max, d.runs) ORDER BY d.day) AS days
        FROM run_daily d JOIN jobs j ON j.id = d.job_id
        WHERE d.day >= ${from}::date AND d.day <= ${periods.period.lastDay}::date AND ${jobScope(req)}
        GROUP BY j.id, j.name, j.owner`,
  );
  return { from, rows };
}

function jobSubject(
  req: DigestRequest,
  r: Record<string, unknown>,
  dayAt: (offset: number) => string,
): Subject {
  const name = String(r["name"]);
  const series: Record<"duration" | "rows" | "cpu" | "memory", Series> = {
    duration: new Map(),
    rows: new Map(),
    cpu: new Map(),
    memory: new Map(),
  };
  const runs = new Map<string, number>();
  const days = (typeof r["days"] === "string" ? JSON.parse(r["days"]) : r["days"]) as unknown[][];
  for (const [offset, dur, rowsN, cpu, mem, n] of days) {
    const d = dayAt(num0(offset));
    const put = (m: Series, v: unknown) => {
      const x = num(v);
      if (x !== null) m.set(d, x);
    };
    put(series.duration, dur);
    put(series.rows, rowsN);
    put(series.cpu, cpu);
    put(series.memory, mem);
    runs.set(d, num0(n));
  }
  return {
    kind: "job" as const,
    name,
    owner: (r["owner"] as string | null) ?? null,
    settings: settingsFor(req.anomalies, req.jobAnomalies?.[name]),
    series,
    runs,
  };
}

/**
 * Per-dataset series over local days: rows per update and the first update's time of day.
 * One range scan per dataset on dataset_updates (dataset_id, updated_at); width_bucket puts
 * each update in its local day (DST days are 23 or 25 h, so no fixed-width arithmetic).
 */
async function datasetSubjects(
  req: DigestRequest,
  periods: DigestPeriods,
  training: number,
): Promise<Subject[]> {
  const span = periodEnding(periods.period.lastDay, periods.period.days + training, req.timezone);
  const days = daysOf(span, req.timezone);
  const bounds = [...days.map((d) => d.from.getTime()), span.to.getTime()];
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT ds.name, ds.namespace, ds.owner, b.i, b.updates, b.rows_per_update, b.first_ms
        FROM datasets ds
        CROSS JOIN LATERAL (
          SELECT width_bucket((extract(epoch FROM u.updated_at) * 1000)::float8, ${`{${bounds.join(",")}}`}::float8[]) AS i,
            count(*)::int AS updates,
            avg(u.rows)::float8 AS rows_per_update,
            min((extract(epoch FROM u.updated_at) * 1000)::float8) AS first_ms
          FROM dataset_updates u
          WHERE u.dataset_id = ds.id AND u.updated_at >= ${ts(span.from)} AND u.updated_at < ${ts(span.to)}
          GROUP BY 1
        ) b
        WHERE ${datasetScope(req, periods.period.to)}
        ORDER BY ds.namespace, ds.name, b.i`,
  );
  // A name shared by several namespaces (prod and staging copies) is shown with its namespace.
  const names = new Map<string, Set<string>>();
  for (const r of rows) {
    const n = String(r["name"]);
    names.set(n, (names.get(n) ?? new Set()).add(String(r["namespace"])));
  }
  const settings = settingsFor(req.anomalies, undefined);
  const bySubject = new Map<string, Subject>();
  for (const r of rows) {
    const name = String(r["name"]);
    const ns = String(r["namespace"]);
    const key = `${ns}/${name}`;
    const label = (names.get(name)?.size ?? 1) > 1 ? key : name;
    let s = bySubject.get(key);
    if (!s) {
      s = {
        kind: "dataset",
        name: label,
        owner: (r["owner"] as string | null) ?? null,
        settings,
        series: { rows_per_update: new Map(), lateness: new Map() },
      };
      bySubject.set(key, s);
    }
    const day = days[num0(r["i"]) - 1];
    if (!day) continue;
    const rpu = num(r["rows_per_update"]);
    if (rpu !== null) s.series.rows_per_update!.set(day.firstDay, rpu);
    s.series.lateness!.set(day.firstDay, num0(r["first_ms"]) - day.from.getTime());
  }
  return [...bySubject.values()];
}

/** Computes the anomaly digest's findings for a request. */
export async function computeAnomalies(req: DigestRequest): Promise<AnomalyData> {
  const periods = digestPeriods(req);
  const base = settingsFor(req.anomalies, undefined);
  const maxTraining = Math.max(
    base.trainingDays,
    ...Object.values(req.jobAnomalies ?? {}).map((j) => settingsFor(req.anomalies, j).trainingDays),
  );
  const [jobs, datasets] = await Promise.all([
    jobRows(req, periods, maxTraining),
    datasetSubjects(req, periods, base.trainingDays),
  ]);
  const out: AnomalyData = {
    req,
    periods,
    anomalies: [],
    scored: 0,
    insufficient: 0,
    jobs: jobs.rows.length,
    datasets: datasets.length,
  };
  const days = daysOf(periods.period, req.timezone).map((d) => d.firstDay);
  const dayAt = dayOffsets(jobs.from);
  for (const r of jobs.rows) score(jobSubject(req, r, dayAt), days, out);
  for (const s of datasets) score(s, days, out);
  out.anomalies.sort(
    (a, b) => b.verdict.severity - a.verdict.severity || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return out;
}

/** "`nightly_orders` ran 52 min, usual 14 min (median of 14 days), 4.1σ" */
export function anomalySentence(a: Anomaly, weekly: boolean): string {
  const m = METRICS[a.metric];
  const v = a.verdict;
  const usual = m.show(v.median!);
  const n = v.n;
  const basis = `median of ${n} ${a.settings.seasonality ? `${weekdayOf(a.day)}s` : "days"}`;
  const when = weekly ? ` on ${weekdayOf(a.day)} ${a.day.slice(8)}` : "";
  const name = code(a.name);
  let what: string;
  switch (a.metric) {
    case "duration":
      what = (a.runs ?? 1) > 1 ? `runs took ${m.show(v.value)} (median)` : `ran ${m.show(v.value)}`;
      break;
    case "rows":
      what = `processed ${m.show(v.value)}`;
      break;
    case "cpu":
      what = `used ${m.show(v.value)}`;
      break;
    case "memory":
      what = `peaked at ${m.show(v.value)} memory`;
      break;
    case "rows_per_update":
      what = `got ${m.show(v.value)}`;
      break;
    case "lateness":
      what = `was first updated at ${m.show(v.value)}`;
      break;
  }
  const usualText = a.metric === "lateness" ? `usually by ${usual}` : `usual ${usual}`;
  return `${name}${when} ${what}, ${usualText} (${basis}), ${sigmaText(v)}`;
}

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const weekdayOf = (ymd: string) => WEEKDAYS[new Date(`${ymd}T12:00:00Z`).getUTCDay()]!;

/** The digest (pure). */
export function renderAnomalies(d: AnomalyData, title: string): Digest {
  const { periods, req } = d;
  const s = d.anomalies.length ? undefined : d;
  if (s) {
    const what =
      d.scored === 0
        ? `no series had enough history to judge (${d.insufficient} with fewer than the minimum points)`
        : `${int(d.scored)} series of ${int(d.jobs)} jobs and ${int(d.datasets)} datasets were within their usual range`;
    return emptyDigest("anomalies", title, `No anomalies${scopeText(req)}: ${what}.`);
  }
  const weekly = periods.period.days > 1;
  const b = new AnswerBuilder();
  const jobs = d.anomalies.filter((a) => a.kind === "job");
  const datasets = d.anomalies.filter((a) => a.kind === "dataset");
  const worst = d.anomalies[0]!;
  b.headline(
    `${int(d.anomalies.length)} ${d.anomalies.length === 1 ? "anomaly" : "anomalies"} — worst: ${anomalySentence(worst, weekly)}.`,
  );
  const line = (a: Anomaly) =>
    `${anomalySentence(a, weekly)} ${sparkline(a.series.slice(-SPARK_DAYS).map((p) => p.value))}${a.owner ? ` — ${esc(a.owner)}` : ""}`;
  b.list(`Jobs (${jobs.length})`, jobs.map(line), LIST);
  b.list(`Datasets (${datasets.length})`, datasets.map(line), LIST);
  const set = settingsFor(req.anomalies, undefined);
  b.from(
    `${periodLabel(periods.period)}: ${int(d.scored)} series scored against the ${set.trainingDays} days before each day` +
      `${set.seasonality ? " (same weekday only)" : ""}, anomaly at |z| ≥ ${set.sensitivity} (classic mean/sd or robust median/MAD), ` +
      `at least ${set.minPoints} points${d.insufficient ? ` (${int(d.insufficient)} series had fewer)` : ""}. ` +
      `Job figures are per UTC day (the run rollup); dataset days are local to ${req.timezone}.` +
      (Object.keys(req.jobAnomalies ?? {}).length
        ? " Some jobs have their own settings in houston.yml."
        : ""),
  );
  return finish("anomalies", title, b);
}

/**
 * The worst anomaly's series: its training days, the usual band (median ± sensitivity × robust
 * σ) and the detected day in red. One series says more than a table of z-scores: the reader
 * sees at a glance how far outside its normal range the day fell.
 */
export function anomalyChartSpec(d: AnomalyData): ChartSpec | undefined {
  const a = d.anomalies[0];
  if (!a) return undefined;
  const v = a.verdict;
  const scale = a.metric === "duration" || a.metric === "lateness" ? 60_000 : 1;
  const unit =
    a.metric === "duration"
      ? "minutes"
      : a.metric === "lateness"
        ? "minutes after midnight"
        : METRICS[a.metric].noun;
  const values = a.series
    .filter((p) => p.value !== null)
    .map((p) => ({
      day: p.day,
      value: p.value! / scale,
      detected: p.day === a.day ? "this day" : "training",
    }));
  const lo = (v.median! - a.settings.sensitivity * v.robustSd!) / scale;
  const hi = (v.median! + a.settings.sensitivity * v.robustSd!) / scale;
  const x = { field: "day", type: "temporal", title: null, axis: { format: "%d %b", labelAngle: 0 } };
  return {
    title: `${a.name}: ${METRICS[a.metric].noun} ${sigmaText(v)}`,
    alt: `${a.name} ${METRICS[a.metric].noun} per day over ${values.length} days; ${a.day} is outside the usual band.`,
    filename: `anomalies-${d.req.date}.png`,
    spec: {
      layer: [
        // The band and the median line have legend entries of their own: without them a
        // reader could not tell what the shaded area and the dashed line are.
        {
          data: { values: [{ lo: Math.max(0, lo), hi, median: v.median! / scale }] },
          mark: { type: "rect" },
          encoding: {
            y: { field: "lo", type: "quantitative" },
            y2: { field: "hi" },
            fill: {
              datum: `usual range (median ± ${a.settings.sensitivity} σ)`,
              type: "nominal",
              scale: { range: ["#e3f2fd"] },
              legend: { title: null, orient: "top-right", symbolType: "square", labelLimit: 320 },
            },
          },
        },
        {
          data: { values: [{ median: v.median! / scale }] },
          mark: { type: "rule", strokeDash: [4, 4] },
          encoding: {
            y: { field: "median", type: "quantitative" },
            stroke: {
              datum: "median",
              type: "nominal",
              scale: { range: ["#1565c0"] },
              legend: { title: null, orient: "top-right", symbolType: "stroke", symbolDash: [4, 4] },
            },
          },
        },
        {
          data: { values },
          mark: { type: "line", color: "#607d8b", strokeWidth: 2 },
          encoding: { x, y: { field: "value", type: "quantitative", title: unit } },
        },
        {
          data: { values },
          mark: { type: "point", filled: true, size: 90 },
          encoding: {
            x,
            y: { field: "value", type: "quantitative" },
            color: {
              field: "detected",
              type: "nominal",
              scale: { domain: ["training", "this day"], range: ["#607d8b", "#d32f2f"] },
              legend: { title: null, orient: "top-left" },
            },
          },
        },
      ],
    },
  };
}

export default defineReport({
  name: "anomalies",
  title: "Anomalies",
  heading: "Anomaly digest",
  compute: computeAnomalies,
  render: renderAnomalies,
  chart: anomalyChartSpec,
});
