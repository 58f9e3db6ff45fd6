// A large batch is written a bounded chunk at a time, inside one transaction: no statement
// carries the whole batch (one 10 MB parameter grew the embedded store's WebAssembly memory
// by 83 MB, for good), and a statement failing in a later chunk still writes nothing.
import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Executor, Store } from "../../src/db/client.ts";
import { JSON_CHUNK_CHARS } from "../../src/db/sql.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { HoustonEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const dialect = new PgDialect();

/** The store, with every statement's text parameters noted, and a fault to inject. */
function watched(store: Store) {
  const seen = { transactions: 0, statements: [] as { text: string; longest: number }[] };
  let fault: ((text: string) => boolean) | undefined;
  const note = (q: SQL) => {
    const { sql: text, params } = dialect.sqlToQuery(q);
    const longest = Math.max(0, ...params.map((p) => (typeof p === "string" ? p.length : 0)));
    seen.statements.push({ text, longest });
    if (fault?.(text)) throw new Error("injected failure");
  };
  const watchTx = (tx: Executor): Executor =>
    new Proxy(tx, {
      get(target, key, receiver) {
        if (key !== "execute") return Reflect.get(target, key, receiver) as unknown;
        return (q: SQL) => {
          note(q);
          return target.execute(q);
        };
      },
    });
  const wrapped: Store = {
    ...store,
    // Inside a transaction `ex` is the watched one, which notes the statement itself.
    query: (q, ex) => {
      if (!ex) note(q);
      return store.query(q, ex);
    },
    transaction: (fn) => {
      seen.transactions++;
      return store.transaction((tx) => fn(watchTx(tx)));
    },
  };
  return {
    store: wrapped,
    seen,
    failWhen(f: ((text: string) => boolean) | undefined) {
      fault = f;
    },
  };
}

/** About `mb` megabytes of events: runs of 40 jobs (with ids), dataset updates, tests, deploys. */
function largeBatch(mb: number): HoustonEvent[] {
  const events: HoustonEvent[] = [];
  const at = (i: number) => new Date(Date.UTC(2026, 10, 20, 0, 0, i));
  for (let i = 0; events.length * 600 < mb * 1024 * 1024; i++) {
    events.push({
      type: "run",
      id: `run-event-${i}`,
      namespace: "default",
      job: `large_job_${i % 40}`,
      runId: `r-${i}`,
      status: "failed",
      startedAt: at(i),
      endedAt: at(i + 60),
      eventTime: at(i + 60),
      error: `step ${i} failed: ${"e".repeat(400)}`,
    });
    if (i % 10 === 0)
      events.push({
        type: "dataset",
        namespace: "default",
        dataset: `analytics.table_${i % 30}`,
        updatedAt: at(i + 60),
        rows: i,
        schema: Array.from({ length: 20 }, (_, f) => ({ name: `column_${f}`, type: "text" })),
      });
    if (i % 10 === 5)
      events.push({
        type: "test",
        test: `not_null_${i % 25}`,
        dataset: `analytics.table_${i % 30}`,
        status: "pass",
        value: "0",
        at: at(i + 61),
      });
    if (i % 50 === 0)
      events.push({
        type: "deploy",
        artifact: `model_${i % 7}`,
        kind: "model",
        status: "success",
        at: at(i),
        tickets: [`DATA-${i}`],
      });
  }
  return events;
}

describeEachStore("large ingest batches", (kind) => {
  let store: TestStore;
  const batch = largeBatch(4);
  const runCount = batch.filter((e) => e.type === "run").length;
  const counts = async () =>
    (
      await store.query<Record<string, number>>(
        sql`SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM jobs) AS jobs,
                   (SELECT count(*)::int FROM dataset_updates) AS datasets,
                   (SELECT count(*)::int FROM test_results) AS tests, (SELECT count(*)::int FROM deploys) AS deploys,
                   (SELECT count(*)::int FROM ingested_events) AS ids`,
      )
    )[0]!;

  before(async () => {
    store = await openTestStore(kind);
  });
  after(async () => {
    await store.dispose();
  });
  beforeEach(async () => {
    await store.reset();
  });

  it("writes a batch of megabytes in one transaction of statements of about a megabyte at most", async () => {
    const w = watched(store);
    // applyOnly: the write alone (apply() then recomputes the daily rollup, in its own transaction).
    const result = await new Ingestor(w.store).applyOnly(batch);
    assert.deepEqual(result, { accepted: batch.length, duplicates: 0, marked: 40, sighted: 0 });
    assert.equal(w.seen.transactions, 1);
    const longest = Math.max(...w.seen.statements.map((s) => s.longest));
    assert.ok(
      longest <= JSON_CHUNK_CHARS + 2,
      `a statement carried a parameter of ${longest} characters (at most ${JSON_CHUNK_CHARS} wanted)`,
    );
    const runStatements = w.seen.statements.filter((s) => s.text.includes("INSERT INTO runs")).length;
    assert.ok(runStatements >= 3, `${runStatements} statement(s) wrote the runs`);
    assert.deepEqual(await counts(), {
      runs: runCount,
      jobs: 40,
      datasets: batch.filter((e) => e.type === "dataset").length,
      tests: batch.filter((e) => e.type === "test").length,
      deploys: batch.filter((e) => e.type === "deploy").length,
      ids: runCount,
    });
    // A re-post is all duplicates, however many chunks the ids took.
    const again = await new Ingestor(store).apply(batch.filter((e) => e.type === "run"));
    assert.deepEqual(again, { accepted: 0, duplicates: runCount });
  });

  it("writes nothing when a statement of a later chunk fails", async () => {
    const w = watched(store);
    let runStatements = 0;
    w.failWhen((text) => text.includes("INSERT INTO runs") && ++runStatements === 3);
    await assert.rejects(new Ingestor(w.store).apply(batch), /injected failure/);
    assert.deepEqual(await counts(), { runs: 0, jobs: 0, datasets: 0, tests: 0, deploys: 0, ids: 0 });
    // And the same batch is written whole once the fault is gone.
    w.failWhen(undefined);
    assert.deepEqual(await new Ingestor(w.store).apply(batch), { accepted: batch.length, duplicates: 0 });
    assert.equal((await counts()).runs, runCount);
  });

  it("merges a run's start and finish sent at either end of a large batch into one run", async () => {
    const runs = batch.filter((e) => e.type === "run");
    const start: HoustonEvent = {
      type: "run",
      namespace: "default",
      job: "large_job_0",
      runId: "split-run",
      status: "running",
      startedAt: new Date("2026-11-20T05:00:00Z"),
      eventTime: new Date("2026-11-20T05:00:00Z"),
    };
    const finish: HoustonEvent = {
      ...start,
      status: "success",
      endedAt: new Date("2026-11-20T05:30:00Z"),
      eventTime: new Date("2026-11-20T05:30:00Z"),
    };
    await new Ingestor(store).apply([finish, ...runs, start]);
    const rows = await store.query<{ status: string; started_at: Date; ended_at: Date }>(
      sql`SELECT status, started_at, ended_at FROM runs WHERE external_id = 'split-run'`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.status, "success");
    assert.equal(new Date(rows[0]!.started_at).toISOString(), "2026-11-20T05:00:00.000Z");
    assert.equal(new Date(rows[0]!.ended_at).toISOString(), "2026-11-20T05:30:00.000Z");
  });
});
