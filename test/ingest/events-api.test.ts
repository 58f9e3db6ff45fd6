import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { describeEachStore } from "../helpers/store.ts";

async function counts(t: TestApp) {
  const [row] = await t.store.query<Record<string, number>>(
    sql`SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM jobs)::int AS jobs,
        (SELECT count(*) FROM dataset_updates)::int AS dataset_updates,
        (SELECT count(*) FROM test_results)::int AS test_results, (SELECT count(*) FROM deploys)::int AS deploys,
        (SELECT count(*) FROM ingested_events)::int AS event_ids`,
  );
  return row!;
}

describeEachStore("POST /api/v1/events", (kind) => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind);
  });
  after(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await t.store.query(
      sql`TRUNCATE runs, jobs, datasets, dataset_updates, tests, test_results, deploys, ingested_events,
          run_daily, rollup_dirty, expected_runs, job_schedules CASCADE`,
    );
    t.app.ingestor.resetCaches();
  });

  it("stores a run with every field and answers with what it accepted", async () => {
    const res = await t.post("/api/v1/events", {
      type: "run",
      id: "evt-1",
      job: "nightly_orders",
      run_id: "r-1",
      status: "success",
      started_at: "2026-11-21T02:00:05Z",
      ended_at: "2026-11-21T02:14:05.250Z",
      scheduled_for: "2026-11-21T02:00:00Z",
      group: "orders_daily",
      environment: "prod",
      rows: 120345,
      cpu_seconds: 512.5,
      memory_mb: 2048,
      cost: 0.42,
      error: null,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { accepted: 1, duplicates: 0 });
    const [run] = await t.store.query<Record<string, unknown>>(
      sql`SELECT r.status, r.external_id, r.duration_ms::int AS duration_ms, r.rows::int AS rows, r.cpu_seconds,
            r.memory_mb, r.cost, r.environment, r.scheduled_for, j.name, j.group_name, j.namespace
          FROM runs r JOIN jobs j ON j.id = r.job_id`,
    );
    assert.equal(run!["status"], "success");
    assert.equal(run!["external_id"], "r-1");
    assert.equal(run!["duration_ms"], 14 * 60_000 + 250);
    assert.equal(run!["rows"], 120345);
    assert.equal(run!["cpu_seconds"], 512.5);
    assert.equal(run!["memory_mb"], 2048);
    assert.equal(run!["cost"], 0.42);
    assert.equal(run!["environment"], "prod");
    assert.equal(new Date(run!["scheduled_for"] as string).toISOString(), "2026-11-21T02:00:00.000Z");
    assert.equal(run!["name"], "nightly_orders");
    assert.equal(run!["group_name"], "orders_daily");
    assert.equal(run!["namespace"], "default");
  });

  it("round-trips dataset, test and deploy events, and marks a changed schema", async () => {
    const body = [
      {
        type: "dataset",
        dataset: "orders",
        updated_at: "2026-11-20T03:00:00Z",
        rows: 10,
        bytes: 2048,
        supplier: "acme",
        schema: [{ name: "id", type: "int" }],
      },
      {
        type: "dataset",
        dataset: "orders",
        updated_at: "2026-11-21T03:00:00Z",
        rows: 12,
        schema: [{ name: "id", type: "INT" }],
      },
      {
        type: "dataset",
        dataset: "orders",
        updated_at: "2026-11-22T03:00:00Z",
        rows: 15,
        schema: [
          { name: "id", type: "int" },
          { name: "total", type: "numeric" },
        ],
      },
      {
        type: "test",
        test: "not_null_id",
        dataset: "orders",
        status: "fail",
        environment: "prod",
        value: 3,
        at: "2026-11-22T03:05:00Z",
      },
      {
        type: "deploy",
        artifact: "orders_model",
        kind: "model",
        version: "v1.2.0",
        environment: "prod",
        status: "failed",
        at: "2026-11-22T04:00:00Z",
        project: "PRJ-CHECKOUT",
        tickets: ["DATA-1", "DATA-2"],
      },
    ];
    const res = await t.post("/api/v1/events", body);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { accepted: 5, duplicates: 0 });
    const updates = await t.store.query<{ rows: number; schema_changed: boolean; supplier: string }>(
      sql`SELECT u.rows::int AS rows, u.schema_changed, d.supplier FROM dataset_updates u
          JOIN datasets d ON d.id = u.dataset_id ORDER BY u.updated_at`,
    );
    assert.deepEqual(
      updates.map((u) => [u.rows, u.schema_changed, u.supplier]),
      [
        [10, false, "acme"],
        [12, false, "acme"],
        [15, true, "acme"],
      ],
    );
    const [test] = await t.store.query<Record<string, unknown>>(
      sql`SELECT t.name, r.status, r.environment, r.value, d.name AS dataset FROM test_results r
          JOIN tests t ON t.id = r.test_id JOIN datasets d ON d.id = t.dataset_id`,
    );
    assert.deepEqual(test, {
      name: "not_null_id",
      status: "fail",
      environment: "prod",
      value: "3",
      dataset: "orders",
    });
    const [deploy] = await t.store.query<Record<string, unknown>>(
      sql`SELECT artifact, kind, version, environment, status, project, tickets FROM deploys`,
    );
    assert.deepEqual(deploy, {
      artifact: "orders_model",
      kind: "model",
      version: "v1.2.0",
      environment: "prod",
      status: "failed",
      project: "PRJ-CHECKOUT",
      tickets: ["DATA-1", "DATA-2"],
    });
  });

  it("treats a re-posted event id as a no-op, within one request and across requests", async () => {
    const ev = {
      type: "deploy",
      id: "dep-7",
      artifact: "a",
      kind: "code",
      status: "success",
      at: "2026-11-22T04:00:00Z",
    };
    assert.deepEqual((await t.post("/api/v1/events", [ev, ev])).body, { accepted: 1, duplicates: 1 });
    assert.deepEqual((await t.post("/api/v1/events", ev)).body, { accepted: 0, duplicates: 1 });
    assert.equal((await counts(t)).deploys, 1);
  });

  it("yields one correct run when the finish arrives before the start", async () => {
    const finish = {
      type: "run",
      job: "j",
      run_id: "x",
      status: "failed",
      started_at: "2026-11-21T01:00:00Z",
      ended_at: "2026-11-21T01:30:00Z",
      error: "boom",
    };
    const start = {
      type: "run",
      job: "j",
      run_id: "x",
      status: "running",
      started_at: "2026-11-21T01:00:00Z",
    };
    await t.post("/api/v1/events", finish);
    await t.post("/api/v1/events", start);
    const runs = await t.store.query<{ status: string; error: string; duration_ms: number }>(
      sql`SELECT status, error, duration_ms::int AS duration_ms FROM runs`,
    );
    assert.deepEqual(runs, [{ status: "failed", error: "boom", duration_ms: 30 * 60_000 }]);
  });

  it("merges a start and an end sent in one request, in either order", async () => {
    const start = {
      type: "run",
      job: "j",
      run_id: "y",
      status: "running",
      started_at: "2026-11-21T01:00:00Z",
    };
    const end = {
      type: "run",
      job: "j",
      run_id: "y",
      status: "success",
      ended_at: "2026-11-21T01:05:00Z",
      rows: 5,
    };
    await t.post("/api/v1/events", [end, start]);
    const runs = await t.store.query<{ status: string; duration_ms: number; rows: number }>(
      sql`SELECT status, duration_ms::int AS duration_ms, rows::int AS rows FROM runs`,
    );
    assert.deepEqual(runs, [{ status: "success", duration_ms: 5 * 60_000, rows: 5 }]);
  });

  it("accepts NDJSON and gzip bodies", async () => {
    const nd = [
      { type: "run", job: "a", run_id: "1", status: "success", ended_at: "2026-11-21T01:00:00Z" },
      { type: "run", job: "b", run_id: "1", status: "success", ended_at: "2026-11-21T01:00:00Z" },
    ]
      .map((e) => JSON.stringify(e))
      .join("\n");
    assert.equal(
      (await t.post("/api/v1/events", `${nd}\n`, { "content-type": "application/x-ndjson" })).status,
      200,
    );
    const gz = await fetch(`${t.url}/api/v1/events`, {
      method: "POST",
      headers: { authorization: "Bearer test-ingest-token-0123456789", "content-encoding": "gzip" },
      body: gzipSync(
        JSON.stringify({
          type: "run",
          job: "c",
          run_id: "1",
          status: "success",
          ended_at: "2026-11-21T01:00:00Z",
        }),
      ),
    });
    assert.equal(gz.status, 200);
    assert.equal((await counts(t)).runs, 3);
  });

  it("brings the daily rollup up to date right after the response, without another request", async () => {
    const runs = [10, 20, 30, 40].map((m, i) => ({
      type: "run",
      job: "rolled",
      run_id: `r${i}`,
      status: i === 3 ? "failed" : "success",
      started_at: "2026-11-20T01:00:00Z",
      ended_at: `2026-11-20T01:${String(m).padStart(2, "0")}:00Z`,
      cost: 1,
    }));
    assert.equal((await t.post("/api/v1/events", runs)).status, 200);
    // The response does not wait for the recompute; the flush it started does not need a tick.
    await t.app.ingestor.rollups.idle();
    const [d] = await t.store.query<Record<string, number>>(
      sql`SELECT runs, successes, failures, duration_p50_ms, duration_max_ms, cost FROM run_daily`,
    );
    assert.deepEqual(d, {
      runs: 4,
      successes: 3,
      failures: 1,
      duration_p50_ms: 25 * 60_000,
      duration_max_ms: 40 * 60_000,
      cost: 4,
    });
    const [{ n }] = (await t.store.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM rollup_dirty`,
    )) as [{ n: number }];
    assert.equal(n, 0);
  });

  const good = { type: "run", job: "ok", run_id: "1", status: "success", ended_at: "2026-11-21T01:00:00Z" };
  const matrix: [string, () => Promise<{ status: number; body: any }>, number, RegExp][] = [
    ["malformed JSON", () => t.post("/api/v1/events", '{"type": "run",'), 400, /malformed JSON/],
    [
      "a wrong type of field",
      () => t.post("/api/v1/events", [good, { ...good, rows: "many" }]),
      400,
      /rows.*expected a number/,
    ],
    [
      "an unknown event type",
      () => t.post("/api/v1/events", [good, { type: "lineage" }]),
      400,
      /lineage\\" is not one of run, dataset, test, deploy/,
    ],
    [
      "a missing required field",
      () =>
        t.post("/api/v1/events", [
          good,
          { type: "deploy", kind: "code", status: "success", at: "2026-11-21T01:00:00Z" },
        ]),
      400,
      /artifact.*is required/,
    ],
    [
      "a bad timestamp",
      () => t.post("/api/v1/events", [good, { ...good, ended_at: "2026-13-45T99:00:00Z" }]),
      400,
      /ended_at/,
    ],
    [
      "an end before its start",
      () => t.post("/api/v1/events", [{ ...good, started_at: "2026-11-21T02:00:00Z" }]),
      400,
      /ended_at.*before started_at/,
    ],
    [
      "NDJSON with one bad line",
      () => t.post("/api/v1/events", `${JSON.stringify(good)}\n{"type":"run",\n`),
      400,
      /"line":2/,
    ],
    ["an empty body", () => t.post("/api/v1/events", ""), 400, /empty/],
  ];
  for (const [what, send, status, pattern] of matrix) {
    it(`refuses ${what} with ${status}, says which field and why, and writes nothing`, async () => {
      const res = await send();
      assert.equal(res.status, status);
      assert.match(JSON.stringify(res.body), pattern);
      const c = await counts(t);
      assert.deepEqual(c, {
        runs: 0,
        jobs: 0,
        dataset_updates: 0,
        test_results: 0,
        deploys: 0,
        event_ids: 0,
      });
    });
  }

  // Every string a native event carries, with a value PostgreSQL text cannot hold: each once
  // reached the store and failed the request with a 500, which clients retry forever.
  const byType: [Record<string, unknown>, string[]][] = [
    [
      { ...good, id: "e", namespace: "ns", group: "g", environment: "prod", tool: "t", owner: "o" },
      ["id", "job", "namespace", "run_id", "group", "environment", "tool", "owner", "error", "parent_run_id"],
    ],
    [
      { type: "dataset", dataset: "orders", updated_at: "2026-11-21T01:00:00Z" },
      ["id", "dataset", "namespace", "supplier", "owner", "run_id"],
    ],
    [
      { type: "test", test: "not_null", status: "pass", at: "2026-11-21T01:00:00Z" },
      ["id", "test", "dataset", "job", "environment", "value", "run_id"],
    ],
    [
      {
        type: "deploy",
        artifact: "orders_model",
        kind: "model",
        status: "success",
        at: "2026-11-21T01:00:00Z",
      },
      ["id", "artifact", "version", "environment", "project"],
    ],
  ];
  for (const [bad, what] of [
    ["a\ud800b", "a lone surrogate"],
    ["a\udc00", "a lone low surrogate"],
    ["a\u0000b", "NUL"],
  ] as const) {
    it(`refuses ${what} in any string of any event with 400 naming the field, and writes nothing`, async () => {
      const events = byType.flatMap(([base, fields]) => fields.map((f) => ({ ...base, [f]: bad })));
      events.push(
        { ...byType[1]![0], schema: [{ name: bad, type: "int" }] },
        { ...byType[1]![0], schema: [{ name: "id", type: bad }] },
        { ...byType[3]![0], tickets: ["T-1", bad] },
      );
      const res = await t.post("/api/v1/events", events);
      assert.equal(res.status, 400);
      const expected = byType
        .flatMap(([, fields]) => fields)
        .concat(["schema[0].name", "schema[0].type", "tickets[1]"]);
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        expected,
      );
      for (const e of res.body.errors) assert.match(e.reason, /NUL|surrogate/);
      // One at a time too: a lone bad field refuses its request rather than failing it.
      for (const ev of events) assert.equal((await t.post("/api/v1/events", ev)).status, 400);
      assert.deepEqual(Object.values(await counts(t)), [0, 0, 0, 0, 0, 0]);
    });
  }

  it("names the index of each bad event in a batch", async () => {
    const res = await t.post("/api/v1/events", [
      good,
      { ...good, status: "done" },
      good,
      { ...good, job: "" },
    ]);
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.errors.map((e: { index: number; field: string }) => [e.index, e.field]),
      [
        [1, "status"],
        [3, "job"],
      ],
    );
  });

  it("refuses a body over the size limit with 413 and writes nothing", async () => {
    const big = JSON.stringify(
      Array.from({ length: 40_000 }, (_, i) => ({ ...good, run_id: String(i), error: "x".repeat(250) })),
    );
    assert.ok(big.length > 10 * 1024 * 1024);
    const res = await t.post("/api/v1/events", big);
    assert.equal(res.status, 413);
    assert.match(res.body.error, /exceeds 10485760 bytes/);
    assert.equal((await counts(t)).runs, 0);
  });

  it("refuses a missing or wrong token with 401", async () => {
    const none = await t.post("/api/v1/events", good, { authorization: "" });
    assert.equal(none.status, 401);
    assert.match(none.body.error, /missing bearer token/);
    const wrong = await t.post("/api/v1/events", good, { authorization: "Bearer not-the-token" });
    assert.equal(wrong.status, 401);
    assert.equal((await counts(t)).runs, 0);
  });
});

describeEachStore("ingest without configured tokens", (kind) => {
  it("refuses every request and says which variable to set", async () => {
    const t = await startTestApp(kind, { HOUSTON_INGEST_TOKENS: "" });
    try {
      const res = await t.post("/api/v1/events", { type: "run" });
      assert.equal(res.status, 401);
      assert.match(res.body.error, /HOUSTON_INGEST_TOKENS/);
      assert.ok(t.logs.some((l) => l.includes("HOUSTON_INGEST_TOKENS")));
    } finally {
      await t.close();
    }
  });
});
