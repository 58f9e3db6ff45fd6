// `npm run bench`: loads a realistic fleet (default 10M runs, 5,000 jobs, ~400 days) into
// PostgreSQL, then measures what Houston's hot paths cost at that size: raw COPY, HTTP batch
// ingest (the service in its own process, its RSS sampled), OpenLineage ingest, `houston
// ingest`, the core read queries (also on PGlite) and one monitor pass over the whole fleet.
// It prints figures (stdout; progress on stderr); besides the fleet it writes only what
// those steps write (ingested runs, dataset SLAs, incidents; see bench/monitors.ts).
//
//   npm run bench -- [--runs N] [--jobs N] [--pglite-runs N] [--pglite-jobs N] [--skip-pglite]
//                    [--skip-load] [--db URL] [--seed N]
//                    [--http-batches N] [--lineage-events N] [--cli-events N] [--monitor-instants N]
//                    (smaller runs while developing) [--load-only] (load the fleet, measure nothing)
//                    [--steps copy,http,lineage,lineage-graph,cli,queries,monitors,digests,pglite]
//                    (only these measurements)
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { openStore, type Store } from "../src/db/client.ts";
import {
  failedDeploys,
  findDatasets,
  findJobs,
  fleetDayStats,
  jobDailySeries,
  latestDatasetUpdate,
  latestRun,
  missingRuns,
  runsInWindow,
} from "../src/db/queries.ts";
import { flushAllRollups } from "../src/db/rollup.ts";
import { expandSlots, loadSchedules } from "../src/db/slots.ts";
import {
  DATASET_COLUMNS,
  DEPLOY_COLUMNS,
  datasetChunks,
  datasetUpdateChunks,
  deployChunks,
  type Fleet,
  JOB_COLUMNS,
  jobChunks,
  planFleet,
  RESULT_COLUMNS,
  Rng,
  RUN_COLUMNS,
  runChunks,
  SCHEDULE_COLUMNS,
  scheduleChunks,
  TEST_COLUMNS,
  testChunks,
  testResultChunks,
  UPDATE_COLUMNS,
} from "./generate.ts";
import { digestBenchmark } from "./digests.ts";
import { BENCH_LINEAGE_NAMESPACE, seedLineageGraph, walkLatencies } from "./lineage.ts";
import { monitorBench, monitorLines } from "./monitors.ts";
import { procMemory, type Service, serviceCommand, startService } from "./service.ts";
import { serviceDigestBenchmark } from "./service-digests.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/houston_bench";
const HOUR = 3_600_000;
const DAY = 86_400_000;
const DAYS = 400;
/** Time budgets: a step that runs slow is reported as measured so far, not waited out. */
const HTTP_BUDGET_MS = 15 * 60_000;
const LINEAGE_BUDGET_MS = 10 * 60_000;
const CLI_TIMEOUT_MS = 30 * 60_000;

// ---------------------------------------------------------------------------------------
// Options and output

interface Options {
  runs: number;
  jobs: number;
  pgliteRuns: number;
  pgliteJobs?: number;
  skipPglite: boolean;
  skipLoad: boolean;
  loadOnly: boolean;
  db: string;
  seed: number;
  httpBatches: number;
  lineageEvents: number;
  cliEvents: number;
  monitorInstants: number;
  /** Which measurements to take (all by default). */
  steps: Set<string>;
}

const STEPS = ["copy", "http", "lineage", "lineage-graph", "cli", "queries", "monitors", "digests", "pglite"];

function count(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.replaceAll("_", "").replaceAll(",", ""));
  if (!m) throw new Error(`${flag} expects a number (e.g. 200000, 200k, 10M), got ${text}`);
  const mult = m[2] === "" ? 1 : m[2]!.toLowerCase() === "k" ? 1e3 : 1e6;
  return Math.round(Number(m[1]) * mult);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    runs: 10_000_000,
    jobs: 5_000,
    pgliteRuns: 1_000_000,
    skipPglite: false,
    skipLoad: false,
    loadOnly: false,
    db: process.env["DATABASE_URL"] || DEFAULT_DB,
    seed: 20261122,
    httpBatches: 200,
    lineageEvents: 20_000,
    cliEvents: 100_000,
    monitorInstants: 12,
    steps: new Set(STEPS),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--runs") o.runs = count(val(), a);
    else if (a === "--jobs") o.jobs = count(val(), a);
    else if (a === "--pglite-runs") o.pgliteRuns = count(val(), a);
    else if (a === "--pglite-jobs") o.pgliteJobs = count(val(), a);
    else if (a === "--skip-pglite") o.skipPglite = true;
    else if (a === "--skip-load") o.skipLoad = true;
    else if (a === "--load-only") o.loadOnly = true;
    else if (a === "--steps") {
      o.steps = new Set(val().split(","));
      for (const st of o.steps)
        if (!STEPS.includes(st)) throw new Error(`--steps: unknown step ${st}; steps are ${STEPS.join(",")}`);
    } else if (a === "--db") o.db = val();
    else if (a === "--seed") o.seed = count(val(), a);
    else if (a === "--http-batches") o.httpBatches = count(val(), a);
    else if (a === "--lineage-events") o.lineageEvents = count(val(), a);
    else if (a === "--cli-events") o.cliEvents = count(val(), a);
    else if (a === "--monitor-instants") o.monitorInstants = Math.max(2, count(val(), a));
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (rows: number, ms: number) => fmt(rows / Math.max(ms / 1000, 1e-9));
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MB`;
const out = (line = "") => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`  · ${line}\n`);

/** The final table: one row per figure. */
const summary: [string, string, string][] = [];
const record = (what: string, figure: string, target = "") => summary.push([what, figure, target]);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

function withProgress(label: string, counter: { rows: number }, total: number): () => void {
  const started = performance.now();
  const timer = setInterval(() => {
    const el = performance.now() - started;
    note(
      `${label}: ${fmt(counter.rows)}/${fmt(total)} (${rate(counter.rows, el)}/s, rss ${mb(process.memoryUsage().rss)})`,
    );
  }, 15_000);
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------------------------------
// Bulk targets: PostgreSQL (COPY FROM STDIN) and PGlite (COPY FROM '/dev/blob')

interface BulkTarget {
  kind: "postgres" | "pglite";
  exec(text: string): Promise<void>;
  rows<T>(text: string): Promise<T[]>;
  copy(table: string, columns: string[], chunks: Iterable<Uint8Array>): Promise<void>;
  /**
   * Empties `table`, drops its secondary indexes, COPYs the chunks, then rebuilds the
   * indexes from their saved definitions (the usual bulk-load order). Returns the copy
   * and index-build times separately.
   */
  copyFresh(
    table: string,
    columns: string[],
    chunks: Iterable<Uint8Array>,
  ): Promise<{ copyMs: number; indexMs: number; indexes: number }>;
  /** Runs statements on one session with bulk-friendly settings (work_mem etc.). */
  session(statements: string[]): Promise<void>;
}

async function secondaryIndexes(
  t: BulkTarget,
  table: string,
): Promise<{ indexname: string; indexdef: string }[]> {
  return t.rows(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = 'public' AND i.tablename = '${table}'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
     ORDER BY i.indexname`,
  );
}

