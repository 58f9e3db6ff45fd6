// A deterministic, realistic fleet for the benchmark, streamed as COPY text (tab-separated,
// \N for NULL) so 10M runs load in bounded memory. Same options (seed, sizes, `now`) →
// the same rows: all randomness comes from one seeded PRNG consumed in a fixed order.
//
// Shape: jobs in ~200 groups and 3 environments (a pipeline deployed in prod, sometimes
// also in staging/dev, so one job name can exist in several namespaces); hourly and daily
// schedules mixed so the run count comes out exactly as asked; per-job lognormal durations;
// ~3% failures concentrated on a minority of jobs and clustered in streaks; rows, CPU,
// memory and cost per run; a few jobs missing their latest slots (missed runs); datasets
// updated daily with occasional schema changes, one data test per dataset, deploys with
// some failed or rolled back. Everything spans `days` days ending at `now`.
import { schemaFingerprint } from "../src/ingest/apply.ts";

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** sfc32: small, fast, good enough for synthetic data; seeded through splitmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.next();
  }
  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** Standard normal (Box–Muller, the second value kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
  /** Lognormal with the given median and log-sd. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
}

const DOMAINS = [
  "orders",
  "billing",
  "payments",
  "customers",
  "marketing",
  "inventory",
  "shipping",
  "fraud",
  "search",
  "ads",
  "growth",
  "finance",
  "people",
  "support",
  "product",
  "analytics",
  "risk",
  "pricing",
  "catalog",
  "logistics",
];
const FLAVOURS = [
  "daily",
  "hourly",
  "core",
  "ingest",
  "reporting",
  "ml",
  "sync",
  "export",
  "quality",
  "staging",
];
const VERBS = [
  "load",
  "transform",
  "export",
  "sync",
  "aggregate",
  "score",
  "dedupe",
  "snapshot",
  "validate",
  "publish",
  "enrich",
  "compact",
];
const NOUNS = [
  "orders",
  "events",
  "users",
  "sessions",
  "invoices",
  "payments",
  "clicks",
  "products",
  "accounts",
  "ledgers",
  "shipments",
  "features",
  "metrics",
  "reviews",
  "tickets",
];
const TOOLS = ["dbt", "airflow", "spark", "cron", "flink", "dagster"];
const ERRORS = [
  "OperationalError: could not connect to server: Connection timed out",
  "java.lang.OutOfMemoryError: Java heap space",
  "Database Error in model: relation does not exist",
  "S3 AccessDenied: Access Denied (Service: Amazon S3; Status Code: 403)",
  "upstream dataset not ready after 3 retries",
  "Killed (exit 137): container exceeded memory limit",
  "duplicate key value violates unique constraint",
  "SnowflakeError 250001: Could not connect to Snowflake backend",
  "TimeoutError: task exceeded 3600s",
  "ValueError: schema mismatch on column 'amount' (expected DECIMAL, got STRING)",
];
const FIELD_TYPES = ["bigint", "text", "timestamp", "decimal(18,2)", "boolean", "date", "double"];

export interface JobPlan {
  id: number;
  namespace: string;
  name: string;
  group: string;
  environment: string;
  tool: string;
  owner: string;
  hourly: boolean;
  minute: number;
  /** UTC hour of a daily job's slot. */
  hour: number;
  graceSeconds: number;
  bornMs: number;
  medianMs: number;
  sigma: number;
  /** Probability of entering a failure streak on a run. */
  failEnter: number;
  rowsBase: number;
  cpuFactor: number;
  memBase: number;
  /** Slots with outFrom ≤ slot < outTo produce no run (missed runs). */
  outFrom: number;
  outTo: number;
}

export interface DatasetPlan {
  id: number;
  namespace: string;
  name: string;
  environment: string;
  offsetMs: number;
  rowsBase: number;
  rowWidth: number;
  schemaV1: string;
  schemaV2: string;
  fpV1: string;
  fpV2: string;
  /** Day index from which schema v2 applies (Infinity: never). */
  changeDay: number;
  testId: number;
}

export interface FleetOptions {
  jobs: number;
  runs: number;
  days: number;
  now: Date;
  seed: number;
}

export interface Fleet {
  opts: FleetOptions;
  t0: number;
  nowMs: number;
  jobs: JobPlan[];
  datasets: DatasetPlan[];
  hourlyJobs: number;
  /** Slots deliberately left without a run (all within the last two days). */
  missedSlots: number;
  expectedRuns: number;
}

