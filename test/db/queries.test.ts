import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import type { Store } from "../../src/db/client.ts";
import {
  failedDeploys,
  findDatasets,
  findJobs,
  fleetDayStats,
  jobDailySeries,
  latestDatasetUpdate,
  latestRun,
  missingRuns,
  type RunRecord,
  runsInWindow,
} from "../../src/db/queries.ts";
import { flushAllRollups } from "../../src/db/rollup.ts";
import { upsertSchedules } from "../../src/db/schedules.ts";
import { ts } from "../../src/db/sql.ts";
import { Ingestor, schemaFingerprint } from "../../src/ingest/apply.ts";
import type { HoustonEvent, RunEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, TEST_DATABASE_URL, type TestStore } from "../helpers/store.ts";

const NOW = new Date("2026-03-10T12:00:00Z");
const t = (iso: string) => new Date(`2026-03-${iso}Z`);

function run(
  namespace: string,
  job: string,
  runId: string,
  status: RunEvent["status"],
  startedAt: string,
  endedAt?: string,
  extra: Partial<RunEvent> = {},
): RunEvent {
  const ev: RunEvent = {
    type: "run",
    namespace,
    job,
    runId,
    status,
    startedAt: t(startedAt),
    eventTime: t(endedAt ?? startedAt),
    ...extra,
  };
  if (endedAt) ev.endedAt = t(endedAt);
  return ev;
}

const FIELDS_V1 = [
  { name: "id", type: "int" },
  { name: "amount", type: "numeric" },
];
const FIELDS_V2 = [...FIELDS_V1, { name: "currency", type: "text" }];

/** The hand-made fleet every assertion below is computed from. */
function events(): HoustonEvent[] {
  const prod = { group: "orders", environment: "prod" };
  const out: HoustonEvent[] = [
    run("prod", "orders_load", "o1", "success", "08T02:00:00", "08T02:10:00", {
      ...prod,
      rows: 100,
      scheduledFor: t("08T02:00:00"),
    }),
    run("prod", "orders_load", "o2", "failed", "08T03:00:00", "08T03:05:00", {
      ...prod,
      error: "boom",
      exitCode: 1,
    }),
    run("prod", "orders_load", "o3", "success", "09T02:00:00", "09T02:20:00", {
      ...prod,
      rows: 300,
      cpuSeconds: 100,
      memoryMb: 2048,
      cost: 0.5,
      scheduledFor: t("09T02:00:00"),
    }),
    run("prod", "orders_load", "o4", "success", "09T14:00:00", "09T14:01:00", { ...prod, rows: 10 }),
    run("prod", "orders_load", "o5", "running", "10T02:00:30", undefined, {
      ...prod,
      scheduledFor: t("10T02:00:00"),
    }),
    run("staging", "orders_load", "s1", "success", "09T01:00:00", "09T01:01:30", {
      group: "orders",
      environment: "staging",
    }),
    run("prod", "billing_export", "b1", "success", "09T05:00:00", "09T06:00:00", {
      scheduledFor: t("09T05:00:00"),
    }),
    run("prod", "billing_export", "b2", "failed", "09T06:00:00", "09T06:30:00", { error: "disk full" }),
  ];
  for (const h of ["05", "06", "07", "08", "09", "11"]) {
    out.push(
      run("prod", "events_hourly", `h${h}`, "success", `10T${h}:00:05`, `10T${h}:01:05`, {
        scheduledFor: t(`10T${h}:00:00`),
      }),
    );
  }
  [10, 20, 30, 40].forEach((s, i) => {
    out.push(run("prod", `tiny_${i + 1}`, "x", "success", "09T10:00:00", `09T10:00:${s}`));
  });
  const ds = (namespace: string, at: string, rows: number, schema: typeof FIELDS_V1, runId?: string) =>
    ({
      type: "dataset",
      namespace,
      dataset: "analytics.orders",
      updatedAt: t(at),
      rows,
      bytes: rows * 16,
      schema,
      ...(runId ? { runId } : {}),
    }) as HoustonEvent;
  out.push(
    ds("warehouse", "08T03:00:00", 100, FIELDS_V1),
    ds("warehouse", "09T03:00:00", 150, FIELDS_V1),
    ds("warehouse", "10T03:00:00", 160, FIELDS_V2, "o5"),
    ds("staging-warehouse", "09T04:00:00", 5, FIELDS_V1),
  );
  const deploy = (artifact: string, status: string, at: string, extra: Record<string, unknown> = {}) =>
    ({
      type: "deploy",
      artifact,
      kind: "pipeline",
      status,
      at: t(at),
      tickets: [],
      ...extra,
    }) as HoustonEvent;
  out.push(
    deploy("orders_pipeline", "success", "08T09:00:00"),
    deploy("billing_model", "failed", "09T10:00:00", {
      kind: "model",
      version: "v2",
      environment: "prod",
      project: "finance",
      tickets: ["FIN-1"],
    }),
    deploy("orders_pipeline", "rolled_back", "09T12:00:00", { version: "v7" }),
    deploy("orders_pipeline", "failed", "01T00:00:00"),
    deploy("orders_pipeline", "success", "09T13:00:00"),
  );
  return out;
}

