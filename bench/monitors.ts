// Monitor benchmark: one monitoring pass (evaluate → applyBreaches → reminders, exactly as
// runMonitors does for the minute tick) over the loaded fleet — every job with a schedule,
// SLAs on every dataset — timed at several instants, with the process's memory before and
// after, so "≤ 1 s per evaluation, flat memory" is measured rather than assumed.
//
// Run by `npm run bench` after the query figures, or alone over an already loaded store:
//
//   node --import tsx bench/monitors.ts [--db URL] [--instants N]
//
// It writes: dataset SLAs (sla_source 'bench'), and incidents / outbox rows (it empties
// incidents, outbox and silences first, so every run starts from the same state). It
// refuses a database whose name does not contain "bench".
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { sql } from "drizzle-orm";
import { openStore, type Store } from "../src/db/client.ts";
import { type DatasetSlaRow, upsertDatasetSlas } from "../src/db/schedules.ts";
import { monitorConfig, parseHoustonFile } from "../src/houston-yml.ts";
import { type MonitorRunSummary, runMonitors } from "../src/monitors/runner.ts";

const MIN = 60_000;
const DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/houston_bench";

/** What every job and dataset is held to: the defaults a real fleet would start from. */
const HOUSTON_YML = `
defaults:
  alert_channel: "#bench-alerts"
  routing_key: bench-routing-key
  max_duration: p95 x 3
  failure_streak: 2
`;

export interface MonitorBenchFigures {
  jobs: number;
  scheduled: number;
  datasets: number;
  withSla: number;
  withArrival: number;
  /** The instants evaluated, oldest first (ISO). */
  instants: string[];
  /** Runs written after the load (by the ingest benchmarks), and whether they moved the instants earlier. */
  laterRuns: number;
  cutBeforeLaterRuns: boolean;
  /** The first pass over an empty incidents table (opens everything). */
  first: MonitorRunSummary;
  /** The passes after it (steady state: incidents already open). */
  rest: MonitorRunSummary[];
  p50: number;
  p99: number;
  max: number;
  evalP50: number;
  evalP99: number;
  rssBefore: number;
  rssAfterFirst: number;
  rssAfter: number;
  rssPeak: number;
  heapAfterFirst: number;
  heapAfter: number;
}

/**
 * A full garbage collection, so heap figures compare live memory rather than whenever V8
 * last collected (the flag can be set at run time; the function is taken from a fresh context).
 */
function collect(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
}

/**
 * The instant to evaluate up to: the end of the loaded history (the latest run the
 * generator wrote, ids 1…N in time order), or just before the first run written after the
 * load, whichever is earlier. The ingest benchmarks add synthetic runs over the 23 hours
 * before they run (random outcomes, starts whose end never comes); evaluated after them, a
 * pass would judge those (thousands of "long runs" and flapping jobs) instead of the fleet.
 */
async function evaluationEnd(store: Store): Promise<{ end: Date; cut: boolean; later: number }> {
  const [row] = await store.query<{ end: number | null; last_id: number | null }>(
    sql`SELECT max(l.t) AS end, max(l.id)::float8 AS last_id FROM jobs j CROSS JOIN LATERAL (
          SELECT (extract(epoch from r.run_at) * 1000)::float8 AS t, r.id FROM runs r
          WHERE r.job_id = j.id AND r.external_id LIKE 's%' AND r.external_id NOT LIKE '%-%'
          ORDER BY r.run_at DESC LIMIT 1) l`,
  );
  if (!row?.end || row.last_id === null)
    throw new Error("no generated runs in the store: load it first (npm run bench)");
  const [after] = await store.query<{ first: number | null; n: number }>(
    sql`SELECT min((extract(epoch from run_at) * 1000)::float8) AS first, count(*)::int AS n
        FROM runs WHERE id > ${Number(row.last_id)}`,
  );
  const end = Number(row.end);
  const first = after?.first === null || after?.first === undefined ? Infinity : Number(after.first);
  return { end: new Date(Math.min(end, first - MIN)), cut: first - MIN < end, later: after?.n ?? 0 };
}

/** SLAs for every dataset: max age 26 h (daily updates), and an arrival time for every fourth. */
async function declareSlas(
  store: Store,
): Promise<{ datasets: number; withSla: number; withArrival: number }> {
  const ds = await store.query<{ namespace: string; name: string; id: number }>(
    sql`SELECT id, namespace, name FROM datasets ORDER BY id`,
  );
  const rows: DatasetSlaRow[] = ds.map((d, i) => ({
    namespace: d.namespace,
    name: d.name,
    maxAgeSeconds: 26 * 3600,
    timezone: "UTC",
    ...(i % 4 === 0 ? { expectedArrival: `${String(6 + (i % 6)).padStart(2, "0")}:30` } : {}),
  }));
  for (let i = 0; i < rows.length; i += 1000)
    await upsertDatasetSlas(store, "bench", rows.slice(i, i + 1000));
  return {
    datasets: ds.length,
    withSla: rows.length,
    withArrival: rows.filter((r) => r.expectedArrival).length,
  };
}

