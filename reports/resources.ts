// The resource-usage digest: what the fleet burned (cpu-seconds, peak memory, cost) per job,
// group, owner and environment; the top consumers; day-over-day and week-over-week change;
// cost spikes; the jobs whose cost grew fastest over 30 days; and bad records (what runs
// and dataset updates reported rejecting), where there were any. Run figures come from the
// run_daily rollup (UTC days), never from raw runs; datasets' bad records from the few
// updates that reported some (dataset_updates_bad_records_idx), over the same UTC days.
//
// - Day-over-day: the period against the one before (for a weekly digest: week-over-week).
// - Week-over-week (daily digests): the day against the same weekday a week before.
// - Spike: a job-day whose cost is an anomaly (upwards) against its own trailing window, with
//   the same maths and settings as the anomaly digest.
// - 30-day growth: the median daily cost of the last 7 days over that of the first 7 days of
//   the 30 days ending on the digest's last day (medians, so one spike is not "growth").
import { sql } from "drizzle-orm";
import { median } from "simple-statistics";
import { detect, settingsFor, sigmaText, trainingValues, type Verdict } from "../src/digests/anomaly.ts";
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
  money,
  num,
  num0,
  pctChange,
  scopeText,
} from "../src/digests/common.ts";
import {
  addDaysYmd,
  dayOffsets,
  type DigestPeriods,
  digestPeriods,
  periodLabel,
} from "../src/digests/period.ts";
import { sparkline } from "../src/digests/sparkline.ts";
import type { Digest, DigestRequest } from "../src/digests/types.ts";
import { ts } from "../src/db/sql.ts";
import { formatDatasetRef } from "../src/ingest/dataset-names.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";

const GROWTH_DAYS = 30;
const GROWTH_EDGE = 7;
/** Fewer days with a cost than this at either end of the 30 days: no growth figure. */
const GROWTH_MIN_POINTS = 4;
/** Growth below this ratio is not worth a line. */
const GROWTH_MIN_RATIO = 1.2;
const SPARK_DAYS = 14;
/** Cost spikes smaller than this share of the day's total cost are not flagged. */
const SPIKE_MIN_SHARE = 0.005;
const TOP = 10;
const LIST = 5;

export interface Usage {
  cost: number;
  cpu: number;
  /** Peak memory (MB) of any run. */
  memMb: number;
  /** Records the runs reported rejecting (bad_records). */
  badRecords: number;
}

export interface JobUsage extends Usage {
  name: string;
  owner: string | null;
  group: string | null;
  environment: string | null;
  previous: Usage;
  /** Same days a week before (daily digests only). */
  weekAgo?: Usage;
  spike?: Verdict & { day: string };
  /** Daily cost over the last 14 days, oldest first (null: no runs). */
  spark: (number | null)[];
}

export interface GroupUsage extends Usage {
  key: string;
  previous: Usage;
  weekAgo?: Usage;
}

/** A job whose runs reported bad records in the period. */
export interface JobBadRecords {
  name: string;
  owner: string | null;
  badRecords: number;
  /** The period before. */
  previous: number;
}

/** A dataset whose updates reported bad records in the period. */
export interface DatasetBadRecords {
  namespace: string;
  name: string;
  badRecords: number;
  /** Updates in the period that reported some. */
  updates: number;
}

export interface Growth {
  name: string;
  owner: string | null;
  early: number;
  recent: number;
  ratio: number;
}

export interface ResourceData {
  req: DigestRequest;
  periods: DigestPeriods;
  total: GroupUsage;
  jobs: JobUsage[];
  groups: GroupUsage[];
  owners: GroupUsage[];
  environments: GroupUsage[];
  growth: Growth[];
  /** Fleet cost per day, last 14 days, oldest first. */
  totalSpark: number[];
  /** Jobs and datasets with bad records in the period, most first. */
  badJobs: JobBadRecords[];
  badDatasets: DatasetBadRecords[];
}

const zero = (): Usage => ({ cost: 0, cpu: 0, memMb: 0, badRecords: 0 });