function postgresTarget(client: postgres.Sql, superuser: boolean): BulkTarget {
  const t: BulkTarget = {
    kind: "postgres",
    async exec(text) {
      await client.unsafe(text);
    },
    async rows<T>(text: string) {
      return (await client.unsafe(text)) as unknown as T[];
    },
    async copy(table, columns, chunks) {
      const w = await client.unsafe(`COPY ${table} (${columns.join(", ")}) FROM STDIN`).writable();
      await pipeline(Readable.from(chunks), w);
    },
    async copyFresh(table, columns, chunks) {
      const defs = await secondaryIndexes(t, table);
      const started = performance.now();
      await client.begin(async (tx) => {
        await tx.unsafe("SET LOCAL synchronous_commit = off");
        // Skips the per-row foreign-key trigger (the generator's job ids are valid by
        // construction); only a superuser may. Other users pay the FK check.
        if (superuser) await tx.unsafe("SET LOCAL session_replication_role = replica");
        await tx.unsafe(`TRUNCATE ${table}`);
        for (const d of defs) await tx.unsafe(`DROP INDEX ${d.indexname}`);
        // FREEZE: rows written frozen and pages all-visible (allowed after TRUNCATE in the
        // same transaction), so no VACUUM pass over the whole table afterwards.
        const w = await tx
          .unsafe(`COPY ${table} (${columns.join(", ")}) FROM STDIN WITH (FREEZE)`)
          .writable();
        await pipeline(Readable.from(chunks), w);
      });
      const copyMs = performance.now() - started;
      const reserved = await client.reserve();
      try {
        await reserved.unsafe("SET maintenance_work_mem = '1GB'");
        for (const d of defs) await reserved.unsafe(d.indexdef);
      } finally {
        reserved.release();
      }
      return { copyMs, indexMs: performance.now() - started - copyMs, indexes: defs.length };
    },
    async session(statements) {
      const reserved = await client.reserve();
      try {
        for (const s of statements) await reserved.unsafe(s);
      } finally {
        reserved.release();
      }
    },
  };
  return t;
}

function pgliteTarget(pg: PGlite): BulkTarget {
  const BLOB_BYTES = 16 << 20;
  const copyBlobs = async (table: string, columns: string[], chunks: Iterable<Uint8Array>) => {
    const text = `COPY ${table} (${columns.join(", ")}) FROM '/dev/blob'`;
    let parts: Uint8Array[] = [];
    let size = 0;
    const flush = async () => {
      if (!parts.length) return;
      await pg.query(text, [], { blob: new Blob(parts as Uint8Array<ArrayBuffer>[]) });
      parts = [];
      size = 0;
    };
    for (const c of chunks) {
      parts.push(c);
      size += c.length;
      if (size >= BLOB_BYTES) await flush();
    }
    await flush();
  };
  const t: BulkTarget = {
    kind: "pglite",
    async exec(text) {
      await pg.exec(text);
    },
    async rows<T>(text: string) {
      return (await pg.query<T>(text)).rows;
    },
    copy: copyBlobs,
    async copyFresh(table, columns, chunks) {
      const defs = await secondaryIndexes(t, table);
      const started = performance.now();
      await pg.exec(`TRUNCATE ${table}`);
      for (const d of defs) await pg.exec(`DROP INDEX ${d.indexname}`);
      await copyBlobs(table, columns, chunks);
      const copyMs = performance.now() - started;
      await pg.exec("SET maintenance_work_mem = '256MB'");
      for (const d of defs) await pg.exec(d.indexdef);
      await pg.exec("RESET maintenance_work_mem");
      return { copyMs, indexMs: performance.now() - started - copyMs, indexes: defs.length };
    },
    async session(statements) {
      for (const s of statements) await pg.exec(s);
    },
  };
  return t;
}

// ---------------------------------------------------------------------------------------
// Load

const ALL_TABLES =
  "runs, jobs, run_daily, rollup_dirty, job_schedules, expected_runs, datasets, dataset_updates, tests, test_results, deploys, ingested_events";

/** run_daily for every (job, day) in one statement: the aggregates of src/db/rollup.ts. */
const BUILD_ROLLUP = `INSERT INTO run_daily (job_id, day, runs, successes, failures, running, duration_p50_ms,
    duration_p95_ms, duration_max_ms, duration_total_ms, rows, cpu_seconds, memory_mb_max, cost,
    first_run_at, last_run_at)
  SELECT job_id, (run_at AT TIME ZONE 'UTC')::date AS day,
    count(*)::int,
    count(*) FILTER (WHERE status = 'success')::int,
    count(*) FILTER (WHERE status = 'failed')::int,
    count(*) FILTER (WHERE status = 'running')::int,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
    percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
    max(duration_ms)::float8,
    sum(duration_ms)::float8,
    sum(rows)::bigint,
    sum(cpu_seconds),
    max(memory_mb),
    sum(cost),
    min(run_at),
    max(run_at)
  FROM runs
  GROUP BY 2, 1
  ORDER BY 2, 1`;

interface LoadReport {
  runs: number;
  failed: number;
  running: number;
  runsCopyMs: number;
  runsIndexMs: number;
  runsIndexes: number;
  otherRows: number;
  otherMs: number;
  rollupRows: number;
  rollupMs: number;
  slots: number;
  unmatched: number;
  slotsMs: number;
  analyzeMs: number;
  totalMs: number;
}

async function loadFleet(t: BulkTarget, store: Store, fleet: Fleet, label: string): Promise<LoadReport> {
  const started = performance.now();
  await t.exec(`TRUNCATE ${ALL_TABLES} RESTART IDENTITY CASCADE`);
  await t.copy("jobs", JOB_COLUMNS, jobChunks(fleet));

  const counter = { rows: 0, failed: 0, running: 0 };
  const stop = withProgress(`${label} runs`, counter, fleet.expectedRuns);
  let copy: { copyMs: number; indexMs: number; indexes: number };
  try {
    copy = await t.copyFresh("runs", RUN_COLUMNS, runChunks(fleet, counter));
  } finally {
    stop();
  }
  if (counter.rows !== fleet.expectedRuns) {
    throw new Error(`generator produced ${counter.rows} runs, planned ${fleet.expectedRuns}`);
  }
  note(`${label}: runs copied in ${secs(copy.copyMs)}, indexes rebuilt in ${secs(copy.indexMs)}`);

  const otherStart = performance.now();
  const upd = { rows: 0 };
  const res = { rows: 0 };
  const dep = { rows: 0, failed: 0 };
  await t.copy("datasets", DATASET_COLUMNS, datasetChunks(fleet));
  await t.copy("tests", TEST_COLUMNS, testChunks(fleet));
  await t.copy("dataset_updates", UPDATE_COLUMNS, datasetUpdateChunks(fleet, upd));
  await t.copy("test_results", RESULT_COLUMNS, testResultChunks(fleet, res));
  await t.copy("deploys", DEPLOY_COLUMNS, deployChunks(fleet, dep));
  for (const table of ["jobs", "runs", "datasets", "tests"]) {
    await t.exec(
      `SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT coalesce(max(id), 1) FROM ${table}))`,
    );
  }
  const otherMs = performance.now() - otherStart;
  const otherRows = fleet.jobs.length + fleet.datasets.length * 2 + upd.rows + res.rows + dep.rows;
  note(
    `${label}: ${fmt(upd.rows)} dataset updates, ${fmt(res.rows)} test results, ${fmt(dep.rows)} deploys (${fmt(dep.failed)} failed/rolled back) in ${secs(otherMs)}`,
  );

  const rollupStart = performance.now();
  await t.session([
    t.kind === "postgres" ? "SET work_mem = '1GB'" : "SET work_mem = '256MB'",
    BUILD_ROLLUP,
    "RESET work_mem",
  ]);
  const rollupMs = performance.now() - rollupStart;
  const [rd] = await t.rows<{ n: number }>("SELECT count(*)::int AS n FROM run_daily");
  note(`${label}: run_daily ${fmt(rd!.n)} rows in ${secs(rollupMs)}`);

  const slotStart = performance.now();
  await t.copy("job_schedules", SCHEDULE_COLUMNS, scheduleChunks(fleet));
  const now = new Date(fleet.nowMs);
  const slots = await expandSlots(
    store,
    await loadSchedules(store),
    new Date(now.getTime() - 2 * DAY),
    new Date(now.getTime() + 2 * DAY),
  );
  const [um] = await t.rows<{ n: number }>(
    `SELECT count(*)::int AS n FROM expected_runs WHERE run_id IS NULL AND slot_at < '${now.toISOString()}'`,
  );
  const slotsMs = performance.now() - slotStart;

  const analyzeStart = performance.now();
  // runs was COPYed FROM … FREEZE (PostgreSQL): statistics only. The rest: VACUUM too, so
  // their visibility maps allow index-only scans as they would in a long-lived database.
  await t.exec("ANALYZE runs");
  for (const table of ALL_TABLES.split(", ").filter((x) => x !== "runs"))
    await t.exec(`VACUUM (ANALYZE) ${table}`);
  const analyzeMs = performance.now() - analyzeStart;

  return {
    runs: counter.rows,
    failed: counter.failed,
    running: counter.running,
    runsCopyMs: copy.copyMs,
    runsIndexMs: copy.indexMs,
    runsIndexes: copy.indexes,
    otherRows,
    otherMs,
    rollupRows: rd!.n,
    rollupMs,
    slots,
    unmatched: um!.n,
    slotsMs,
    analyzeMs,
    totalMs: performance.now() - started,
  };
}

