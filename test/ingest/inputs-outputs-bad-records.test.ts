// The native events API's `inputs`, `outputs` (run events) and `bad_records` (run and
// dataset events), and OpenLineage's inputs/outputs size: accepted and stored when right;
// anything wrong refuses the whole request with a 400 naming the field, and writes nothing.
import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { sql } from "drizzle-orm";
import { SIZES } from "../../src/ingest/limits.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { describeEachStore } from "../helpers/store.ts";

interface Counts {
  runs: number;
  jobs: number;
  dataset_updates: number;
  edges: number;
  sightings: number;
  pending: number;
  event_ids: number;
}

async function counts(t: TestApp): Promise<Counts> {
  const [row] = await t.store.query<Counts>(
    sql`SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM jobs)::int AS jobs,
        (SELECT count(*) FROM dataset_updates)::int AS dataset_updates,
        (SELECT count(*) FROM lineage_edges)::int AS edges,
        (SELECT count(*) FROM lineage_sightings)::int AS sightings,
        (SELECT count(*) FROM lineage_pending_writes)::int AS pending,
        (SELECT count(*) FROM ingested_events)::int AS event_ids`,
  );
  return row!;
}

const NOTHING: Counts = {
  runs: 0,
  jobs: 0,
  dataset_updates: 0,
  edges: 0,
  sightings: 0,
  pending: 0,
  event_ids: 0,
};

interface Refusal {
  status: number;
  body: { errors?: { index: number; field: string; reason: string }[] };
}