interface Windows {
  /** Day ranges (inclusive, YYYY-MM-DD) as SQL bounds. */
  cur: [string, string];
  prev: [string, string];
  week?: [string, string];
}

function windows(periods: DigestPeriods): Windows {
  const p = periods.period;
  const w: Windows = {
    cur: [p.firstDay, p.lastDay],
    prev: [periods.previous.firstDay, periods.previous.lastDay],
  };
  if (p.days === 1) w.week = [addDaysYmd(p.firstDay, -7), addDaysYmd(p.lastDay, -7)];
  return w;
}

const usageCols = (w: Windows) => {
  const f = (r: [string, string], tag: string) =>
    sql.join(
      [
        sql`coalesce(sum(d.cost) FILTER (WHERE d.day BETWEEN ${r[0]}::date AND ${r[1]}::date), 0)::float8 AS ${sql.raw(`cost_${tag}`)}`,
        sql`coalesce(sum(d.cpu_seconds) FILTER (WHERE d.day BETWEEN ${r[0]}::date AND ${r[1]}::date), 0)::float8 AS ${sql.raw(`cpu_${tag}`)}`,
        sql`coalesce(max(d.memory_mb_max) FILTER (WHERE d.day BETWEEN ${r[0]}::date AND ${r[1]}::date), 0)::float8 AS ${sql.raw(`mem_${tag}`)}`,
        sql`coalesce(sum(d.bad_records) FILTER (WHERE d.day BETWEEN ${r[0]}::date AND ${r[1]}::date), 0)::float8 AS ${sql.raw(`bad_${tag}`)}`,
      ],
      sql`, `,
    );
  return sql.join([f(w.cur, "cur"), f(w.prev, "prev"), ...(w.week ? [f(w.week, "week")] : [])], sql`, `);
};

const usageOf = (r: Record<string, unknown>, tag: string): Usage => ({
  cost: num0(r[`cost_${tag}`]),
  cpu: num0(r[`cpu_${tag}`]),
  memMb: num0(r[`mem_${tag}`]),
  badRecords: num0(r[`bad_${tag}`]),
});