function printLoad(label: string, fleet: Fleet, r: LoadReport): void {
  out(
    `${label}: ${fmt(fleet.jobs.length)} jobs (${fmt(fleet.hourlyJobs)} hourly, ${fmt(fleet.jobs.length - fleet.hourlyJobs)} daily), ` +
      `${fmt(fleet.datasets.length)} datasets, ${DAYS} days ending ${new Date(fleet.nowMs).toISOString()}`,
  );
  out(
    `  runs          ${fmt(r.runs)} rows (${((100 * r.failed) / r.runs).toFixed(2)}% failed, ${fmt(r.running)} running)`,
  );
  out(
    `    COPY        ${secs(r.runsCopyMs)}  ${rate(r.runs, r.runsCopyMs)} rows/s (secondary indexes dropped)`,
  );
  out(`    indexes     ${secs(r.runsIndexMs)}  (${r.runsIndexes} secondary indexes rebuilt)`);
  out(
    `    together    ${secs(r.runsCopyMs + r.runsIndexMs)}  ${rate(r.runs, r.runsCopyMs + r.runsIndexMs)} rows/s`,
  );
  out(
    `  other tables  ${fmt(r.otherRows)} rows in ${secs(r.otherMs)}  ${rate(r.otherRows, r.otherMs)} rows/s`,
  );
  out(
    `  run_daily     ${fmt(r.rollupRows)} (job, day) rows in ${secs(r.rollupMs)} (one INSERT … SELECT … GROUP BY)`,
  );
  out(
    `  slots         ${fmt(r.slots)} expected runs (±2 days) in ${secs(r.slotsMs)}; ${fmt(r.unmatched)} past slots unmatched (${fmt(fleet.missedSlots)} planted)`,
  );
  out(`  vacuum/analyze ${secs(r.analyzeMs)}`);
  out(`  total         ${secs(r.totalMs)}`);
}

// ---------------------------------------------------------------------------------------
// Fleet facts read back from the database (so --skip-load works on any loaded database)

interface Facts {
  jobs: { id: number; namespace: string; name: string; group: string | null; environment: string | null }[];
  datasets: { id: number; name: string }[];
  firstDay: string;
  lastDay: string;
  runs: number;
}

async function readFacts(store: Store): Promise<Facts> {
  const jobs = await store.query<Facts["jobs"][number]>(
    sql`SELECT id, namespace, name, group_name AS "group", environment FROM jobs ORDER BY id`,
  );
  const datasets = await store.query<Facts["datasets"][number]>(
    sql`SELECT id, name FROM datasets ORDER BY id`,
  );
  const [span] = await store.query<{ first: string | null; last: string | null }>(
    sql`SELECT min(day)::text AS first, max(day)::text AS last FROM run_daily`,
  );
  const [n] = await store.query<{ n: number }>(
    sql`SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'runs'`,
  );
  if (!jobs.length || !span?.first || !span.last) throw new Error("the database holds no loaded fleet");
  return { jobs, datasets, firstDay: span.first, lastDay: span.last, runs: Number(n?.n ?? 0) };
}

// ---------------------------------------------------------------------------------------
// Ingest measurements

function runLine(
  ext: string,
  job: Facts["jobs"][number],
  status: string,
  started: number,
  ended: number,
): string {
  return `${job.id}\t${ext}\t${status}\t\\N\t${new Date(started).toISOString()}\t${new Date(ended).toISOString()}\t1000\t12.5\t512\t0.0005\t0\t\\N\t${job.environment ?? "\\N"}\t${new Date(ended).toISOString()}\n`;
}

/** COPY of fresh runs into the loaded, fully indexed table (FK checks on): the floor for any ingest path. */
async function copyBaseline(client: postgres.Sql, store: Store, facts: Facts, n: number): Promise<number> {
  const rng = new Rng(7);
  const now = Date.now();
  const [maxId] = await client`SELECT coalesce(max(id), 0)::float8 AS m FROM runs`;
  const before = Number(maxId!["m"]);
  const tag = now.toString(36);
  function* chunks() {
    let parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const job = facts.jobs[rng.int(facts.jobs.length)]!;
      const started = now - rng.int(23 * HOUR) - HOUR;
      const ended = started + 1000 + rng.int(600_000);
      parts.push(runLine(`copy-${tag}-${i}`, job, rng.next() < 0.03 ? "failed" : "success", started, ended));
      if (parts.length >= 5000) {
        yield parts.join("");
        parts = [];
      }
    }
    if (parts.length) yield parts.join("");
  }
  // ids from the sequence, as any writer would get them.
  const cols = RUN_COLUMNS.filter((c) => c !== "id");
  const [, ms] = await timed(async () => {
    const w = await client.unsafe(`COPY runs (${cols.join(", ")}) FROM STDIN`).writable();
    await pipeline(Readable.from(chunks()), w);
  });
  // Untimed: keep the rollup consistent with the runs just added.
  await client.unsafe(`INSERT INTO rollup_dirty (job_id, day)
    SELECT DISTINCT job_id, (run_at AT TIME ZONE 'UTC')::date FROM runs WHERE id > ${before}`);
  await flushAllRollups(store);
  return ms;
}

interface Client {
  post(pathname: string, body: string): Promise<{ status: number; text: string }>;
}

function httpClient(base: string, token: string): Client {
  return {
    async post(pathname, body) {
      const res = await fetch(base + pathname, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      return { status: res.status, text: await res.text() };
    },
  };
}

/**
 * Runs `n` loops that each take the next task index until `total` are done or the time
 * budget is spent (no new task starts after it; running ones finish). Returns tasks done.
 */
async function workers(
  n: number,
  total: number,
  budgetMs: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  const deadline = performance.now() + budgetMs;
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (;;) {
        if (performance.now() > deadline) return;
        const i = next++;
        if (i >= total) return;
        await task(i);
        done++;
      }
    }),
  );
  return done;
}