function schemaOf(rng: Rng, n: number): { name: string; type: string }[] {
  const fields = [{ name: "id", type: "bigint" }];
  for (let i = 1; i < n; i++)
    fields.push({ name: `${rng.pick(NOUNS).slice(0, -1)}_${i}`, type: rng.pick(FIELD_TYPES) });
  return fields;
}

/** Plans jobs and datasets so that exactly `opts.runs` runs fall in the span. */
export function planFleet(opts: FleetOptions): Fleet {
  const { jobs: J, runs: N, days: D } = opts;
  if (J < 1 || N < 1 || D < 3) throw new Error("need at least 1 job, 1 run and 3 days");
  const rng = new Rng(opts.seed);
  const nowMs = opts.now.getTime();
  const t0 = nowMs - D * DAY;

  // Jobs: pipelines (group.verb_noun) deployed in prod, some also in staging and dev.
  const groupCount = Math.max(1, Math.min(DOMAINS.length * FLAVOURS.length, Math.ceil(J / 25)));
  const groups: { name: string; domain: string; tool: string }[] = [];
  for (let g = 0; g < groupCount; g++) {
    const domain = DOMAINS[g % DOMAINS.length]!;
    const flavour = FLAVOURS[Math.floor(g / DOMAINS.length) % FLAVOURS.length]!;
    groups.push({ name: `${domain}_${flavour}`, domain, tool: rng.pick(TOOLS) });
  }
  const jobs: JobPlan[] = [];
  const usedNames = new Set<string>();
  while (jobs.length < J) {
    const g = groups[rng.int(groups.length)]!;
    let base = `${g.name}.${rng.pick(VERBS)}_${rng.pick(NOUNS)}`;
    for (let k = 2; usedNames.has(base); k++) base = `${g.name}.${rng.pick(VERBS)}_${rng.pick(NOUNS)}_${k}`;
    usedNames.add(base);
    const envs = ["prod"];
    if (rng.next() < 0.25) envs.push("staging");
    if (rng.next() < 0.08) envs.push("dev");
    for (const env of envs) {
      if (jobs.length >= J) break;
      jobs.push({
        id: jobs.length + 1,
        namespace: `${g.tool}-${env}`,
        name: base,
        group: g.name,
        environment: env,
        tool: g.tool,
        owner: `team-${g.domain}`,
        hourly: false,
        minute: rng.int(60),
        hour: rng.int(24),
        graceSeconds: 1800,
        bornMs: t0,
        medianMs: 0,
        sigma: rng.range(0.1, 0.6),
        failEnter: 0,
        rowsBase: Math.max(1, Math.round(Math.min(5e8, rng.lognormal(50_000, 2)))),
        cpuFactor: rng.range(0.3, 6),
        memBase: 2 ** rng.range(7, 14),
        outFrom: 0,
        outTo: 0,
      });
    }
  }

  // Missed runs: ~1% of jobs lose 1–4 slots within their last day.
  const order = jobs.map((j) => j.id - 1);
  for (let i = order.length - 1; i > 0; i--) {
    const k = rng.int(i + 1);
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  const outageCount = J >= 20 ? Math.max(1, Math.round(J * 0.01)) : 0;
  const outage = new Set(order.slice(0, outageCount));

  // Hourly jobs: enough that capacity covers N; births (jobs created later than the span
  // start) then remove exactly the surplus. Outage jobs are daily or hourly like any other.
  // Half the outage jobs are hourly (they miss several slots), half daily (they miss one).
  const perDay = N / D;
  const hourlyStart = Math.floor(outageCount / 2);
  let H = Math.min(J - hourlyStart, Math.max(0, Math.ceil((perDay - J) / 23)));
  const hourlySet = new Set(order.slice(hourlyStart, hourlyStart + H));
  const outageSlots = (j: number) => (hourlySet.has(j) ? 1 + (j % 4) : 1);
  let missed = 0;
  let capacity = 0;
  const recount = () => {
    missed = 0;
    for (const j of outage) missed += outageSlots(j);
    capacity = D * (24 * hourlySet.size + (J - hourlySet.size));
  };
  recount();
  while (capacity - missed < N && hourlyStart + H < J) {
    hourlySet.add(order[hourlyStart + H]!);
    H++;
    recount();
  }
  if (capacity - missed < N) throw new Error(`${J} jobs over ${D} days cannot make ${N} runs; raise --jobs`);
  let surplus = capacity - missed - N;
  const bornCandidates = order.filter((j) => !hourlySet.has(j) && !outage.has(j));
  const maxBirth = D - 3;
  const per = Math.max(1, Math.floor(D / 2));
  let bi = 0;
  while (surplus > 0) {
    const j = bornCandidates[bi++];
    if (j === undefined) throw new Error(`${J} jobs are too many for ${N} runs over ${D} days; lower --jobs`);
    const b = Math.min(maxBirth, per, surplus);
    jobs[j]!.bornMs = t0 + b * DAY;
    surplus -= b;
  }

  for (const job of jobs) {
    const j = job.id - 1;
    job.hourly = hourlySet.has(j);
    job.graceSeconds = job.hourly ? 600 : 1800;
    job.medianMs = job.hourly
      ? Math.min(25 * MIN, Math.max(3000, rng.lognormal(90_000, 1.0)))
      : Math.min(6 * HOUR, Math.max(5000, rng.lognormal(300_000, 1.3)));
    const u = rng.next();
    const f = u < 0.65 ? 0.003 : u < 0.85 ? 0.02 : u < 0.95 ? 0.08 : 0.3;
    job.failEnter = (0.5 * f) / (1 - f);
    if (outage.has(j)) {
      const period = job.hourly ? HOUR : DAY;
      const phase = job.hourly ? job.minute * MIN : job.hour * HOUR + job.minute * MIN;
      let last = Math.floor((nowMs - phase) / period) * period + phase;
      if (last >= nowMs) last -= period;
      const skip = job.hourly ? 2 : 0;
      const m = outageSlots(j);
      job.outTo = last - skip * period + 1;
      job.outFrom = last - (skip + m - 1) * period;
    }
  }

  // Datasets: ~0.4 per job, named after the producing pipeline, one namespace per env.
  const datasetCount = Math.max(1, Math.round(J * 0.4));
  const datasets: DatasetPlan[] = [];
  const seen = new Set<string>();
  for (let i = 0; datasets.length < datasetCount && i < J * 4; i++) {
    const job = jobs[Math.floor(((i * 2654435761) >>> 0) % J)]!;
    const namespace = `warehouse-${job.environment}`;
    const name = `analytics.${job.name.replace(".", "__")}`;
    if (seen.has(`${namespace}\u001f${name}`)) continue;
    seen.add(`${namespace}\u001f${name}`);
    const v1 = schemaOf(rng, 4 + rng.int(8));
    const v2 = [...v1, { name: "added_col", type: rng.pick(FIELD_TYPES) }];
    datasets.push({
      id: datasets.length + 1,
      namespace,
      name,
      environment: job.environment,
      offsetMs: job.hour * HOUR + rng.int(60) * MIN,
      rowsBase: Math.max(10, Math.round(rng.lognormal(1_000_000, 1.5))),
      rowWidth: 50 + rng.int(400),
      schemaV1: JSON.stringify(v1),
      schemaV2: JSON.stringify(v2),
      fpV1: schemaFingerprint(v1)!,
      fpV2: schemaFingerprint(v2)!,
      changeDay: rng.next() < 0.2 ? 1 + rng.int(D - 1) : Number.POSITIVE_INFINITY,
      testId: datasets.length + 1,
    });
  }

  return {
    opts,
    t0,
    nowMs,
    jobs,
    datasets,
    hourlyJobs: hourlySet.size,
    missedSlots: missed,
    expectedRuns: N,
  };
}

// ---------------------------------------------------------------------------------------
// COPY text

const NULL = "\\N";

/** Escapes a text value for COPY's text format. */
function txt(s: string | null | undefined): string {
  if (s === null || s === undefined) return NULL;
  return /[\\\t\n\r]/.test(s)
    ? s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r")
    : s;
}

const P2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const P3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const hourPrefix = new Map<number, string>();

/** toISOString for whole milliseconds, ~5× faster: the "YYYY-MM-DDTHH:" part is cached per hour. */
function iso(ms: number): string {
  const hour = Math.floor(ms / HOUR);
  let prefix = hourPrefix.get(hour);
  if (prefix === undefined) {
    if (hourPrefix.size > 4096) hourPrefix.clear();
    prefix = new Date(hour * HOUR).toISOString().slice(0, 14);
    hourPrefix.set(hour, prefix);
  }
  const r = ms - hour * HOUR;
  return `${prefix}${P2[Math.floor(r / MIN)]}:${P2[Math.floor((r % MIN) / 1000)]}.${P3[r % 1000]}Z`;
}
const D2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
// Fixed-point text from integers: String(double) costs ~0.5 µs, three of those a row add up.
const fixed1 = (x: number) => {
  const n = Math.round(x * 10);
  return `${Math.floor(n / 10)}.${n % 10}`;
};
const fixed2 = (x: number) => {
  const n = Math.round(x * 100);
  return `${Math.floor(n / 100)}.${D2[n % 100]}`;
};
const fixed6 = (x: number) => {
  const n = Math.round(x * 1e6);
  return `${Math.floor(n / 1e6)}.${P3[Math.floor(n / 1000) % 1000]}${P3[n % 1000]}`;
};

const CHUNK = 1 << 20;
const MAX_LINE = 64 << 10;

/**
 * Packs lines into ~1 MB Buffers (latin1: every generated value is ASCII): far fewer
 * writes than one per row, and no huge string joins for the garbage collector.
 */
class Chunker {
  private buf = Buffer.allocUnsafe(CHUNK + MAX_LINE);
  private off = 0;
  push(line: string): Buffer | undefined {
    if (line.length > MAX_LINE) throw new Error("line too long for a COPY chunk");
    this.off += this.buf.write(line, this.off, "latin1");
    if (this.off < CHUNK) return undefined;
    return this.take();
  }
  take(): Buffer | undefined {
    if (this.off === 0) return undefined;
    const out = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(CHUNK + MAX_LINE);
    this.off = 0;
    return out;
  }
}

export const JOB_COLUMNS = ["id", "namespace", "name", "tool", "group_name", "environment", "owner"];

export function* jobChunks(fleet: Fleet): Generator<Buffer> {
  const c = new Chunker();
  for (const j of fleet.jobs) {
    const out = c.push(
      `${j.id}\t${txt(j.namespace)}\t${txt(j.name)}\t${j.tool}\t${txt(j.group)}\t${j.environment}\t${j.owner}\n`,
    );
    if (out) yield out;
  }
  const rest = c.take();
  if (rest) yield rest;
}

export const SCHEDULE_COLUMNS = ["job_id", "cron", "timezone", "grace_seconds", "source"];

export function cronOf(j: JobPlan): string {
  return j.hourly ? `${j.minute} * * * *` : `${j.minute} ${j.hour} * * *`;
}

export function* scheduleChunks(fleet: Fleet): Generator<Buffer> {
  const c = new Chunker();
  for (const j of fleet.jobs) {
    const out = c.push(`${j.id}\t${cronOf(j)}\tUTC\t${j.graceSeconds}\tbench\n`);
    if (out) yield out;
  }
  const rest = c.take();
  if (rest) yield rest;
}

/** runs columns as generated: never run_at / duration_ms (generated columns). */
export const RUN_COLUMNS = [
  "id",
  "job_id",
  "external_id",
  "status",
  "scheduled_for",
  "started_at",
  "ended_at",
  "rows",
  "cpu_seconds",
  "memory_mb",
  "cost",
  "exit_code",
  "error",
  "environment",
  "status_at",
];

export interface RunCounter {
  rows: number;
  failed: number;
  running: number;
}

/**
 * Every run of the fleet in time order (hour by hour, as they would have arrived), ids
 * from 1. `counter` is updated as rows are produced.
 */
export function* runChunks(fleet: Fleet, counter: RunCounter): Generator<Buffer> {
  const rng = new Rng(fleet.opts.seed ^ 0x0badf00d);
  const { t0, nowMs, jobs } = fleet;
  const hourly = jobs.filter((j) => j.hourly);
  const dailyByHour: JobPlan[][] = Array.from({ length: 24 }, () => []);
  for (const j of jobs) if (!j.hourly) dailyByHour[j.hour]!.push(j);
  const broken = new Uint8Array(jobs.length + 1);
  const c = new Chunker();
  let id = 0;

  const emit = (j: JobPlan, slot: number): Buffer | undefined => {
    if (slot < t0 || slot >= nowMs || slot < j.bornMs || (slot >= j.outFrom && slot < j.outTo))
      return undefined;
    id++;
    counter.rows++;
    const ext = `s${(slot / 1000).toString(36)}`;
    const env = j.environment;
    if (rng.next() < 0.002) {
      // Skipped by the scheduler: no start, no end.
      return c.push(
        `${id}\t${j.id}\t${ext}\tskipped\t${iso(slot)}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t${env}\t${iso(slot)}\n`,
      );
    }
    const delay = Math.min(j.hourly ? 300_000 : 1_800_000, rng.lognormal(j.hourly ? 15_000 : 30_000, 0.9));
    const started = Math.round(slot + delay);
    // Failures come in streaks: a broken job keeps failing until it recovers (p = 0.5 a run).
    if (broken[j.id]) {
      if (rng.next() < 0.5) broken[j.id] = 0;
    } else if (rng.next() < j.failEnter) broken[j.id] = 1;
    const status = broken[j.id] ? "failed" : rng.next() < 0.003 ? "cancelled" : "success";
    let duration = Math.min(20 * HOUR, rng.lognormal(j.medianMs, j.sigma));
    if (status === "failed") duration *= rng.range(0.05, 1);
    else if (status === "cancelled") duration *= rng.range(0.1, 0.8);
    duration = Math.max(200, Math.round(duration));
    const ended = started + duration;
    if (ended >= nowMs) {
      counter.running++;
      return c.push(
        `${id}\t${j.id}\t${ext}\trunning\t${iso(slot)}\t${iso(started)}\t\\N\t\\N\t\\N\t${fixed1(j.memBase)}\t\\N\t\\N\t\\N\t${env}\t${iso(started)}\n`,
      );
    }
    const cpuSeconds = (duration / 1000) * j.cpuFactor * rng.range(0.8, 1.2);
    const cpu = fixed2(cpuSeconds);
    const mem = fixed1(j.memBase * Math.exp(0.1 * rng.normal()));
    const cost = fixed6(cpuSeconds * 0.000045);
    let rows = "\\N";
    let exit = "0";
    let error = "\\N";
    if (status === "success") rows = String(Math.round(j.rowsBase * Math.exp(0.25 * rng.normal())));
    else if (status === "failed") {
      counter.failed++;
      const e = rng.int(ERRORS.length);
      error = txt(ERRORS[e]!);
      exit = e === 5 ? "137" : "1";
    } else exit = "130";
    return c.push(
      `${id}\t${j.id}\t${ext}\t${status}\t${iso(slot)}\t${iso(started)}\t${iso(ended)}\t${rows}\t${cpu}\t${mem}\t${cost}\t${exit}\t${error}\t${env}\t${iso(ended)}\n`,
    );
  };

  for (let h = Math.floor(t0 / HOUR) * HOUR; h < nowMs; h += HOUR) {
    for (const j of hourly) {
      const out = emit(j, h + j.minute * MIN);
      if (out) yield out;
    }
    for (const j of dailyByHour[Math.floor(h / HOUR) % 24]!) {
      const out = emit(j, h + j.minute * MIN);
      if (out) yield out;
    }
  }
  const rest = c.take();
  if (rest) yield rest;
}

export const DATASET_COLUMNS = ["id", "namespace", "name", "supplier", "owner"];

export function* datasetChunks(fleet: Fleet): Generator<Buffer> {
  const c = new Chunker();
  for (const d of fleet.datasets) {
    const out = c.push(`${d.id}\t${txt(d.namespace)}\t${txt(d.name)}\t\\N\tteam-data\n`);
    if (out) yield out;
  }
  const rest = c.take();
  if (rest) yield rest;
}

export const TEST_COLUMNS = ["id", "key", "name", "dataset_id", "job_id"];

/** Same identity as the ingest path: name, dataset (namespace␟name) and job joined by ␞. */
export function* testChunks(fleet: Fleet): Generator<Buffer> {
  const c = new Chunker();
  for (const d of fleet.datasets) {
    const name = `not_null_${d.name.split(".").pop()}_id`;
    const key = [name, `${d.namespace}\u001f${d.name}`, ""].join("\u001e");
    const out = c.push(`${d.testId}\t${txt(key)}\t${txt(name)}\t${d.id}\t\\N\n`);
    if (out) yield out;
  }
  const rest = c.take();
  if (rest) yield rest;
}

export const UPDATE_COLUMNS = [
  "dataset_id",
  "updated_at",
  "rows",
  "bytes",
  "schema_fingerprint",
  "schema_fields",
  "schema_changed",
];
export const RESULT_COLUMNS = ["test_id", "status", "environment", "value", "at"];

/** One update per dataset per day (and its test result), in time order. */
export function* datasetUpdateChunks(fleet: Fleet, counter: { rows: number }): Generator<Buffer> {
  const rng = new Rng(fleet.opts.seed ^ 0x00da7a5e);
  const c = new Chunker();
  const days = fleet.opts.days;
  const day0 = Math.floor(fleet.t0 / DAY) * DAY;
  for (let d = 0; d <= days; d++) {
    for (const ds of fleet.datasets) {
      const at = day0 + d * DAY + ds.offsetMs + rng.int(20 * MIN);
      if (at < fleet.t0 || at >= fleet.nowMs) continue;
      const v2 = d >= ds.changeDay;
      const rows = Math.round(ds.rowsBase * (1 + d / 1000) * Math.exp(0.05 * rng.normal()));
      counter.rows++;
      const out = c.push(
        `${ds.id}\t${iso(at)}\t${rows}\t${rows * ds.rowWidth}\t${v2 ? ds.fpV2 : ds.fpV1}\t${v2 ? ds.schemaV2 : ds.schemaV1}\t${d === ds.changeDay ? "t" : "f"}\n`,
      );
      if (out) yield out;
    }
  }
  const rest = c.take();
  if (rest) yield rest;
}

export function* testResultChunks(fleet: Fleet, counter: { rows: number }): Generator<Buffer> {
  const rng = new Rng(fleet.opts.seed ^ 0x7e57);
  const c = new Chunker();
  const days = fleet.opts.days;
  const day0 = Math.floor(fleet.t0 / DAY) * DAY;
  for (let d = 0; d <= days; d++) {
    for (const ds of fleet.datasets) {
      const at = day0 + d * DAY + ds.offsetMs + 25 * MIN + rng.int(10 * MIN);
      if (at < fleet.t0 || at >= fleet.nowMs) continue;
      const u = rng.next();
      const status = u < 0.97 ? "pass" : u < 0.985 ? "warn" : u < 0.997 ? "fail" : "error";
      counter.rows++;
      const out = c.push(
        `${ds.testId}\t${status}\t${ds.environment}\t${status === "pass" ? 0 : 1 + rng.int(500)}\t${iso(at)}\n`,
      );
      if (out) yield out;
    }
  }
  const rest = c.take();
  if (rest) yield rest;
}

export const DEPLOY_COLUMNS = [
  "artifact",
  "kind",
  "version",
  "environment",
  "status",
  "at",
  "project",
  "tickets",
];
const KINDS = ["pipeline", "pipeline", "pipeline", "model", "model", "dashboard", "code", "code", "schema"];

/** ~15 deploys a day per 5,000 jobs; ~4% failed and ~2% rolled back. */
export function* deployChunks(fleet: Fleet, counter: { rows: number; failed: number }): Generator<Buffer> {
  const rng = new Rng(fleet.opts.seed ^ 0xde9101);
  const c = new Chunker();
  const rate = Math.max(1, (15 * fleet.jobs.length) / 5000);
  const versions = new Map<string, number>();
  for (let day = fleet.t0; day < fleet.nowMs; day += DAY) {
    const n = Math.floor(rate) + (rng.next() < rate % 1 ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const at = day + rng.int(DAY);
      if (at >= fleet.nowMs) continue;
      const job = fleet.jobs[rng.int(fleet.jobs.length)]!;
      const artifact = job.name;
      const v = (versions.get(artifact) ?? 0) + 1;
      versions.set(artifact, v);
      const u = rng.next();
      const status = u < 0.04 ? "failed" : u < 0.06 ? "rolled_back" : "success";
      if (status !== "success") counter.failed++;
      counter.rows++;
      const tickets = rng.next() < 0.3 ? `{DATA-${1000 + rng.int(9000)}}` : "{}";
      const out = c.push(
        `${txt(artifact)}\t${rng.pick(KINDS)}\tv1.${Math.floor(v / 10)}.${v % 10}\t${rng.next() < 0.7 ? "prod" : "staging"}\t${status}\t${iso(at)}\t${txt(job.group)}\t${tickets}\n`,
      );
      if (out) yield out;
    }
  }
  const rest = c.take();
  if (rest) yield rest;
}