async function load(store: Store): Promise<void> {
  await upsertSchedules(
    store,
    "config",
    [
      { namespace: "prod", job: "orders_load", cron: "0 2 * * *", timezone: "UTC", graceSeconds: 3600 },
      { namespace: "prod", job: "billing_export", cron: "0 5 * * *", timezone: "UTC", graceSeconds: 1800 },
      { namespace: "prod", job: "events_hourly", cron: "0 * * * *", timezone: "UTC", graceSeconds: 300 },
    ],
    NOW,
  );
  await new Ingestor(store).apply(events());
}

async function jobId(store: Store, namespace: string, name: string): Promise<number> {
  const [row] = await store.query<{ id: number }>(
    sql`SELECT id FROM jobs WHERE namespace = ${namespace} AND name = ${name}`,
  );
  assert.ok(row, `job ${namespace}/${name}`);
  return row.id;
}

function withoutId(r: RunRecord | null | undefined) {
  assert.ok(r);
  assert.ok(Number.isInteger(r.id) && r.id > 0);
  const { id: _id, jobId: _job, ...rest } = r;
  return rest;
}

const emptyRun = {
  scheduledFor: null,
  rows: null,
  cpuSeconds: null,
  memoryMb: null,
  cost: null,
  exitCode: null,
  error: null,
  environment: null,
};