/** Samples the service process's RSS every 50 ms; stop() returns the peak seen (and VmHWM). */
function rssSampler(pid: number): { stop(): { max: number; hwm: number; samples: number } } {
  let max = procMemory(pid)?.rss ?? 0;
  let samples = 0;
  const timer = setInterval(() => {
    const m = procMemory(pid);
    if (!m) return;
    samples++;
    max = Math.max(max, m.rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      const m = procMemory(pid);
      return { max: Math.max(max, m?.rss ?? 0), hwm: m?.hwm ?? 0, samples };
    },
  };
}

/** Houston as users run it (`npm start`: the build) with ingest tokens, against `url`. */
function startIngestService(url: string, token: string): Promise<Service> {
  return startService(serviceCommand(), { DATABASE_URL: url, HOUSTON_INGEST_TOKENS: token });
}

interface HttpFigures {
  planned: number;
  batches: number;
  events: number;
  runs: number;
  ms: number;
  clients: number;
  /** From the last response until the daily rollup held every run (no rollup mark left). */
  catchupMs: number;
  /** Each batch's request time, and whether its run events declared inputs/outputs. */
  batchMs: { lineage: boolean; ms: number }[];
  /** The service process: RSS before the load, peak RSS sampled during it, VmHWM after. */
  rssBefore: number;
  maxRss: number;
  hwm: number;
  samples: number;
}

/**
 * Batches of 1,000 native run events: 500 one-event runs (finished), 250 starts of new runs
 * and 250 ends of the runs the previous batch started (the first batch sends 250 more
 * one-event runs instead), all for existing jobs, times within the last day.
 */
async function httpBatches(
  client: Client,
  pendingMarks: () => Promise<number>,
  servicePid: number,
  facts: Facts,
  batches: number,
  clients: number,
  budgetMs: number,
  opts: {
    /** Datasets each run event of a job declares (`inputs` and `outputs`); none when absent. */
    lineage?: (job: Facts["jobs"][number]) => { inputs: string[]; outputs: string[] };
    /** Which batches declare them (all when absent). */
    lineageIn?: (b: number) => boolean;
    /** Makes event ids unique when several calls start within one millisecond. */
    tag?: string;
    /**
     * Moves the runs back in time: batch b's `daysBack + b × daysPerBatch` days before the
     * usual times (the last 23 hours).
     */
    daysBack?: number;
    daysPerBatch?: number;
  } = {},
): Promise<HttpFigures> {
  const rng = new Rng(11);
  const planned = Date.now();
  const tag = `${planned.toString(36)}${opts.tag ?? ""}`;
  interface Started {
    job: Facts["jobs"][number];
    runId: string;
    started: number;
  }
  const startedIn: Started[][] = [];
  const plan = (b: number): { body: string; runs: number } => {
    const events: Record<string, unknown>[] = [];
    const now = planned - ((opts.daysBack ?? 0) + b * (opts.daysPerBatch ?? 0)) * DAY;
    const job = () => facts.jobs[rng.int(facts.jobs.length)]!;
    const base = (j: Facts["jobs"][number]) => ({
      type: "run",
      namespace: j.namespace,
      job: j.name,
      ...(j.group ? { group: j.group } : {}),
      ...(j.environment ? { environment: j.environment } : {}),
      ...(opts.lineage && (opts.lineageIn?.(b) ?? true) ? opts.lineage(j) : {}),
    });
    let runs = 0;
    for (let i = 0; i < 500; i++) {
      const j = job();
      const started = now - HOUR - rng.int(22 * HOUR);
      const failed = rng.next() < 0.03;
      events.push({
        ...base(j),
        id: `${tag}-${b}-${i}`,
        run_id: `${tag}-${b}-${i}`,
        status: failed ? "failed" : "success",
        started_at: new Date(started).toISOString(),
        ended_at: new Date(started + 1000 + rng.int(1_800_000)).toISOString(),
        rows: rng.int(1_000_000),
        cpu_seconds: Math.round(rng.range(1, 900) * 100) / 100,
        memory_mb: 256 + rng.int(8000),
        cost: Math.round(rng.range(0, 0.05) * 1e6) / 1e6,
        ...(failed ? { error: "bench: synthetic failure" } : {}),
      });
      runs++;
    }
    const starts: Started[] = [];
    for (let i = 0; i < 250; i++) {
      const j = job();
      const s: Started = { job: j, runId: `${tag}-${b}-s${i}`, started: now - 2 * HOUR - rng.int(20 * HOUR) };
      starts.push(s);
      events.push({
        ...base(j),
        id: `${s.runId}-start`,
        run_id: s.runId,
        status: "running",
        started_at: new Date(s.started).toISOString(),
      });
      runs++;
    }
    startedIn[b] = starts;
    const prev = b > 0 ? startedIn[b - 1] : undefined;
    if (prev) {
      for (const s of prev) {
        events.push({
          ...base(s.job),
          id: `${s.runId}-end`,
          run_id: s.runId,
          status: "success",
          started_at: new Date(s.started).toISOString(),
          ended_at: new Date(s.started + 1000 + rng.int(1_800_000)).toISOString(),
          rows: rng.int(1_000_000),
        });
      }
    } else {
      // The first batch has no earlier starts to end: 250 more one-event runs instead.
      for (let i = 500; i < 750; i++) {
        const j = job();
        const started = now - HOUR - rng.int(22 * HOUR);
        events.push({
          ...base(j),
          id: `${tag}-${b}-${i}`,
          run_id: `${tag}-${b}-${i}`,
          status: "success",
          started_at: new Date(started).toISOString(),
          ended_at: new Date(started + 1000 + rng.int(1_800_000)).toISOString(),
        });
        runs++;
      }
    }
    return { body: JSON.stringify(events), runs };
  };
  // Bodies are planned in order (ends refer to the previous batch's starts), sent by
  // `clients` concurrent loops, so an end may overtake its start: ingest is order-free.
  const bodies: { body: string; runs: number }[] = [];
  const rssBefore = procMemory(servicePid)?.rss ?? 0;
  const sampler = rssSampler(servicePid);
  let events = 0;
  let runs = 0;
  const batchMs: { lineage: boolean; ms: number }[] = [];
  const [done, ms] = await timed(() =>
    workers(clients, batches, budgetMs, async (b) => {
      while (bodies.length <= b) bodies.push(plan(bodies.length));
      const batch = bodies[b]!;
      bodies[b] = { body: "", runs: 0 };
      const sent = performance.now();
      let res = await client.post("/api/v1/events", batch.body);
      // A 503 says "retry after N s" (the store did not answer in time: a loaded machine);
      // event ids make the retry safe, as for any client. Its wait counts in the figures.
      for (let retry = 0; res.status === 503 && retry < 5; retry++) {
        const after = Number(
          (JSON.parse(res.text) as { retry_after_seconds?: number }).retry_after_seconds ?? 1,
        );
        await new Promise((r) => setTimeout(r, Math.min(after, 5) * 1000));
        res = await client.post("/api/v1/events", batch.body);
      }
      if (res.status !== 200) throw new Error(`batch ${b}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
      const r = JSON.parse(res.text) as { accepted: number; duplicates: number };
      events += r.accepted + r.duplicates;
      batchMs.push({
        lineage: opts.lineage !== undefined && (opts.lineageIn?.(b) ?? true),
        ms: performance.now() - sent,
      });
      // A start in one batch and its end in the next are one run, counted with the start.
      runs += batch.runs;
    }),
  );
  // The responses do not wait for the daily rollup (it follows in paced background passes):
  // time how long it trails the last response, so the figure covers the whole ingest.
  const [, catchupMs] = await timed(async () => {
    while ((await pendingMarks()) > 0) await new Promise((r) => setTimeout(r, 20));
  });
  const rss = sampler.stop();
  return {
    planned: batches,
    batches: done,
    events,
    runs,
    ms,
    catchupMs,
    batchMs,
    clients,
    rssBefore,
    maxRss: rss.max,
    hwm: rss.hwm,
    samples: rss.samples,
  };
}

interface LineageIngestFigures {
  /** Per round: mean request time of a batch without and with inputs/outputs (ms). */
  rounds: { without: number; with: number }[];
  /** Mean request time of a batch over all measured rounds (ms), and the batches behind it. */
  without: number;
  with: number;
  batches: number;
  /** Throughput with / without − 1 (the inverse ratio of the mean request times), overall and the median round's. */
  change: number;
  medianChange: number;
  /** From the last response of a round until the rollup and the lineage fold caught up (ms, summed). */
  catchupMs: number;
  /** Rows inserted or updated in lineage_edges (by the fold) during the measured rounds, and the runs that declared edges. */
  edgeWrites: number;
  runsWith: number;
}

/**
 * HTTP batches with and without inputs/outputs on every run event, interleaved within each
 * round (even batches without, odd with), so both meet the machine in the same state: on a
 * shared machine whose load moves by tens of percent from one minute to the next, rounds of
 * one kind after the other measured the load, not the code. Round 0 warms up and is not
 * counted; each round's batches are `daysPerBatch` days apart, on days no earlier round
 * used. Each job reads and writes the same datasets every run, as real jobs do.
 */
async function lineageIngest(
  http: Client,
  client: postgres.Sql,
  servicePid: number,
  facts: Facts,
  o: { rounds: number; batches: number; daysBack: number; daysPerBatch: number },
): Promise<LineageIngestFigures> {
  // "Until current": the daily rollup and the lineage graph (both folded by the rollup flusher).
  const pendingMarks = async () =>
    Number(
      (
        await client`SELECT ((SELECT count(*) FROM rollup_dirty) + (SELECT count(*) FROM lineage_sightings))::int AS n`
      )[0]!["n"],
    );
  const edgeWrites = async () =>
    Number(
      (
        await client`SELECT (n_tup_ins + n_tup_upd)::float8 AS n FROM pg_stat_user_tables WHERE relname = 'lineage_edges'`
      )[0]?.["n"] ?? 0,
    );
  const lineage = (j: Facts["jobs"][number]) => ({
    inputs: [0, 1, 2].map((k) => `bench_ingest/in_${(j.id * 7 + k * 1031) % 4000}`),
    outputs: [`bench_ingest/out_${j.id}`],
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const all = { without: [] as number[], with: [] as number[] };
  const rounds: { without: number; with: number }[] = [];
  let catchupMs = 0;
  let runsWith = 0;
  let writesBefore = 0;
  const span = Math.max(1, 2 * o.batches * o.daysPerBatch);
  // From no edges: round 0 writes every job's, the rounds after rewrite them as their days require.
  await client`DELETE FROM lineage_edges WHERE dataset LIKE 'bench\_ingest/%'`;
  for (let round = 0; round <= o.rounds; round++) {
    if (round === 1) writesBefore = await edgeWrites();
    const h = await httpBatches(http, pendingMarks, servicePid, facts, 2 * o.batches, 4, HTTP_BUDGET_MS, {
      lineage,
      lineageIn: (b) => b % 2 === 1,
      tag: `-lineage-${o.daysBack}-${round}`,
      daysBack: o.daysBack + round * span,
      daysPerBatch: o.daysPerBatch,
    });
    if (round === 0) continue;
    const w = h.batchMs.filter((b) => b.lineage).map((b) => b.ms);
    const wo = h.batchMs.filter((b) => !b.lineage).map((b) => b.ms);
    all.with.push(...w);
    all.without.push(...wo);
    rounds.push({ without: mean(wo), with: mean(w) });
    catchupMs += h.catchupMs;
    runsWith += Math.round((h.runs * w.length) / Math.max(1, h.batchMs.length));
  }
  const changes = rounds.map((r) => r.without / r.with - 1).sort((a, b) => a - b);
  return {
    rounds,
    without: mean(all.without),
    with: mean(all.with),
    batches: all.with.length + all.without.length,
    change: mean(all.without) / mean(all.with) - 1,
    medianChange: changes[Math.floor(changes.length / 2)]!,
    catchupMs,
    edgeWrites: (await edgeWrites()) - writesBefore,
    runsWith,
  };
}

/** One OpenLineage RunEvent per request: START, then COMPLETE of the same run. */
async function lineageEvents(
  client: Client,
  facts: Facts,
  runs: number,
  clients: number,
  budgetMs: number,
): Promise<{ events: number; planned: number; ms: number }> {
  const rng = new Rng(13);
  const now = Date.now();
  const event = (type: string, at: number, runId: string, job: Facts["jobs"][number]) =>
    JSON.stringify({
      eventType: type,
      eventTime: new Date(at).toISOString(),
      producer: "https://github.com/houston/bench",
      schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
      run: { runId },
      job: { namespace: job.namespace, name: job.name },
      inputs: [],
      outputs: [],
    });
  let events = 0;
  const [, ms] = await timed(() =>
    workers(clients, runs, budgetMs, async () => {
      const job = facts.jobs[rng.int(facts.jobs.length)]!;
      const runId = randomUUID();
      const started = now - HOUR - rng.int(22 * HOUR);
      for (const [type, at] of [
        ["START", started],
        ["COMPLETE", started + 1000 + rng.int(1_800_000)],
      ] as const) {
        const res = await client.post("/api/v1/lineage", event(type, at, runId, job));
        if (res.status !== 201)
          throw new Error(`lineage ${type}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
        events++;
      }
    }),
  );
  return { events, planned: runs * 2, ms };
}

/** `houston ingest FILE` as a user runs it: a fresh process, timed end to end. */
async function cliIngest(
  url: string,
  facts: Facts,
  n: number,
): Promise<{ ms: number; line: string; bytes: number } | string> {
  const cli = path.join(ROOT, "src/cli/main.ts");
  if (!existsSync(cli)) return "CLI not present";
  const dir = mkdtempSync(path.join(tmpdir(), "houston-bench-cli-"));
  try {
    const file = path.join(dir, "runs.ndjson");
    const rng = new Rng(17);
    const now = Date.now();
    const tag = `cli-${now.toString(36)}`;
    const ws = createWriteStream(file);
    await pipeline(
      Readable.from(
        (function* () {
          let parts: string[] = [];
          for (let i = 0; i < n; i++) {
            const j = facts.jobs[rng.int(facts.jobs.length)]!;
            const started = now - HOUR - rng.int(22 * HOUR);
            parts.push(
              `${JSON.stringify({
                type: "run",
                id: `${tag}-${i}`,
                namespace: j.namespace,
                job: j.name,
                run_id: `${tag}-${i}`,
                status: rng.next() < 0.03 ? "failed" : "success",
                started_at: new Date(started).toISOString(),
                ended_at: new Date(started + 1000 + rng.int(1_800_000)).toISOString(),
                rows: rng.int(1_000_000),
                environment: j.environment ?? undefined,
              })}\n`,
            );
            if (parts.length >= 2000) {
              yield parts.join("");
              parts = [];
            }
          }
          if (parts.length) yield parts.join("");
        })(),
      ),
      ws,
    );
    const bytes = statSync(file).size;
    const started = performance.now();
    const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", cli, "ingest", file], {
          cwd: ROOT,
          env: { ...process.env, DATABASE_URL: url, HOUSTON_URL: "", HOUSTON_TOKEN: "" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => {
          stdout += d;
        });
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        const timer = setTimeout(() => child.kill("SIGTERM"), CLI_TIMEOUT_MS);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      },
    );
    const ms = performance.now() - started;
    if (ms >= CLI_TIMEOUT_MS) return `stopped after ${secs(CLI_TIMEOUT_MS)} without finishing`;
    if (res.code !== 0) return `failed (exit ${res.code}): ${(res.stderr || res.stdout).trim().slice(-400)}`;
    return { ms, line: res.stdout.trim().split("\n").pop() ?? "", bytes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Query latency

interface QueryFigure {
  name: string;
  plan: string;
  p50: number;
  p99: number;
  max: number;
  targetMs: number;
  targetText: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const dayAdd = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const dayDiff = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY);

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

/** A store whose query() runs EXPLAIN ANALYZE of the statement instead and keeps the plan. */
function explaining(store: Store, sink: { plan?: PlanNode; ms?: number }): Store {
  return {
    ...store,
    async query<T>(q: Parameters<Store["query"]>[0]): Promise<T[]> {
      const rows = await store.query<{ "QUERY PLAN": unknown }>(
        sql`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${q}`,
      );
      const raw = rows[0]!["QUERY PLAN"];
      const parsed = (typeof raw === "string" ? JSON.parse(raw) : raw) as {
        Plan: PlanNode;
        "Execution Time": number;
      }[];
      sink.plan = parsed[0]!.Plan;
      sink.ms = parsed[0]!["Execution Time"];
      return [];
    },
  };
}

/** "Limit > Index Scan runs_job_run_at_idx · 0.05 ms, 4 buffers" (nodes depth-first). */
function planSummary(plan: PlanNode, ms: number): string {
  const names: string[] = [];
  const walk = (n: PlanNode) => {
    const what = n["Index Name"] ?? n["Relation Name"];
    if (!["Result", "Materialize", "Memoize"].includes(n["Node Type"]))
      names.push(what ? `${n["Node Type"]} ${what}` : n["Node Type"]);
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan);
  const buffers = (plan["Shared Hit Blocks"] ?? 0) + (plan["Shared Read Blocks"] ?? 0);
  return `${names.join(" > ")} · ${ms.toFixed(2)} ms, ${fmt(buffers)} buffers`;
}

async function queryLatencies(store: Store, facts: Facts, calls: number): Promise<QueryFigure[]> {
  const rng = new Rng(19);
  const span = dayDiff(facts.firstDay, facts.lastDay);
  const anyJob = () => facts.jobs[rng.int(facts.jobs.length)]!;
  const anyDay = () => dayAdd(facts.firstDay, rng.int(span + 1));
  const anyTime = () => Date.parse(`${facts.firstDay}T00:00:00Z`) + rng.next() * (span + 1) * DAY;
  const now = () => new Date();
  const specs: {
    name: string;
    targetMs: number;
    targetText: string;
    call: (s: Store) => Promise<unknown>;
  }[] = [
    { name: "latestRun", targetMs: 5, targetText: "p99 ≤ 5 ms", call: (s) => latestRun(s, anyJob().id) },
    {
      name: "runsInWindow (24 h)",
      targetMs: 5,
      targetText: "p99 ≤ 5 ms",
      call: (s) => {
        const from = anyTime();
        return runsInWindow(s, anyJob().id, new Date(from), new Date(from + DAY));
      },
    },
    {
      name: "latestDatasetUpdate",
      targetMs: 5,
      targetText: "p99 ≤ 5 ms",
      call: (s) => latestDatasetUpdate(s, facts.datasets[rng.int(facts.datasets.length)]!.id),
    },
    {
      name: "failedDeploys (7 d)",
      targetMs: 5,
      targetText: "p99 ≤ 5 ms",
      call: (s) => {
        const from = anyTime();
        return failedDeploys(s, new Date(from), new Date(from + 7 * DAY));
      },
    },
    {
      name: "jobDailySeries (30 d)",
      targetMs: 5,
      targetText: "p99 ≤ 5 ms",
      call: (s) => {
        const to = anyDay();
        return jobDailySeries(s, anyJob().id, dayAdd(to, -29), to);
      },
    },
    {
      name: "fleetDayStats",
      targetMs: 50,
      targetText: "p99 ≤ 50 ms",
      call: (s) => fleetDayStats(s, anyDay()),
    },
    {
      name: "missingRuns (last 1–48 h)",
      targetMs: 1,
      targetText: "p50 ~1 ms",
      call: (s) => {
        const n = now();
        return missingRuns(s, n, new Date(n.getTime() - (1 + rng.int(48)) * HOUR));
      },
    },
    { name: "findJobs", targetMs: 5, targetText: "p99 ≤ 5 ms", call: (s) => findJobs(s, anyJob().name) },
    {
      name: "findDatasets",
      targetMs: 5,
      targetText: "p99 ≤ 5 ms",
      call: (s) => findDatasets(s, facts.datasets[rng.int(facts.datasets.length)]!.name),
    },
  ];
  const figures: QueryFigure[] = [];
  for (const spec of specs) {
    for (let i = 0; i < 50; i++) await spec.call(store); // warm: caches, prepared statements
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await spec.call(store);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const sink: { plan?: PlanNode; ms?: number } = {};
    await spec.call(explaining(store, sink));
    figures.push({
      name: spec.name,
      plan: sink.plan ? planSummary(sink.plan, sink.ms ?? 0) : "(no plan)",
      p50: percentile(times, 0.5),
      p99: percentile(times, 0.99),
      max: times[times.length - 1]!,
      targetMs: spec.targetMs,
      targetText: spec.targetText,
    });
  }
  return figures;
}

function printQueries(label: string, figures: QueryFigure[]): void {
  out(
    `  ${"query".padEnd(28)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"max ms".padStart(9)}   target`,
  );
  for (const f of figures) {
    const ok = f.targetText.startsWith("p50")
      ? f.p50 <= f.targetMs * 1.5
        ? "ok"
        : "over"
      : f.p99 <= f.targetMs
        ? "ok"
        : "MISSED";
    out(
      `  ${f.name.padEnd(28)}${f.p50.toFixed(2).padStart(9)}${f.p99.toFixed(2).padStart(9)}${f.max.toFixed(2).padStart(9)}   ${f.targetText} (${ok})`,
    );
    record(
      `${label} ${f.name}`,
      `p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms`,
      `${f.targetText}: ${ok}`,
    );
  }
  out("  plans (EXPLAIN ANALYZE of one more call each):");
  for (const f of figures) out(`    ${f.name}: ${f.plan}`);
}

// ---------------------------------------------------------------------------------------
// Main

async function ensureDatabase(url: string): Promise<boolean> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`unsupported database name ${name}`);
  const adminUrl = new URL(url);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
  try {
    const [row] = await admin`SELECT 1 AS x FROM pg_database WHERE datname = ${name}`;
    if (row) return false;
    await admin.unsafe(`CREATE DATABASE ${name}`);
    return true;
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const benchStart = performance.now();
  const created = await ensureDatabase(o.db);
  const client = postgres(o.db, { max: 4, onnotice: () => {} });
  // 2, not 1: Store.migrate() holds one connection for its advisory lock while migrating on another.
  const store = await openStore({ databaseUrl: o.db, maxConnections: 2 });
  try {
    await store.migrate();
    const [info] = await client`SELECT version() AS v, current_setting('shared_buffers') AS sb,
      current_setting('work_mem') AS wm, current_database() AS db,
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su`;
    const dbName = String(info!["db"]);
    out("Houston benchmark");
    out(
      `  ${String(info!["v"]).split(" on ")[0]} (shared_buffers ${info!["sb"]}, work_mem ${info!["wm"]}), database ${dbName}${created ? " (created)" : ""}`,
    );
    out(
      `  Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "?"}), ${mb(totalmem())} RAM; all on one machine`,
    );
    out(
      `  load average at start ${loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")} (other work on the machine shows up here)`,
    );
    out(
      `  options: --runs ${fmt(o.runs)} --jobs ${fmt(o.jobs)} --pglite-runs ${fmt(o.pgliteRuns)}${o.skipPglite ? " --skip-pglite" : ""}${o.skipLoad ? " --skip-load" : ""} --seed ${o.seed}`,
    );
    out();

    // 1. Load
    out("1. Bulk load (PostgreSQL)");
    if (o.skipLoad) {
      out("  skipped (--skip-load): reusing the fleet already in the database");
    } else {
      const [has] = await client`SELECT EXISTS (SELECT 1 FROM jobs) AS x`;
      if (has!["x"] && !dbName.includes("bench")) {
        throw new Error(
          `database ${dbName} already holds data and its name does not contain "bench": refusing to truncate it. ` +
            "Point --db at a scratch database, or use --skip-load.",
        );
      }
      const fleet = planFleet({
        jobs: o.jobs,
        runs: o.runs,
        days: DAYS,
        now: new Date(Math.floor(Date.now() / 1000) * 1000),
        seed: o.seed,
      });
      const report = await loadFleet(postgresTarget(client, info!["su"] === true), store, fleet, "postgres");
      printLoad("  fleet", fleet, report);
      record(
        `bulk load ${fmt(report.runs)} runs (COPY + indexes)`,
        `${secs(report.runsCopyMs + report.runsIndexMs)}, ${rate(report.runs, report.runsCopyMs + report.runsIndexMs)} rows/s`,
      );
      record("whole load incl. rollup, slots, analyze", secs(report.totalMs));
    }
    const facts = await readFacts(store);
    const [size] = await client`SELECT pg_size_pretty(pg_database_size(current_database())) AS s,
      pg_size_pretty(pg_total_relation_size('runs')) AS r`;
    out(
      `  database size ${size!["s"]} (runs with indexes ${size!["r"]}); ${fmt(facts.runs)} runs, days ${facts.firstDay} … ${facts.lastDay}`,
    );
    out();
    if (o.loadOnly) {
      out("--load-only: the fleet is loaded; nothing measured.");
      return;
    }

    // 2. Raw COPY baseline
    let copyRate: number | undefined;
    if (o.steps.has("copy")) {
      out("2. Raw COPY baseline: 100,000 new runs into the loaded, indexed runs table");
      const copyN = 100_000;
      const copyMs = await copyBaseline(client, store, facts, copyN);
      copyRate = copyN / (copyMs / 1000);
      out(`  ${fmt(copyN)} rows in ${secs(copyMs)}: ${fmt(copyRate)} rows/s (all indexes and FK checks on)`);
      record("raw COPY into indexed runs", `${fmt(copyRate)} rows/s`);
      out();
    }
    const ofCopy = (r: number) =>
      copyRate ? `${((100 * r) / copyRate).toFixed(1)}% of COPY` : "COPY not measured";

    // 3 + 4. The real app over HTTP
    const token = `bench-${randomUUID()}`;
    // The service runs as its own process (dist/src/main.js, as `npm start` runs it), so its
    // memory is measured alone, without this process's generator and HTTP client.
    const service =
      o.steps.has("http") || o.steps.has("lineage") || o.steps.has("lineage-graph")
        ? await startIngestService(o.db, token)
        : undefined;
    try {
      const http = service ? httpClient(service.base, token) : undefined;
      if (service && http && o.steps.has("http")) {
        out(`3. HTTP batch ingest: POST /api/v1/events, ${o.httpBatches} batches × 1,000 native run events`);
        const pendingMarks = async () =>
          Number((await client`SELECT count(*)::int AS n FROM rollup_dirty`)[0]!["n"]);
        const h = await httpBatches(http, pendingMarks, service.pid, facts, o.httpBatches, 4, HTTP_BUDGET_MS);
        const httpRate = h.runs / (h.ms / 1000);
        const sustained = h.runs / ((h.ms + h.catchupMs) / 1000);
        if (h.batches < h.planned) {
          out(`  time budget (${secs(HTTP_BUDGET_MS)}) spent: ${h.batches} of ${h.planned} batches sent`);
        }
        out(
          `  ${fmt(h.events)} events = ${fmt(h.runs)} runs (one-event runs + start/end pairs) in ${secs(h.ms)} with ${h.clients} concurrent clients`,
        );
        out(
          `  ${fmt(h.events / (h.ms / 1000))} events/s, ${fmt(httpRate)} runs/s, ${(h.ms / h.batches).toFixed(0)} ms per batch on average`,
        );
        out(
          `  daily rollup current ${secs(h.catchupMs)} after the last response: ${fmt(sustained)} runs/s including it (${ofCopy(sustained)})`,
        );
        out(`  HTTP/COPY: ${ofCopy(httpRate)} (rows/s)`);
        out(
          `  service RSS (dist/src/main.js in its own process, pid ${service.pid}): ${mb(h.rssBefore)} before the load, ` +
            `peak ${mb(h.maxRss)} during it (${fmt(h.samples)} samples of /proc VmRSS, every 50 ms), VmHWM ${mb(h.hwm)}; target ≤ 250 MB while ingesting (${h.hwm <= 250 * 1024 * 1024 ? "ok" : "MISSED"})`,
        );
        record("HTTP /api/v1/events, 1,000-event batches", `${fmt(httpRate)} runs/s (${ofCopy(httpRate)})`);
        record("  … until the daily rollup is current", `${fmt(sustained)} runs/s (+${secs(h.catchupMs)})`);
        record(
          "service RSS during HTTP ingest (own process)",
          `peak ${mb(h.maxRss)}, VmHWM ${mb(h.hwm)}`,
          `≤ 250 MB: ${h.hwm <= 250 * 1024 * 1024 ? "ok" : "MISSED"}`,
        );
        out();
      }

      if (http && o.steps.has("lineage")) {
        out("4. OpenLineage: POST /api/v1/lineage, one event per request (START then COMPLETE)");
        const l = await lineageEvents(http, facts, Math.ceil(o.lineageEvents / 2), 4, LINEAGE_BUDGET_MS);
        if (l.events < l.planned) {
          out(
            `  time budget (${secs(LINEAGE_BUDGET_MS)}) spent: ${fmt(l.events)} of ${fmt(l.planned)} events sent`,
          );
        }
        out(
          `  ${fmt(l.events)} events in ${secs(l.ms)} with 4 concurrent clients: ${fmt(l.events / (l.ms / 1000))} events/s`,
        );
        record("OpenLineage, one event per request", `${fmt(l.events / (l.ms / 1000))} events/s`);
        out();
      }

      if (service && http && o.steps.has("lineage-graph")) {
        out(
          "4b. Ingest with lineage: HTTP batches as in 3, those with 3 inputs and 1 output on every run event interleaved with those without",
        );
        const scenarios = [
          {
            name: "a day per round",
            text:
              "each round 50 batches (25 with lineage: 25,000 runs, a day of this fleet's) on the day before the last round's," +
              " so each job's edges are rewritten about once a day, as in production",
            daysPerBatch: 0,
            target: true,
          },
          {
            name: "worst case",
            text:
              "each batch a day before the last, the batches with lineage two days apart: every run is over a day from" +
              " its job's earlier runs and rewrites all its edges",
            daysPerBatch: 1,
            target: false,
          },
        ];
        let offset = 1;
        for (const sc of scenarios) {
          out(`  ${sc.name}: ${sc.text}`);
          const r = await lineageIngest(http, client, service.pid, facts, {
            rounds: 6,
            batches: 25,
            daysBack: offset,
            daysPerBatch: sc.daysPerBatch,
          });
          offset += 7 * Math.max(1, 2 * 25 * sc.daysPerBatch);
          for (const [i, x] of r.rounds.entries())
            out(
              `    round ${i + 1}: a batch takes ${x.without.toFixed(0)} ms without, ${x.with.toFixed(0)} ms with`,
            );
          const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
          const within = r.change >= -0.1;
          out(
            `    overall (${fmt(r.batches)} batches): ${r.without.toFixed(0)} ms without, ${r.with.toFixed(0)} ms with: ` +
              `throughput ${pct(r.change)} with lineage, median round ${pct(r.medianChange)}; ` +
              `rollup and lineage fold caught up ${secs(r.catchupMs)} after the rounds' last responses (summed); ` +
              `${fmt(r.edgeWrites)} edge rows written for ${fmt(r.runsWith)} runs with lineage` +
              (sc.target ? ` (target: within 10 %: ${within ? "ok" : "MISSED"})` : ""),
          );
          record(
            `HTTP ingest with inputs/outputs, ${sc.name}`,
            `${pct(r.change)} throughput (median round ${pct(r.medianChange)}): a batch ${r.with.toFixed(0)} vs ${r.without.toFixed(0)} ms`,
            sc.target ? `within 10 %: ${within ? "ok" : "MISSED"}` : "",
          );
        }
        out();
      }
    } finally {
      const code = await service?.stop();
      if (service && code !== 0) out(`  (the service exited with code ${code} on SIGTERM)`);
    }

    // 5. houston ingest
    if (o.steps.has("cli")) {
      out(`5. houston ingest FILE (NDJSON, ${fmt(o.cliEvents)} run events, local store via DATABASE_URL)`);
      const c = await cliIngest(o.db, facts, o.cliEvents);
      if (typeof c === "string") {
        out(`  houston ingest: not measured (${c})`);
        record("houston ingest", `not measured (${c})`);
      } else {
        const r = o.cliEvents / (c.ms / 1000);
        out(
          `  ${mb(c.bytes)} file, ${secs(c.ms)} wall clock for the whole command (start-up, validation pass, writes)`,
        );
        out(`  ${fmt(r)} runs/s end to end; the CLI's own report: ${c.line}`);
        record(`houston ingest (${fmt(o.cliEvents)} NDJSON runs, end to end)`, `${fmt(r)} runs/s`);
      }
      out();
    }

    // 6. Query latency
    if (o.steps.has("queries")) {
      out(
        "6. Query latency on PostgreSQL: 500 calls each, random jobs/datasets/days, after 50 warm-up calls",
      );
      const pgQueries = await queryLatencies(store, await readFacts(store), 500);
      printQueries("postgres", pgQueries);
      out();
    }

    // 6b. Lineage graph
    if (o.steps.has("lineage-graph")) {
      out(
        "6b. Lineage graph: 50,000 job → dataset edges over the fleet's jobs; walks to depth 5, 500 calls each",
      );
      const f = await readFacts(store);
      const graph = await seedLineageGraph(
        store,
        f.jobs.map((j) => j.id),
        50_000,
      );
      out(
        `  ${fmt(graph.edges)} edges (${fmt(graph.reads)} reads, ${fmt(graph.writes)} writes) in namespace ${BENCH_LINEAGE_NAMESPACE}, written in ${secs(graph.ms)}`,
      );
      const names = new Map(f.jobs.map((j) => [j.id, { namespace: j.namespace, name: j.name }]));
      out(
        `  ${"walk".padEnd(36)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"max ms".padStart(9)}  nodes/walk   target`,
      );
      for (const w of await walkLatencies(store, graph, names, 500)) {
        const ok = w.p99 <= 25 ? "ok" : "MISSED";
        out(
          `  ${w.name.padEnd(36)}${w.p50.toFixed(2).padStart(9)}${w.p99.toFixed(2).padStart(9)}${w.max.toFixed(2).padStart(9)}  ${w.meanNodes.toFixed(1).padStart(9)}   p99 ≤ 25 ms (${ok})`,
        );
        record(
          `lineage ${w.name}`,
          `p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms`,
          `p99 ≤ 25 ms: ${ok}`,
        );
      }
      out();
    }

    // 7. Monitors
    if (o.steps.has("monitors")) {
      out(
        `7. Monitor evaluation: ${o.monitorInstants} passes (evaluate + incidents + reminders, as the minute tick runs them)`,
      );
      const m = await monitorBench(store, o.monitorInstants);
      for (const line of monitorLines(m)) out(`  ${line}`);
      record(
        "monitor pass (5,000 jobs, 2,000 dataset SLAs)",
        `p50 ${m.p50.toFixed(0)} ms, p99 ${m.p99.toFixed(0)} ms (first ${m.first.totalMs.toFixed(0)} ms)`,
        `p99 ≤ 1,000 ms: ${m.p99 <= 1000 ? "ok" : "MISSED"}`,
      );
      record(
        "monitor memory (live heap after GC)",
        `${mb(m.heapAfterFirst)} after pass 1 → ${mb(m.heapAfter)} after ${m.rest.length + 1}`,
        "flat",
      );
      out();
    }

    // 7b. Digests: each in its own process (its peak RSS is the digest's, not the bench's).
    if (o.steps.has("digests")) {
      out("7b. Digests (SLA, anomalies, resources) for the last full day, chart included");
      for (const d of await digestBenchmark(o.db)) {
        const worst = Math.max(...d.ms);
        record(
          `digest ${d.report} (computed + rendered + PNG)`,
          `cold ${d.ms[0]} ms, warm ${Math.min(...d.ms.slice(1))} ms, peak RSS ${d.hwmMb} MB`,
          `≤ 2,000 ms, ≤ 300 MB: ${worst <= 2000 && d.hwmMb <= 300 ? "ok" : "MISSED"}`,
        );
      }
      out();
    }
  } finally {
    await store.close();
    await client.end({ timeout: 5 });
  }

  // 7c. Digests sent by the service itself: it copies the store (CREATE DATABASE … TEMPLATE
  // needs every other connection to it closed, hence here, after the store is closed).
  if (o.steps.has("digests")) {
    const svc = await serviceDigestBenchmark(o.db);
    record(
      "service RSS sending the three digests",
      `${Math.round(svc.idleMb)} MB after start, peak ${Math.round(svc.peakMb)} MB`,
      `≤ 300 MB: ${svc.peakMb <= 300 ? "ok" : "MISSED"}`,
    );
    out();
  }

  // 8. PGlite
  if (o.skipPglite || !o.steps.has("pglite")) out("8. PGlite: skipped");
  else {
    const jobs = o.pgliteJobs ?? Math.max(10, Math.round((o.jobs * o.pgliteRuns) / o.runs));
    out(`8. PGlite (file-backed, temp dir): ${fmt(o.pgliteRuns)} runs, ${fmt(jobs)} jobs`);
    const dir = mkdtempSync(path.join(tmpdir(), "houston-bench-pglite-"));
    const store = await openStore({ dataDir: dir });
    try {
      await store.migrate();
      const pg = (store.orm as unknown as { $client: PGlite }).$client;
      const fleet = planFleet({
        jobs,
        runs: o.pgliteRuns,
        days: DAYS,
        now: new Date(Math.floor(Date.now() / 1000) * 1000),
        seed: o.seed,
      });
      const report = await loadFleet(pgliteTarget(pg), store, fleet, "pglite");
      printLoad("  fleet", fleet, report);
      record(
        `PGlite load ${fmt(report.runs)} runs (COPY /dev/blob + indexes)`,
        `${secs(report.runsCopyMs + report.runsIndexMs)}, ${rate(report.runs, report.runsCopyMs + report.runsIndexMs)} rows/s`,
      );
      out("  query latency: 500 calls each after 50 warm-up calls");
      printQueries("pglite", await queryLatencies(store, await readFacts(store), 500));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    out();
  }

  out(
    `Summary (total ${secs(performance.now() - benchStart)}; load average at end ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")})`,
  );
  const w0 = Math.max(...summary.map((s) => s[0].length));
  const w1 = Math.max(...summary.map((s) => s[1].length));
  out(`  ${"".padEnd(w0, "-")}  ${"".padEnd(w1, "-")}  ------`);
  for (const [a, b, c] of summary) out(`  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
