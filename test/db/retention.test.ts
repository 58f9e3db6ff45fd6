import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { pruneHistory } from "../../src/db/retention.ts";
import { ts } from "../../src/db/sql.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { HoustonEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const NOW = new Date("2026-06-01T00:00:00Z");
const RETENTION_DAYS = 400;
/** NOW - 400 days: history before this goes. */
const CUTOFF = new Date(NOW.getTime() - RETENTION_DAYS * DAY);
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);
const BULK = 25_000;

function history(): HoustonEvent[] {
  const old = daysAgo(420);
  const recent = daysAgo(10);
  const later = (d: Date, ms: number) => new Date(d.getTime() + ms);
  return [
    // Runs: well inside and outside the retention, and either side of the cutoff.
    {
      type: "run",
      namespace: "default",
      job: "etl",
      runId: "old",
      status: "success",
      startedAt: old,
      endedAt: later(old, 60_000),
      eventTime: later(old, 60_000),
      // Lineage last seen before the cutoff goes; the recent run's edge stays.
      inputs: [{ namespace: "default", name: "raw.orders" }],
    },
    {
      type: "run",
      namespace: "default",
      job: "etl",
      runId: "just-before-cutoff",
      status: "failed",
      startedAt: new Date(CUTOFF.getTime() - 1000),
      eventTime: new Date(CUTOFF.getTime() - 1000),
    },
    {
      type: "run",
      namespace: "default",
      job: "etl",
      runId: "at-cutoff",
      status: "success",
      startedAt: CUTOFF,
      eventTime: CUTOFF,
    },
    {
      type: "run",
      namespace: "default",
      job: "etl",
      runId: "recent",
      status: "success",
      startedAt: recent,
      endedAt: later(recent, 60_000),
      eventTime: later(recent, 60_000),
      outputs: [{ namespace: "default", name: "orders" }],
    },
    // Claims on runs that never arrived: pruned with the event ids (35 days).
    { type: "dataset", namespace: "default", dataset: "a", updatedAt: daysAgo(36), runId: "never", rows: 3 },
    { type: "dataset", namespace: "default", dataset: "b", updatedAt: daysAgo(34), runId: "never", rows: 4 },
    { type: "dataset", namespace: "default", dataset: "orders", updatedAt: old, rows: 1 },
    { type: "dataset", namespace: "default", dataset: "orders", updatedAt: recent, rows: 2 },
    { type: "test", test: "not_null_id", dataset: "orders", status: "pass", at: old },
    { type: "test", test: "not_null_id", dataset: "orders", status: "fail", at: recent },
    { type: "deploy", artifact: "orders_dag", kind: "pipeline", status: "success", at: old, tickets: [] },
    {
      type: "deploy",
      artifact: "orders_dag",
      kind: "pipeline",
      status: "failed",
      at: recent,
      tickets: ["T-1"],
    },
  ];
}