/** Totals per group, owner, environment and for the whole scope: one GROUPING SETS pass over run_daily. */
async function totals(req: DigestRequest, periods: DigestPeriods, w: Windows) {
  const from = w.week ? w.week[0] : w.prev[0];
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT GROUPING(j.group_name)::int AS g_group, GROUPING(j.owner)::int AS g_owner,
          GROUPING(j.environment)::int AS g_env, j.group_name, j.owner, j.environment, ${usageCols(w)}
        FROM run_daily d JOIN jobs j ON j.id = d.job_id
        WHERE d.day >= ${from}::date AND d.day <= ${periods.period.lastDay}::date AND ${jobScope(req)}
        GROUP BY GROUPING SETS ((j.group_name), (j.owner), (j.environment), ())`,
  );
  const make = (r: Record<string, unknown>, key: string): GroupUsage => {
    const g: GroupUsage = { key, ...usageOf(r, "cur"), previous: usageOf(r, "prev") };
    if (w.week) g.weekAgo = usageOf(r, "week");
    return g;
  };
  const by = (xs: GroupUsage[]) =>
    xs.filter((x) => x.cost > 0 || x.cpu > 0).sort((a, b) => b.cost - a.cost || b.cpu - a.cpu);
  const groups: GroupUsage[] = [];
  const owners: GroupUsage[] = [];
  const envs: GroupUsage[] = [];
  let total: GroupUsage = { key: "all", ...zero(), previous: zero() };
  for (const r of rows) {
    const gg = num0(r["g_group"]);
    const go = num0(r["g_owner"]);
    const ge = num0(r["g_env"]);
    if (gg && go && ge) total = make(r, "all");
    else if (!gg) groups.push(make(r, (r["group_name"] as string | null) ?? "(no group)"));
    else if (!go) owners.push(make(r, (r["owner"] as string | null) ?? "(no owner)"));
    else if (!ge) envs.push(make(r, (r["environment"] as string | null) ?? "(no environment)"));
  }
  return { total, groups: by(groups), owners: by(owners), environments: by(envs) };
}

/** Per job: daily cost, cpu and peak memory over the days the digest needs (rollup rows, as JSON per job). */
async function jobs(
  req: DigestRequest,
  periods: DigestPeriods,
  w: Windows,
): Promise<{ jobs: JobUsage[]; growth: Growth[]; badJobs: JobBadRecords[] }> {
  const settings = settingsFor(req.anomalies, undefined);
  const last = periods.period.lastDay;
  const from = [
    addDaysYmd(periods.period.firstDay, -settings.trainingDays),
    addDaysYmd(last, -(GROWTH_DAYS - 1)),
    w.week?.[0] ?? w.prev[0],
    w.prev[0],
  ].sort()[0]!;
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT j.name, j.owner, j.group_name, j.environment,
          json_agg(json_build_array(d.day - ${from}::date, d.cost, d.cpu_seconds, d.memory_mb_max, d.bad_records)
            ORDER BY d.day) AS days
        FROM run_daily d JOIN jobs j ON j.id = d.job_id
        WHERE d.day >= ${from}::date AND d.day <= ${last}::date AND ${jobScope(req)}
        GROUP BY j.id, j.name, j.owner, j.group_name, j.environment`,
  );
  const out: JobUsage[] = [];
  const growth: Growth[] = [];
  const badJobs: JobBadRecords[] = [];
  const growthFrom = addDaysYmd(last, -(GROWTH_DAYS - 1));
  const dayAt = dayOffsets(from);
  // Day lists computed once for all jobs.
  const range = (r: [string, string]) => {
    const out: string[] = [];
    for (let d = r[0]; d <= r[1]; d = addDaysYmd(d, 1)) out.push(d);
    return out;
  };
  const curDays = range(w.cur);
  const prevDays = range(w.prev);
  const weekDays = w.week ? range(w.week) : undefined;
  const sparkDays = range([addDaysYmd(last, -(SPARK_DAYS - 1)), last]);
  const earlyEnd = addDaysYmd(growthFrom, GROWTH_EDGE);
  const recentFrom = addDaysYmd(last, -GROWTH_EDGE);
  for (const r of rows) {
    const name = String(r["name"]);
    const owner = (r["owner"] as string | null) ?? null;
    const days = (typeof r["days"] === "string" ? JSON.parse(r["days"]) : r["days"]) as unknown[][];
    const cost = new Map<string, number>();
    const cpu = new Map<string, number>();
    const mem = new Map<string, number>();
    const bad = new Map<string, number>();
    for (const [offset, c, u, m, b] of days) {
      const d = dayAt(num0(offset));
      if (num(c) !== null) cost.set(d, num(c)!);
      if (num(u) !== null) cpu.set(d, num(u)!);
      if (num(m) !== null) mem.set(d, num(m)!);
      if (num(b) !== null) bad.set(d, num(b)!);
    }
    const sum = (range: string[]): Usage => {
      const u = zero();
      for (const d of range) {
        u.cost += cost.get(d) ?? 0;
        u.cpu += cpu.get(d) ?? 0;
        u.memMb = Math.max(u.memMb, mem.get(d) ?? 0);
        u.badRecords += bad.get(d) ?? 0;
      }
      return u;
    };
    const job: JobUsage = {
      name,
      owner,
      group: (r["group_name"] as string | null) ?? null,
      environment: (r["environment"] as string | null) ?? null,
      ...sum(curDays),
      previous: sum(prevDays),
      spark: sparkDays.map((d) => cost.get(d) ?? null),
    };
    if (weekDays) job.weekAgo = sum(weekDays);
    const js = settingsFor(req.anomalies, req.jobAnomalies?.[name]);
    for (const d of curDays) {
      const v = cost.get(d);
      if (v === undefined) continue;
      const verdict = detect(v, trainingValues(cost, d, js), js, { sides: "high" });
      if (verdict.status === "anomaly" && (!job.spike || verdict.severity > job.spike.severity))
        job.spike = { ...verdict, day: d };
    }
    if (job.cost > 0 || job.cpu > 0) out.push(job);
    if (job.badRecords > 0)
      badJobs.push({ name, owner, badRecords: job.badRecords, previous: job.previous.badRecords });
    const early: number[] = [];
    const recent: number[] = [];
    for (const [d, c] of cost) {
      if (d >= growthFrom && d < earlyEnd) early.push(c);
      if (d > recentFrom && d <= last) recent.push(c);
    }
    if (early.length >= GROWTH_MIN_POINTS && recent.length >= GROWTH_MIN_POINTS) {
      const e = median(early);
      const rc = median(recent);
      if (e > 0 && rc / e >= GROWTH_MIN_RATIO)
        growth.push({ name, owner, early: e, recent: rc, ratio: rc / e });
    }
  }
  out.sort((a, b) => b.cost - a.cost || b.cpu - a.cpu || (a.name < b.name ? -1 : 1));
  growth.sort((a, b) => b.ratio - a.ratio || (a.name < b.name ? -1 : 1));
  badJobs.sort((a, b) => b.badRecords - a.badRecords || (a.name < b.name ? -1 : 1));
  return { jobs: out, growth, badJobs };
}