describeEachStore("core read queries", (kind) => {
  let store: TestStore;
  let ordersProd: number;
  let ordersStaging: number;
  let billing: number;
  before(async () => {
    store = await openTestStore(kind);
    await load(store);
    ordersProd = await jobId(store, "prod", "orders_load");
    ordersStaging = await jobId(store, "staging", "orders_load");
    billing = await jobId(store, "prod", "billing_export");
  });
  after(async () => {
    await store.dispose();
  });

  it("latestRun: the newest run by run_at, still running; null for a job without runs", async () => {
    assert.deepEqual(withoutId(await latestRun(store, ordersProd)), {
      ...emptyRun,
      externalId: "o5",
      status: "running",
      scheduledFor: t("10T02:00:00"),
      startedAt: t("10T02:00:30"),
      endedAt: null,
      runAt: t("10T02:00:30"),
      durationMs: null,
      environment: "prod",
    });
    const b = await latestRun(store, billing);
    assert.equal(b?.jobId, billing);
    assert.deepEqual(withoutId(b), {
      ...emptyRun,
      externalId: "b2",
      status: "failed",
      startedAt: t("09T06:00:00"),
      endedAt: t("09T06:30:00"),
      runAt: t("09T06:00:00"),
      durationMs: 1_800_000,
      error: "disk full",
    });
    assert.equal(await latestRun(store, 999_999), null);
  });

  it("runsInWindow: [from, to), newest first, limited", async () => {
    const all = await runsInWindow(store, ordersProd, t("08T00:00:00"), t("09T12:00:00"));
    assert.deepEqual(
      all.map((r) => [r.externalId, r.status, r.durationMs, r.rows]),
      [
        ["o3", "success", 1_200_000, 300],
        ["o2", "failed", 300_000, null],
        ["o1", "success", 600_000, 100],
      ],
    );
    assert.deepEqual(withoutId(all[0]), {
      externalId: "o3",
      status: "success",
      scheduledFor: t("09T02:00:00"),
      startedAt: t("09T02:00:00"),
      endedAt: t("09T02:20:00"),
      runAt: t("09T02:00:00"),
      durationMs: 1_200_000,
      rows: 300,
      cpuSeconds: 100,
      memoryMb: 2048,
      cost: 0.5,
      exitCode: null,
      error: null,
      environment: "prod",
    });
    assert.equal(all[1]?.error, "boom");
    assert.equal(all[1]?.exitCode, 1);
    const limited = await runsInWindow(store, ordersProd, t("08T00:00:00"), t("09T12:00:00"), 2);
    assert.deepEqual(
      limited.map((r) => r.externalId),
      ["o3", "o2"],
    );
    // from is inclusive, to exclusive.
    const edge = await runsInWindow(store, ordersProd, t("08T02:00:00"), t("09T02:00:00"));
    assert.deepEqual(
      edge.map((r) => r.externalId),
      ["o2", "o1"],
    );
    assert.deepEqual(await runsInWindow(store, ordersStaging, t("01T00:00:00"), t("05T00:00:00")), []);
  });

  it("latestDatasetUpdate: the newest update with rows, fingerprint, schema change and age", async () => {
    const u = await latestDatasetUpdate(store, (await dsId(store, "warehouse"))!, NOW);
    assert.ok(u && u.id > 0);
    const { id: _id, datasetId: _ds, ...rest } = u;
    assert.deepEqual(rest, {
      updatedAt: t("10T03:00:00"),
      ageMs: 9 * 3_600_000,
      rows: 160,
      bytes: 2560,
      schemaFingerprint: schemaFingerprint(FIELDS_V2),
      schemaChanged: true,
      runExternalId: "o5",
      runId: null,
    });
    const staging = await latestDatasetUpdate(store, (await dsId(store, "staging-warehouse"))!, NOW);
    assert.equal(staging?.rows, 5);
    assert.equal(staging?.schemaChanged, false);
    assert.equal(staging?.schemaFingerprint, schemaFingerprint(FIELDS_V1));
    assert.equal(staging?.ageMs, 32 * 3_600_000);
    assert.equal(await latestDatasetUpdate(store, 999_999, NOW), null);
  });

  it("failedDeploys: failed and rolled back in [from, to), newest first", async () => {
    const week = await failedDeploys(store, t("05T00:00:00"), t("11T00:00:00"));
    assert.deepEqual(
      week.map(({ id, ...d }) => {
        assert.ok(id > 0);
        return d;
      }),
      [
        {
          artifact: "orders_pipeline",
          kind: "pipeline",
          version: "v7",
          environment: null,
          status: "rolled_back",
          at: t("09T12:00:00"),
          project: null,
          tickets: [],
        },
        {
          artifact: "billing_model",
          kind: "model",
          version: "v2",
          environment: "prod",
          status: "failed",
          at: t("09T10:00:00"),
          project: "finance",
          tickets: ["FIN-1"],
        },
      ],
    );
    const edges = await failedDeploys(store, t("01T00:00:00"), t("09T12:00:00"));
    assert.deepEqual(
      edges.map((d) => [d.artifact, d.status, d.at]),
      [
        ["billing_model", "failed", t("09T10:00:00")],
        ["orders_pipeline", "failed", t("01T00:00:00")],
      ],
    );
    assert.equal((await failedDeploys(store, t("05T00:00:00"), t("11T00:00:00"), 1)).length, 1);
  });

  it("fleetDayStats: one day of the fleet from the rollup", async () => {
    const s = await fleetDayStats(store, "2026-03-09");
    const { jobMedianDurationP95Ms, slowest, ...rest } = s;
    assert.deepEqual(rest, {
      day: "2026-03-09",
      jobsRan: 7,
      runs: 9,
      successes: 8,
      failures: 1,
      running: 0,
      durationTotalMs: 6_850_000,
      rows: 310,
      cpuSeconds: 100,
      cost: 0.5,
      jobMedianDurationP50Ms: 40_000,
    });
    // Job medians sorted: 10s 20s 30s 40s 90s 630s 2700s; p95 sits 0.7 of the way from 630s to 2700s.
    assert.ok(Math.abs(jobMedianDurationP95Ms! - 2_079_000) < 1e-6, String(jobMedianDurationP95Ms));
    const prodTiny = async (n: number) => jobId(store, "prod", `tiny_${n}`);
    assert.deepEqual(slowest, [
      {
        jobId: billing,
        namespace: "prod",
        name: "billing_export",
        durationMaxMs: 3_600_000,
        durationP50Ms: 2_700_000,
        runs: 2,
      },
      {
        jobId: ordersProd,
        namespace: "prod",
        name: "orders_load",
        durationMaxMs: 1_200_000,
        durationP50Ms: 630_000,
        runs: 2,
      },
      {
        jobId: ordersStaging,
        namespace: "staging",
        name: "orders_load",
        durationMaxMs: 90_000,
        durationP50Ms: 90_000,
        runs: 1,
      },
      {
        jobId: await prodTiny(4),
        namespace: "prod",
        name: "tiny_4",
        durationMaxMs: 40_000,
        durationP50Ms: 40_000,
        runs: 1,
      },
      {
        jobId: await prodTiny(3),
        namespace: "prod",
        name: "tiny_3",
        durationMaxMs: 30_000,
        durationP50Ms: 30_000,
        runs: 1,
      },
    ]);
    assert.deepEqual(await fleetDayStats(store, "2026-01-01"), {
      day: "2026-01-01",
      jobsRan: 0,
      runs: 0,
      successes: 0,
      failures: 0,
      running: 0,
      durationTotalMs: 0,
      rows: 0,
      cpuSeconds: 0,
      cost: 0,
      jobMedianDurationP50Ms: null,
      jobMedianDurationP95Ms: null,
      slowest: [],
    });
    await assert.rejects(fleetDayStats(store, "2026-3-9"), RangeError);
  });

  it("jobDailySeries: every day of the range, gaps as zero", async () => {
    const empty = {
      successes: 0,
      failures: 0,
      running: 0,
      durationP50Ms: null,
      durationP95Ms: null,
      durationMaxMs: null,
      durationTotalMs: null,
      rows: null,
      cpuSeconds: null,
      memoryMbMax: null,
      cost: null,
      firstRunAt: null,
      lastRunAt: null,
    };
    const series = await jobDailySeries(store, ordersProd, "2026-03-07", "2026-03-10");
    const p95 = series.map((d) => d.durationP95Ms);
    assert.ok(Math.abs(p95[1]! - 585_000) < 1e-6 && Math.abs(p95[2]! - 1_143_000) < 1e-6, String(p95));
    assert.deepEqual(
      series.map((d) => ({ ...d, durationP95Ms: null })),
      [
        { ...empty, day: "2026-03-07", runs: 0 },
        {
          ...empty,
          day: "2026-03-08",
          runs: 2,
          successes: 1,
          failures: 1,
          durationP50Ms: 450_000,
          durationMaxMs: 600_000,
          durationTotalMs: 900_000,
          rows: 100,
          firstRunAt: t("08T02:00:00"),
          lastRunAt: t("08T03:00:00"),
        },
        {
          ...empty,
          day: "2026-03-09",
          runs: 2,
          successes: 2,
          durationP50Ms: 630_000,
          durationMaxMs: 1_200_000,
          durationTotalMs: 1_260_000,
          rows: 310,
          cpuSeconds: 100,
          memoryMbMax: 2048,
          cost: 0.5,
          firstRunAt: t("09T02:00:00"),
          lastRunAt: t("09T14:00:00"),
        },
        {
          ...empty,
          day: "2026-03-10",
          runs: 1,
          running: 1,
          firstRunAt: t("10T02:00:30"),
          lastRunAt: t("10T02:00:30"),
        },
      ],
    );
    assert.deepEqual(
      (await jobDailySeries(store, billing, "2026-03-09", "2026-03-09")).map((d) => [
        d.day,
        d.runs,
        d.failures,
      ]),
      [["2026-03-09", 2, 1]],
    );
    assert.deepEqual(await jobDailySeries(store, billing, "2026-03-10", "2026-03-09"), []);
    await assert.rejects(jobDailySeries(store, billing, "yesterday", "2026-03-09"), RangeError);
  });

  it("missingRuns: unmatched slots due in [since, now], oldest due first", async () => {
    const hourly = await jobId(store, "prod", "events_hourly");
    assert.deepEqual(await missingRuns(store, NOW, t("10T05:00:00")), [
      {
        jobId: billing,
        namespace: "prod",
        name: "billing_export",
        slotAt: t("10T05:00:00"),
        dueAt: t("10T05:30:00"),
      },
      {
        jobId: hourly,
        namespace: "prod",
        name: "events_hourly",
        slotAt: t("10T10:00:00"),
        dueAt: t("10T10:05:00"),
      },
    ]);
    // now is inclusive: a slot due exactly at now is already missing.
    assert.deepEqual(
      (await missingRuns(store, t("10T10:05:00"), t("10T05:30:00"))).map((m) => m.name),
      ["billing_export", "events_hourly"],
    );
    assert.deepEqual(
      (await missingRuns(store, t("10T10:04:59"), t("10T05:30:01"))).map((m) => m.name),
      [],
    );
    assert.equal((await missingRuns(store, NOW, t("10T05:00:00"), 1)).length, 1);
  });

  it("findJobs / findDatasets: exact name, every namespace", async () => {
    assert.deepEqual(await findJobs(store, "orders_load"), [
      { id: ordersProd, namespace: "prod", name: "orders_load" },
      { id: ordersStaging, namespace: "staging", name: "orders_load" },
    ]);
    assert.deepEqual(await findJobs(store, "billing_export"), [
      { id: billing, namespace: "prod", name: "billing_export" },
    ]);
    assert.deepEqual(await findJobs(store, "orders"), []);
    const ds = await findDatasets(store, "analytics.orders");
    assert.deepEqual(
      ds.map((d) => [d.namespace, d.name]),
      [
        ["staging-warehouse", "analytics.orders"],
        ["warehouse", "analytics.orders"],
      ],
    );
    assert.deepEqual(
      ds.map((d) => d.id),
      [await dsId(store, "staging-warehouse"), await dsId(store, "warehouse")],
    );
    assert.deepEqual(await findDatasets(store, "ANALYTICS.ORDERS"), []);
  });
});