export async function monitorBench(store: Store, instants = 12): Promise<MonitorBenchFigures> {
  const [db] = await store.query<{ db: string }>(sql`SELECT current_database() AS db`);
  if (!db?.db.includes("bench"))
    throw new Error(`refusing to write incidents into ${db?.db}: point --db at a bench database`);
  const [counts] = await store.query<{ jobs: number; scheduled: number }>(
    sql`SELECT (SELECT count(*)::int FROM jobs) AS jobs, (SELECT count(*)::int FROM job_schedules) AS scheduled`,
  );
  const slas = await declareSlas(store);
  await store.query(sql`TRUNCATE incidents, outbox, silences`);
  await store.query(sql`VACUUM ANALYZE datasets`);

  const { end, cut, later } = await evaluationEnd(store);
  // Minute instants, oldest first, 7 minutes apart, ending at the history's end: what the
  // minute tick would have evaluated over the last hour or so before it.
  const at = Array.from(
    { length: instants },
    (_, i) => new Date(Math.floor(end.getTime() / MIN) * MIN - (instants - 1 - i) * 7 * MIN),
  );
  const config = monitorConfig(parseHoustonFile(HOUSTON_YML, "bench-houston.yml", "UTC"), {});
  const opts = { replicaId: "bench", claim: false };

  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    collect();
    const rssBefore = process.memoryUsage().rss;
    const first = await runMonitors(store, at[0]!, config, opts);
    collect();
    const m1 = process.memoryUsage();
    const rest: MonitorRunSummary[] = [];
    for (const t of at.slice(1)) rest.push(await runMonitors(store, t, config, opts));
    collect();
    const m2 = process.memoryUsage();
    const total = rest.map((r) => r.totalMs);
    const evals = rest.map((r) => r.evaluateMs);
    return {
      jobs: counts!.jobs,
      scheduled: counts!.scheduled,
      ...slas,
      instants: at.map((d) => d.toISOString()),
      laterRuns: later,
      cutBeforeLaterRuns: cut,
      first,
      rest,
      p50: percentile(total, 0.5),
      p99: percentile(total, 0.99),
      max: Math.max(...total),
      evalP50: percentile(evals, 0.5),
      evalP99: percentile(evals, 0.99),
      rssBefore,
      rssAfterFirst: m1.rss,
      rssAfter: m2.rss,
      rssPeak: Math.max(peak, m2.rss),
      heapAfterFirst: m1.heapUsed,
      heapAfter: m2.heapUsed,
    };
  } finally {
    clearInterval(sampler);
  }
}

const mb = (b: number) => `${Math.round(b / 1024 / 1024).toLocaleString("en-US")} MB`;

/** Lines for the bench output (without the section header). */
export function monitorLines(f: MonitorBenchFigures): string[] {
  const kinds = (s: MonitorRunSummary) =>
    Object.entries(s.byKind)
      .sort()
      .map(([k, n]) => `${k} ${n}`)
      .join(", ") || "none";
  const last = f.rest[f.rest.length - 1] ?? f.first;
  const ok = f.p99 <= 1000 ? "ok" : "MISSED";
  const growth = f.rssAfter - f.rssAfterFirst;
  return [
    `${f.jobs.toLocaleString("en-US")} jobs (${f.scheduled.toLocaleString("en-US")} with schedules), ` +
      `${f.datasets.toLocaleString("en-US")} datasets (${f.withSla.toLocaleString("en-US")} with a max age, ` +
      `${f.withArrival.toLocaleString("en-US")} with an arrival time); instants ${f.instants[0]} … ${f.instants[f.instants.length - 1]}, 7 min apart`,
    ...(f.laterRuns
      ? [
          `${f.laterRuns.toLocaleString("en-US")} runs were written after the load (ingest benchmarks)` +
            (f.cutBeforeLaterRuns
              ? "; the instants end before the first of them"
              : "; all after the instants"),
        ]
      : []),
    `first pass (empty incidents table): ${f.first.totalMs.toFixed(0)} ms (evaluate ${f.first.evaluateMs.toFixed(0)} ms), ` +
      `${f.first.breaches} breaches (${kinds(f.first)}), ${f.first.opened} opened, ${f.first.outbox} outbox rows`,
    `next ${f.rest.length} passes: p50 ${f.p50.toFixed(0)} ms, p99 ${f.p99.toFixed(0)} ms, max ${f.max.toFixed(0)} ms ` +
      `(evaluate alone p50 ${f.evalP50.toFixed(0)} ms, p99 ${f.evalP99.toFixed(0)} ms)   target ≤ 1,000 ms (${ok})`,
    `last pass: ${last.breaches} breaches (${kinds(last)}), ${last.opened} opened, ${last.updated} updated, ${last.resolved} resolved`,
    `memory (this process): rss ${mb(f.rssBefore)} before, ${mb(f.rssAfterFirst)} after the first pass, ` +
      `${mb(f.rssAfter)} after ${f.rest.length} more (${growth >= 0 ? "+" : ""}${mb(growth)}; peak ${mb(f.rssPeak)}); ` +
      `live heap after a full GC ${mb(f.heapAfterFirst)} → ${mb(f.heapAfter)}`,
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const db = arg("--db") ?? process.env["DATABASE_URL"] ?? DEFAULT_DB;
  const instants = Number(arg("--instants") ?? 12);
  if (!Number.isInteger(instants) || instants < 2) throw new Error("--instants expects a whole number ≥ 2");
  const store = await openStore({ databaseUrl: db, maxConnections: 2 });
  try {
    console.log(`Monitor benchmark (${db})`);
    for (const line of monitorLines(await monitorBench(store, instants))) console.log(`  ${line}`);
  } finally {
    await store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