/**
 * Datasets whose updates in the period's UTC days reported bad records (the days the run
 * figures cover), in the request's scope (the writer's job stands in for the dataset's).
 */
async function datasetBadRecords(req: DigestRequest, w: Windows): Promise<DatasetBadRecords[]> {
  const from = new Date(`${w.cur[0]}T00:00:00Z`);
  const to = new Date(`${addDaysYmd(w.cur[1], 1)}T00:00:00Z`);
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT ds.namespace, ds.name, sum(u.bad_records)::float8 AS bad, count(*)::int AS updates
        FROM dataset_updates u JOIN datasets ds ON ds.id = u.dataset_id
        WHERE u.bad_records > 0 AND u.updated_at >= ${ts(from)} AND u.updated_at < ${ts(to)}
          AND ${datasetScope(req, to)}
        GROUP BY ds.id, ds.namespace, ds.name
        ORDER BY bad DESC, ds.name, ds.namespace`,
  );
  return rows.map((r) => ({
    namespace: String(r["namespace"]),
    name: String(r["name"]),
    badRecords: num0(r["bad"]),
    updates: num0(r["updates"]),
  }));
}

/** Fleet cost per UTC day for the sparkline. */
async function dailyTotals(req: DigestRequest, last: string): Promise<number[]> {
  const from = addDaysYmd(last, -(SPARK_DAYS - 1));
  const rows = await req.store.query<Record<string, unknown>>(
    sql`SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(sum(d.cost), 0)::float8 AS cost
        FROM run_daily d JOIN jobs j ON j.id = d.job_id
        WHERE d.day >= ${from}::date AND d.day <= ${last}::date AND ${jobScope(req)}
        GROUP BY d.day`,
  );
  const by = new Map(rows.map((r) => [String(r["day"]), num0(r["cost"])]));
  return Array.from({ length: SPARK_DAYS }, (_, i) => by.get(addDaysYmd(from, i)) ?? 0);
}

export async function computeResources(req: DigestRequest): Promise<ResourceData> {
  const periods = digestPeriods(req);
  const w = windows(periods);
  const [t, j, spark, badDatasets] = await Promise.all([
    totals(req, periods, w),
    jobs(req, periods, w),
    dailyTotals(req, periods.period.lastDay),
    datasetBadRecords(req, w),
  ]);
  // A spike must matter to the bill: at least this share of the scope's daily cost.
  const floor = (SPIKE_MIN_SHARE * t.total.cost) / periods.period.days;
  for (const job of j.jobs) if (job.spike && job.spike.value - job.spike.median! < floor) delete job.spike;
  return {
    req,
    periods,
    ...t,
    jobs: j.jobs,
    growth: j.growth,
    totalSpark: spark,
    badJobs: j.badJobs,
    badDatasets,
  };
}

function changes(u: Usage & { previous: Usage; weekAgo?: Usage }, weekly: boolean): string {
  const parts = [`${pctChange(u.cost, u.previous.cost)} ${weekly ? "w/w" : "d/d"}`];
  if (u.weekAgo) parts.push(`${pctChange(u.cost, u.weekAgo.cost)} w/w`);
  return parts.join(", ");
}

export function renderResources(d: ResourceData, title: string): Digest {
  const { req, periods } = d;
  const weekly = periods.period.days > 1;
  const badDatasets = d.badDatasets.reduce((a, x) => a + x.badRecords, 0);
  if (d.jobs.length === 0 && d.badJobs.length === 0 && d.badDatasets.length === 0)
    return emptyDigest(
      "resources",
      title,
      `Nothing to report: no run recorded cpu, memory or cost${scopeText(req)} in ${periodLabel(periods.period)}.`,
    );
  const b = new AnswerBuilder();
  const spikes = d.jobs.filter((j) => j.spike).sort((a, b2) => b2.spike!.severity - a.spike!.severity);
  const top = d.jobs[0];
  const bad = [
    d.total.badRecords > 0 ? `${int(d.total.badRecords)} bad records in runs` : "",
    badDatasets > 0 ? `${int(badDatasets)} in dataset updates` : "",
  ]
    .filter(Boolean)
    .join(", ");
  if (top) {
    const share = d.total.cost > 0 ? ` (${Math.round((100 * top.cost) / d.total.cost)}%)` : "";
    b.headline(
      `${money(d.total.cost)} and ${compact(d.total.cpu)} cpu-seconds across ${int(d.jobs.length)} jobs (${changes(d.total, weekly)}); ` +
        `top consumer ${code(top.name)} ${money(top.cost)}${share}` +
        `${spikes.length ? `; ${spikes.length} cost ${spikes.length === 1 ? "spike" : "spikes"}` : ""}${bad ? `; ${bad}` : ""}.`,
    );
  } else b.headline(`No run recorded cpu, memory or cost; ${bad}.`);
  const perPeriod = weekly ? "w/w" : "d/d";
  b.fields([
    ["Cost", `${money(d.total.cost)} ${sparkline(d.totalSpark)}\n_${changes(d.total, weekly)}_`],
    ["CPU", `${compact(d.total.cpu)} cpu-s\n_${pctChange(d.total.cpu, d.total.previous.cpu)} ${perPeriod}_`],
    ["Peak memory (one run)", memory(d.total.memMb)],
    ["Jobs with usage", int(d.jobs.length)],
    // Shown only where non-zero: most fleets report none, and a 0 would read as "measured".
    ...(d.total.badRecords > 0
      ? [
          [
            "Bad records (runs)",
            `${int(d.total.badRecords)}\n_${pctChange(d.total.badRecords, d.total.previous.badRecords)} ${perPeriod}_`,
          ] as [string, string],
        ]
      : []),
    ...(badDatasets > 0 ? [["Bad records (dataset updates)", int(badDatasets)] as [string, string]] : []),
  ]);
  b.list(
    "Cost spikes",
    spikes.map(
      (j) =>
        `${code(j.name)} ${money(j.spike!.value)}${weekly ? ` on ${j.spike!.day}` : ""}, usual ${money(j.spike!.median!)} (median of ${j.spike!.n} days), ${sigmaText(j.spike!)}${j.owner ? ` — ${esc(j.owner)}` : ""}`,
    ),
    LIST,
  );
  b.list(
    "Top consumers",
    d.jobs.map(
      (j) =>
        `${code(j.name)} ${money(j.cost)} (${changes(j, weekly)}) · ${compact(j.cpu)} cpu-s · peak ${memory(j.memMb)}${j.badRecords > 0 ? ` · ${int(j.badRecords)} bad records` : ""} ${sparkline(j.spark)}${j.spike ? " :warning: spike" : ""}${j.owner ? ` — ${esc(j.owner)}` : ""}`,
    ),
    TOP,
  );
  b.list(
    "Bad records",
    d.badJobs.map(
      (j) =>
        `${code(j.name)} ${int(j.badRecords)} (${pctChange(j.badRecords, j.previous)} ${perPeriod})${j.owner ? ` — ${esc(j.owner)}` : ""}`,
    ),
    LIST,
  );
  b.list(
    "Bad records by dataset",
    d.badDatasets.map(
      (x) =>
        `${code(formatDatasetRef(x))} ${int(x.badRecords)} in ${int(x.updates)} ${x.updates === 1 ? "update" : "updates"}`,
    ),
    LIST,
  );
  const groupLine = (g: GroupUsage) =>
    `${code(g.key)} ${money(g.cost)} (${changes(g, weekly)}) · ${compact(g.cpu)} cpu-s`;
  if (!req.group) b.list("By group", d.groups.map(groupLine), LIST);
  b.list(
    "By owner",
    d.owners.map((g) => groupLine(g).replace(/^`([^`]*)`/, (_, o: string) => o)),
    LIST,
  );
  if (!req.environment) b.list("By environment", d.environments.map(groupLine), LIST);
  b.list(
    `Fastest cost growth over ${GROWTH_DAYS} days`,
    d.growth.map(
      (g) =>
        `${code(g.name)} ${pctChange(g.recent, g.early)}: median ${money(g.early)}/day in the first week → ${money(g.recent)}/day in the last${g.owner ? ` — ${esc(g.owner)}` : ""}`,
    ),
    LIST,
  );
  b.from(
    `${periodLabel(periods.period)}, UTC days of the run rollup${scopeText(req)}. ${weekly ? "w/w = against the week before." : "d/d = against the day before, w/w = against the same day a week before."} ` +
      `Spike = cost an upward anomaly against the job's trailing days (same rule as the anomaly digest); growth = median daily cost of the last ${GROWTH_EDGE} days over the first ${GROWTH_EDGE} of ${GROWTH_DAYS}.`,
  );
  return finish("resources", title, b);
}