describeEachStore("pruneHistory", (kind) => {
  let store: TestStore;
  let jobId: number;
  before(async () => {
    store = await openTestStore(kind);
    await new Ingestor(store).apply(history());
    const [job] = await store.query<{ id: number }>(sql`SELECT id FROM jobs WHERE name = 'etl'`);
    jobId = job!.id;
    // A bulk of old runs of one job, far more than one 10,000-row delete batch.
    await store.query(
      sql`INSERT INTO runs (job_id, external_id, status, started_at, ended_at, status_at)
          SELECT ${jobId}, 'bulk-' || g, CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'success' END,
            ${ts(daysAgo(500))} + g * interval '1 minute',
            ${ts(daysAgo(500))} + g * interval '1 minute' + interval '30 seconds',
            ${ts(daysAgo(500))} + g * interval '1 minute' + interval '30 seconds'
          FROM generate_series(1, ${BULK}) AS g`,
    );
    await store.query(
      sql`INSERT INTO expected_runs (job_id, slot_at, opens_at, closes_at, due_at) VALUES
            (${jobId}, ${ts(daysAgo(91))}, ${ts(daysAgo(91))}, ${ts(daysAgo(90))}, ${ts(daysAgo(91))}),
            (${jobId}, ${ts(daysAgo(89))}, ${ts(daysAgo(89))}, ${ts(daysAgo(88))}, ${ts(daysAgo(89))})`,
    );
    await store.query(
      sql`INSERT INTO ingested_events (id, received_at) VALUES
            ('evt-36-days', ${ts(daysAgo(36))}), ('evt-34-days', ${ts(daysAgo(34))}), ('evt-today', ${ts(NOW)})`,
    );
  });
  after(async () => {
    await store.dispose();
  });

  it("starts from the history it is given", async () => {
    const [c] = await store.query<{ runs: number; days: string[] }>(
      sql`SELECT (SELECT count(*)::int FROM runs) AS runs,
            (SELECT array_agg(day::text ORDER BY day) FROM run_daily) AS days`,
    );
    assert.equal(c!.runs, BULK + 4);
    assert.deepEqual(c!.days, ["2025-04-07", "2025-04-26", "2025-04-27", "2026-05-22"]);
  });

  it("deletes history older than the retention in batches and keeps the rest", async () => {
    const deleted = await pruneHistory(store, NOW, RETENTION_DAYS);
    assert.deepEqual(deleted, {
      runs: BULK + 2,
      run_daily: 2,
      expected_runs: 1,
      dataset_updates: 1,
      test_results: 1,
      deploys: 1,
      ingested_events: 1,
      lineage_edges: 1,
      lineage_pending_writes: 1,
      outbox: 0,
      webhook_deliveries: 0,
      cron_claims: 0,
    });
    const [left] = await store.query<Record<string, string[]>>(
      sql`SELECT
            (SELECT array_agg(external_id ORDER BY run_at) FROM runs) AS runs,
            (SELECT array_agg(day::text ORDER BY day) FROM run_daily) AS run_daily,
            (SELECT array_agg(rows::text ORDER BY rows) FROM dataset_updates) AS dataset_updates,
            (SELECT array_agg(status) FROM test_results) AS test_results,
            (SELECT array_agg(status) FROM deploys) AS deploys,
            (SELECT array_agg(to_char(slot_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') ORDER BY slot_at)
              FROM expected_runs) AS expected_runs,
            (SELECT array_agg(id ORDER BY id) FROM ingested_events) AS ingested_events,
            (SELECT array_agg(direction || ' ' || dataset) FROM lineage_edges) AS lineage_edges,
            (SELECT array_agg(dataset) FROM lineage_pending_writes) AS lineage_pending_writes`,
    );
    assert.deepEqual(left, {
      runs: ["at-cutoff", "recent"],
      run_daily: ["2025-04-27", "2026-05-22"],
      lineage_edges: ["write orders"],
      lineage_pending_writes: ["b"],
      dataset_updates: ["2", "3", "4"],
      test_results: ["fail"],
      deploys: ["failed"],
      expected_runs: ["2026-03-04"],
      ingested_events: ["evt-34-days", "evt-today"],
    });
  });

  it("deletes nothing on a second pass", async () => {
    const deleted = await pruneHistory(store, NOW, RETENTION_DAYS);
    assert.ok(
      Object.values(deleted).every((n) => n === 0),
      JSON.stringify(deleted),
    );
  });

  it("keeps event ids and slots no longer than the history itself under a short retention", async () => {
    // 20 days: the 34-day event id and the 89-day slot outlive it, so they go too.
    const deleted = await pruneHistory(store, NOW, 20);
    assert.equal(deleted["ingested_events"], 1);
    assert.equal(deleted["expected_runs"], 1);
    assert.equal(deleted["runs"], 1, "the run at the old cutoff");
    const [left] = await store.query<{ ids: string[]; runs: string[] }>(
      sql`SELECT (SELECT array_agg(id) FROM ingested_events) AS ids,
            (SELECT array_agg(external_id) FROM runs) AS runs`,
    );
    assert.deepEqual(left, { ids: ["evt-today"], runs: ["recent"] });
  });
});