async function dsId(store: Store, namespace: string): Promise<number | undefined> {
  const [row] = await store.query<{ id: number }>(
    sql`SELECT id FROM datasets WHERE namespace = ${namespace} AND name = 'analytics.orders'`,
  );
  return row?.id;
}

// ---------------------------------------------------------------------------------------
// Plans: on PostgreSQL with realistic statistics, each query uses its intended index.

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** A store whose query() answers the plan of the statement instead of running it. */
function explaining(store: Store, plans: PlanNode[]): Store {
  return {
    ...store,
    async query<T>(q: Parameters<Store["query"]>[0]): Promise<T[]> {
      const rows = await store.query<{ "QUERY PLAN": unknown }>(sql`EXPLAIN (FORMAT JSON) ${q}`);
      const raw = rows[0]!["QUERY PLAN"];
      const parsed = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
      plans.push(parsed[0]!.Plan);
      return [];
    },
  };
}

const INDEX_SCANS = new Set(["Index Scan", "Index Only Scan", "Bitmap Index Scan"]);

describe("core read queries: index use (postgres)", { skip: !TEST_DATABASE_URL }, () => {
  let store: TestStore;
  const now = new Date("2026-03-10T12:00:00Z");
  before(async () => {
    store = await openTestStore("postgres");
    // 1,000 jobs (500 names, each in two namespaces), 20,000 runs over 20 days, 1,000
    // datasets with 20 updates each, 5,000 deploys (7% not successful), 48 hourly slots
    // per job (1% unmatched), and the rollup built by the real flusher.
    await store.query(sql`INSERT INTO jobs (namespace, name, group_name, environment)
      SELECT 'ns' || (i % 2), 'job_' || (i / 2), 'g' || (i % 40), 'prod' FROM generate_series(0, 999) i`);
    await store.query(sql`INSERT INTO runs (job_id, external_id, status, scheduled_for, started_at, ended_at,
        rows, error, status_at)
      SELECT 1 + g % 1000, 'r' || g, CASE WHEN g % 37 = 0 THEN 'failed' ELSE 'success' END,
        s, s + interval '5 seconds', s + (30 + g % 600) * interval '1 second', g % 1000,
        CASE WHEN g % 37 = 0 THEN 'boom' END, s + interval '10 minutes'
      FROM generate_series(0, 19999) g
      CROSS JOIN LATERAL (SELECT ${ts(now)} - (g / 1000 + 1) * interval '1 day'
        + (g % 1440) * interval '1 minute' AS s) t`);
    await store.query(sql`INSERT INTO rollup_dirty (job_id, day)
      SELECT DISTINCT job_id, (run_at AT TIME ZONE 'UTC')::date FROM runs`);
    await flushAllRollups(store);
    await store.query(sql`INSERT INTO datasets (namespace, name)
      SELECT 'wh' || (i % 2), 'ds_' || (i / 2) FROM generate_series(0, 999) i`);
    await store.query(sql`INSERT INTO dataset_updates (dataset_id, updated_at, rows, schema_fingerprint)
      SELECT d.id, ${ts(now)} - k * interval '1 day', k * 10, 'fp'
      FROM datasets d CROSS JOIN generate_series(1, 20) k`);
    await store.query(sql`INSERT INTO deploys (artifact, kind, status, at)
      SELECT 'a' || (i % 300), 'pipeline',
        CASE WHEN i % 20 = 0 THEN 'failed' WHEN i % 50 = 1 THEN 'rolled_back' ELSE 'success' END,
        ${ts(now)} - i * interval '2 hours'
      FROM generate_series(0, 4999) i`);
    await store.query(sql`INSERT INTO expected_runs (job_id, slot_at, opens_at, closes_at, due_at, run_id)
      SELECT j.id, s, s - interval '2 minutes', s + interval '58 minutes', s + interval '10 minutes',
        CASE WHEN (j.id + k) % 100 = 0 THEN NULL ELSE 1 END
      FROM jobs j CROSS JOIN generate_series(-24, 23) k
      CROSS JOIN LATERAL (SELECT date_trunc('hour', ${ts(now)}) + k * interval '1 hour' AS s) t`);
    await store.query(sql`ANALYZE`);
  });
  after(async () => {
    await store?.dispose();
  });

  const day = "2026-03-05";
  // [query, intended index, call, the index must supply the order (no full Sort: LIMIT 1 reads one entry)]
  const cases: [string, string, (s: Store) => Promise<unknown>, boolean?][] = [
    ["latestRun", "runs_job_run_at_idx", (s) => latestRun(s, 17), true],
    [
      "runsInWindow",
      "runs_job_run_at_idx",
      (s) => runsInWindow(s, 17, new Date(now.getTime() - 7 * 86_400_000), now),
    ],
    ["latestDatasetUpdate", "dataset_updates_dataset_time_idx", (s) => latestDatasetUpdate(s, 17, now), true],
    [
      "failedDeploys",
      "deploys_failed_idx",
      (s) => failedDeploys(s, new Date(now.getTime() - 7 * 86_400_000), now),
    ],
    ["fleetDayStats", "run_daily_day_idx", (s) => fleetDayStats(s, day)],
    ["jobDailySeries", "run_daily_job_id_day_pk", (s) => jobDailySeries(s, 17, "2026-02-08", "2026-03-09")],
    [
      "missingRuns",
      "expected_runs_unmatched_due_idx",
      (s) => missingRuns(s, now, new Date(now.getTime() - 86_400_000)),
    ],
    ["findJobs", "jobs_name_idx", (s) => findJobs(s, "job_17")],
    ["findDatasets", "datasets_name_idx", (s) => findDatasets(s, "ds_17")],
  ];
  for (const [name, index, call, ordered] of cases) {
    it(`${name} uses ${index}`, async () => {
      const plans: PlanNode[] = [];
      await call(explaining(store, plans));
      assert.equal(plans.length, 1, `${name} runs one statement`);
      const all = nodes(plans[0]!);
      const summary = JSON.stringify(all.map((n) => [n["Node Type"], n["Index Name"] ?? n["Relation Name"]]));
      assert.ok(
        all.some((n) => INDEX_SCANS.has(n["Node Type"]) && n["Index Name"] === index),
        `${name}: expected an index scan on ${index}; plan: ${summary}`,
      );
      assert.ok(
        !all.some((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "runs"),
        `${name}: sequential scan on runs; plan: ${summary}`,
      );
      if (ordered) {
        assert.ok(
          all.some((n) => n["Node Type"] === "Index Scan" && n["Index Name"] === index) &&
            !all.some((n) => n["Node Type"] === "Sort"),
          `${name}: expected the index to supply the order (Index Scan, no full Sort); plan: ${summary}`,
        );
      }
    });
  }
});