/** Top consumers by cost as horizontal bars, spikes in red. */
export function resourcesChartSpec(d: ResourceData): ChartSpec | undefined {
  const top = d.jobs.filter((j) => j.cost > 0).slice(0, TOP);
  if (top.length === 0) return undefined;
  const values = top.map((j) => ({
    job: j.name,
    cost: Math.round(j.cost * 100) / 100,
    label: money(j.cost),
    kind: j.spike ? "spike" : "usual",
  }));
  // The values arrive sorted by cost; sort: null keeps that order in both layers.
  const y = { field: "job", type: "nominal", sort: null, title: null, axis: { labelLimit: 420 } };
  return {
    title: `Top ${top.length} consumers by cost — ${periodLabel(d.periods.period)}${scopeText(d.req)}`,
    alt: `Bar chart of the ${top.length} costliest jobs; ${top[0]!.name} is first with ${money(top[0]!.cost)}.`,
    filename: `resources-${d.req.date}.png`,
    spec: {
      data: { values },
      layer: [
        {
          mark: { type: "bar", cornerRadiusEnd: 3 },
          encoding: {
            y,
            x: { field: "cost", type: "quantitative", title: "cost ($)" },
            color: {
              field: "kind",
              type: "nominal",
              scale: { domain: ["usual", "spike"], range: ["#5c6bc0", "#d32f2f"] },
              legend: { title: null, orient: "bottom-right" },
            },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 4, fontSize: 12, color: "#454245" },
          encoding: { y, x: { field: "cost", type: "quantitative" }, text: { field: "label" } },
        },
      ],
    },
  };
}

export default defineReport({
  name: "resources",
  title: "Resource usage",
  heading: "Resource usage digest",
  compute: computeResources,
  render: renderResources,
  chart: resourcesChartSpec,
});