describeEachStore("inputs, outputs and bad_records over HTTP", (kind) => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind);
  });
  after(() => t.close());
  beforeEach(async () => {
    await t.store.reset();
    t.app.ingestor.resetCaches();
  });

  const run = {
    type: "run",
    id: "good-run",
    job: "load_orders",
    run_id: "r-1",
    status: "success",
    ended_at: "2026-11-21T02:00:00Z",
  };
  const dataset = {
    type: "dataset",
    id: "good-dataset",
    dataset: "analytics.fct_orders",
    updated_at: "2026-11-21T02:05:00Z",
  };

  it("stores inputs, outputs and bad_records, and sums a day's bad records in the rollup", async () => {
    const res = await t.post("/api/v1/events", [
      {
        ...run,
        inputs: ["raw.orders", "s3://landing/acme/orders.csv"],
        outputs: ["analytics.fct_orders"],
        bad_records: 12,
      },
      { ...run, id: "second", run_id: "r-2", ended_at: "2026-11-21T05:00:00Z", bad_records: 30 },
      { ...run, id: "third", run_id: "r-3", ended_at: "2026-11-21T06:00:00Z" },
      { ...dataset, run_id: "r-1", bad_records: 7 },
      { ...dataset, id: "clean", updated_at: "2026-11-21T06:05:00Z", bad_records: 0 },
    ]);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // HTTP ingest leaves the rollup and the lineage fold to the background flusher.
    await t.app.ingestor.rollups.flush();
    const runs = await t.store.query<{ external_id: string; bad: number | null }>(
      sql`SELECT external_id, bad_records::int AS bad FROM runs ORDER BY external_id`,
    );
    assert.deepEqual(
      runs.map((r) => [r.external_id, r.bad]),
      [
        ["r-1", 12],
        ["r-2", 30],
        ["r-3", null],
      ],
    );
    const updates = await t.store.query<{ bad: number | null }>(
      sql`SELECT bad_records::int AS bad FROM dataset_updates ORDER BY updated_at`,
    );
    assert.deepEqual(
      updates.map((u) => u.bad),
      [7, 0],
    );
    const [daily] = await t.store.query<{ bad: number | null }>(
      sql`SELECT bad_records::int AS bad FROM run_daily`,
    );
    assert.equal(daily!.bad, 42);
    const edges = await t.store.query<{ e: string }>(
      sql`SELECT direction || ' ' || dataset AS e FROM lineage_edges ORDER BY 1`,
    );
    assert.deepEqual(
      edges.map((e) => e.e),
      ["read raw.orders", "read s3://landing/acme/orders.csv", "write analytics.fct_orders"],
    );
  });

  it("keeps a run's bad_records when its other event does not carry them", async () => {
    await t.post("/api/v1/events", {
      ...run,
      id: "start",
      status: "running",
      started_at: "2026-11-21T01:00:00Z",
      ended_at: undefined,
    });
    await t.post("/api/v1/events", { ...run, id: "end", bad_records: 5 });
    await t.post("/api/v1/events", { ...run, id: "late-retry-without" });
    const [r] = await t.store.query<{ bad: number }>(sql`SELECT bad_records::int AS bad FROM runs`);
    assert.equal(r!.bad, 5);
  });

  const long = (n: number) => "x".repeat(n);
  const many = Array.from({ length: 10_000 }, (_, i) => `raw.table_${i}`);
  const matrix: [string, Record<string, unknown>, string, RegExp][] = [
    ["inputs that are not a list", { ...run, inputs: "raw.orders" }, "inputs", /expected a list/],
    ["outputs that are an object", { ...run, outputs: { name: "x" } }, "outputs", /expected a list/],
    [
      "a number among the inputs",
      { ...run, inputs: ["raw.orders", 7] },
      "inputs[1]",
      /expected a dataset name/,
    ],
    ["a null among the outputs", { ...run, outputs: [null] }, "outputs[0]", /expected a dataset name/],
    [
      "an object among the inputs",
      { ...run, inputs: [{ namespace: "a", name: "b" }] },
      "inputs[0]",
      /a string/,
    ],
    ["an empty name", { ...run, outputs: ["  "] }, "outputs[0]", /must not be empty/],
    ["10,000 inputs", { ...run, inputs: many }, "inputs", /10000 datasets; at most 1000/],
    ["10,000 outputs", { ...run, outputs: many }, "outputs", /10000 datasets; at most 1000/],
    [
      "a name over the length limit",
      { ...run, inputs: [long(SIZES.datasetName + 1)] },
      "inputs[0]",
      /name is 501 characters long; at most 500/,
    ],
    [
      "a namespace over the length limit",
      { ...run, outputs: [`${long(SIZES.namespace + 1)}/orders`] },
      "outputs[0]",
      /namespace is 256 characters long; at most 255/,
    ],
    ["a NUL in a name", { ...run, inputs: ["raw.or\u0000ders"] }, "inputs[0]", /NUL/],
    [
      "inputs on a dataset event",
      { ...dataset, inputs: ["raw.orders"] },
      "inputs",
      /is not a field of a dataset event/,
    ],
    ["negative bad_records on a run", { ...run, bad_records: -1 }, "bad_records", /at least 0/],
    ["negative bad_records on a dataset", { ...dataset, bad_records: -3 }, "bad_records", /at least 0/],
    ["fractional bad_records", { ...run, bad_records: 2.5 }, "bad_records", /whole number/],
    ["bad_records as text", { ...dataset, bad_records: "12" }, "bad_records", /expected a number/],
    ["bad_records as a list", { ...run, bad_records: [1] }, "bad_records", /expected a number/],
    [
      "bad_records beyond the bound",
      { ...run, bad_records: 1e16 },
      "bad_records",
      /at most 1000000000000000/,
    ],
  ];
  for (const [what, bad, field, reason] of matrix) {
    it(`refuses ${what} with 400 naming ${field}, and writes nothing of the request`, async () => {
      // A good event first: the request is all or nothing.
      const res = (await t.post("/api/v1/events", [{ ...run, id: "fine", run_id: "ok" }, bad])) as Refusal;
      assert.equal(res.status, 400);
      const errors = res.body.errors ?? [];
      assert.equal(errors.length >= 1, true);
      const e = errors.find((x) => x.field === field);
      assert.ok(e, `${field} named in ${JSON.stringify(errors).slice(0, 300)}`);
      assert.equal(e.index, 1);
      assert.match(e.reason, reason);
      assert.deepEqual(await counts(t), NOTHING);
    });
  }

  it("refuses an OpenLineage event with 10,000 inputs with 400 naming inputs, and writes nothing", async () => {
    const res = (await t.post("/api/v1/lineage", {
      eventType: "START",
      eventTime: "2026-11-21T02:00:00Z",
      run: { runId: "0b7c7a4e-0000-4000-8000-000000000009" },
      job: { namespace: "spark", name: "wide_join" },
      inputs: many.map((name) => ({ namespace: "postgres://db:5432", name })),
    })) as Refusal;
    assert.equal(res.status, 400);
    assert.equal(res.body.errors?.[0]?.field, "inputs");
    assert.match(res.body.errors?.[0]?.reason ?? "", /10000 datasets; at most 1000/);
    assert.deepEqual(await counts(t), NOTHING);
  });

  it("reads no bad records from OpenLineage: no standard facet counts them", async () => {
    const res = await t.post("/api/v1/lineage", {
      eventType: "COMPLETE",
      eventTime: "2026-11-21T02:00:00Z",
      run: { runId: "0b7c7a4e-0000-4000-8000-00000000000a" },
      job: { namespace: "spark", name: "load" },
      outputs: [
        {
          namespace: "postgres://db:5432",
          name: "shop.analytics.orders",
          outputFacets: { outputStatistics: { rowCount: 10 } },
        },
      ],
    });
    assert.equal(res.status, 201);
    const [r] = await t.store.query<{ runs: number; with_bad: number }>(
      sql`SELECT count(*)::int AS runs, count(bad_records)::int AS with_bad FROM runs`,
    );
    assert.deepEqual(r, { runs: 1, with_bad: 0 });
  });
});
