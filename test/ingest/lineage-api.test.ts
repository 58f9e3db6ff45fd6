import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import type { HoustonEvent } from "../../src/ingest/events.ts";
import { mapLineageEvent } from "../../src/ingest/openlineage.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { FIXTURES_DIR, openLineageFixtures } from "../helpers/fixtures.ts";
import { describeEachStore } from "../helpers/store.ts";

const fixtures = openLineageFixtures();
const skip = fixtures
  ? false
  : `shared fixtures are absent (${FIXTURES_DIR}); see ../shared/fixtures/README.md`;

/** What the store should hold after every fixture event is posted once. */
function expected(all: { file: string; events: unknown[] }[]) {
  const runs = new Set<string>();
  const ids = new Set<string>();
  let datasetUpdates = 0;
  let testResults = 0;
  for (const f of all) {
    for (const raw of f.events) {
      const r = mapLineageEvent(raw, 0);
      assert.ok(r.ok, `${f.file} maps`);
      for (const e of r.events as HoustonEvent[]) {
        if (e.id && ids.has(e.id)) continue;
        if (e.id) ids.add(e.id);
        if (e.type === "run") runs.add(`${e.namespace}/${e.job}/${e.runId}`);
        if (e.type === "dataset") datasetUpdates++;
        if (e.type === "test") testResults++;
      }
    }
  }
  return { runs: runs.size, datasetUpdates, testResults };
}

describeEachStore("POST /api/v1/lineage with real producers' events", (kind) => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind);
  });
  after(async () => {
    await t?.close();
  });

  it(
    "accepts every shared OpenLineage fixture, one event per request as transports send them",
    {
      skip,
    },
    async () => {
      for (const f of fixtures!) {
        for (const [i, ev] of f.events.entries()) {
          const res = await t.post("/api/v1/lineage", ev as object);
          assert.equal(res.status, 201, `${f.file} event ${i}: ${JSON.stringify(res.body).slice(0, 300)}`);
        }
      }
      const want = expected(fixtures!);
      const [got] = await t.store.query<{ runs: number; updates: number; results: number }>(
        sql`SELECT (SELECT count(*) FROM runs)::int AS runs, (SELECT count(*) FROM dataset_updates)::int AS updates,
          (SELECT count(*) FROM test_results)::int AS results`,
      );
      assert.deepEqual(got, { runs: want.runs, updates: want.datasetUpdates, results: want.testResults });
      assert.ok(
        want.runs > 30 && want.datasetUpdates > 5 && want.testResults > 5,
        "fixtures exercise all three",
      );
    },
  );

  it(
    "lands a dbt model's START and FAIL as one failed run with its error and its dbt job as group",
    {
      skip,
    },
    async () => {
      const rows = await t.store.query<{
        status: string;
        error: string | null;
        group_name: string | null;
        duration_ms: number | null;
      }>(
        sql`SELECT r.status, r.error, j.group_name, r.duration_ms::int AS duration_ms FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE j.namespace = 'dbt-test-namespace' AND j.name = 'model.jaffle_shop.orders' AND r.status = 'failed'`,
      );
      assert.equal(rows.length, 1, "the dbt failed_run fixture produced one failed run of the model");
      assert.ok(rows[0]!.error && rows[0]!.error.length > 0, "with the error message");
      assert.equal(rows[0]!.group_name, "dbt-run-jaffle_shop", "grouped under the dbt run job");
      assert.ok(
        rows[0]!.duration_ms !== null && rows[0]!.duration_ms >= 0,
        "START and FAIL merged into one run",
      );
    },
  );

  it("records dbt test assertions as pass and fail results", { skip }, async () => {
    const rows = await t.store.query<{ status: string; n: number }>(
      sql`SELECT status, count(*)::int AS n FROM test_results GROUP BY status ORDER BY status`,
    );
    const statuses = rows.map((r) => r.status);
    assert.ok(statuses.includes("pass"));
  });

  it("treats a re-posted fixture as a duplicate and writes nothing new", { skip }, async () => {
    const before = await t.store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM dataset_updates`);
    const f = fixtures!.find((x) => x.file.includes("pysparkHiveCompleteEvent"))!;
    const res = await t.post("/api/v1/lineage", f.events[0]!);
    assert.equal(res.status, 201);
    assert.equal(res.body.accepted, 0);
    const afterRows = await t.store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM dataset_updates`);
    assert.deepEqual(afterRows, before);
  });

  it("accepts an event without producer and schemaURL with a warning", async () => {
    const res = await t.post("/api/v1/lineage", {
      eventType: "COMPLETE",
      eventTime: "2026-11-21T03:00:00Z",
      run: { runId: "6f2a7b1e-1111-4c4c-9d9d-000000000001" },
      job: { namespace: "cron", name: "no_producer" },
    });
    assert.equal(res.status, 201);
    assert.match(JSON.stringify(res.body.warnings), /producer/);
  });

  it("refuses an event without a runId with 400 naming run.runId, and writes nothing", async () => {
    const res = await t.post("/api/v1/lineage", {
      eventType: "START",
      eventTime: "2026-11-21T03:00:00Z",
      run: {},
      job: { namespace: "cron", name: "bad_one" },
      producer: "x",
      schemaURL: "y",
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].field, "run.runId");
    const rows = await t.store.query(sql`SELECT 1 FROM jobs WHERE name = 'bad_one'`);
    assert.equal(rows.length, 0);
  });
});

describeEachStore("POST /api/v1/lineage with strings PostgreSQL text cannot hold", (kind) => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind);
  });
  after(async () => {
    await t?.close();
  });

  const envelope = { producer: "https://example.com/producer", schemaURL: "https://example.com/schema" };
  const runEvent = (name: string, eventType: string, extra: Record<string, unknown> = {}) => ({
    ...envelope,
    eventType,
    eventTime: "2026-11-21T03:00:00Z",
    run: { runId: `${name.replace(/\W/g, "")}-run` },
    job: { namespace: "airflow", name },
    ...extra,
  });

  for (const [bad, what] of [
    ["\ud800", "a lone surrogate"],
    ["\u0000", "NUL"],
  ] as const) {
    it(`refuses ${what} in a required name with 400 naming the field, and writes nothing`, async () => {
      const cases: [object, string][] = [
        [runEvent(`job${bad}`, "START"), "job.name"],
        [
          { ...runEvent("ok_job", "START"), job: { namespace: `air${bad}`, name: "ok_job" } },
          "job.namespace",
        ],
        [{ ...runEvent("ok_job", "START"), run: { runId: `r${bad}` } }, "run.runId"],
        [
          runEvent("ok_job", "COMPLETE", { outputs: [{ namespace: "pg", name: `orders${bad}` }] }),
          "outputs[0].name",
        ],
        [
          runEvent("ok_job", "START", { inputs: [{ namespace: `pg${bad}`, name: "orders" }] }),
          "inputs[0].namespace",
        ],
        [
          { ...envelope, eventTime: "2026-11-21T03:00:00Z", dataset: { namespace: "pg", name: `d${bad}` } },
          "dataset.name",
        ],
      ];
      for (const [event, field] of cases) {
        const res = await t.post("/api/v1/lineage", event);
        assert.equal(res.status, 400, field);
        assert.deepEqual(
          res.body.errors.map((e: { field: string }) => e.field),
          [field],
        );
        assert.match(res.body.errors[0].reason, /NUL|surrogate/);
      }
      const rows = await t.store.query(sql`SELECT 1 FROM jobs WHERE name LIKE '%job%'`);
      assert.equal(rows.length, 0);
    });
  }

  it("keeps the run when a facet holds such a string: the facet is dropped with a warning", async () => {
    const failed = runEvent("facets_fail", "FAIL", {
      run: {
        runId: "facets_fail-run",
        facets: {
          // A producer that cut a stack trace in the middle of an emoji: the text is kept.
          errorMessage: { message: "boom \ud83d", programmingLanguage: "python" },
          tags: { tags: [{ key: "environment", value: "prod\u0000" }] },
        },
      },
      job: {
        namespace: "airflow",
        name: "facets_fail",
        facets: {
          ownership: { owners: [{ name: "team\udc00" }] },
          jobType: { integration: "AIR\u0000FLOW" },
        },
      },
    });
    const completed = runEvent("facets_ok", "COMPLETE", {
      outputs: [
        {
          namespace: "pg",
          name: "facets_out",
          facets: {
            schema: {
              fields: [
                { name: "id", type: "int" },
                { name: "bad\ud800", type: "text" },
                { name: "note", type: "text\u0000" },
              ],
            },
            dataQualityAssertions: {
              assertions: [
                { assertion: "not_null", success: true, column: "id" },
                { assertion: "unique\u0000", success: false },
                { assertion: "in_range", success: false, column: "amount\udfff" },
              ],
            },
          },
        },
      ],
    });
    const res = await t.post("/api/v1/lineage", [failed, completed]);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const warnings = JSON.stringify(res.body.warnings);
    for (const field of [
      "run.facets.errorMessage.message",
      "run.facets.tags.tags[0].value",
      "job.facets.ownership.owners[0].name",
      "job.facets.jobType.integration",
      "outputs[0].facets.schema.fields",
      "dataQualityAssertions.assertions[1]",
      "dataQualityAssertions.assertions[2]",
    ]) {
      assert.ok(warnings.includes(field), `a warning names ${field}: ${warnings}`);
    }
    const [run] = await t.store.query<Record<string, unknown>>(
      sql`SELECT r.status, r.error, r.environment, j.owner, j.tool FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE j.name = 'facets_fail'`,
    );
    assert.deepEqual(run, {
      status: "failed",
      error: "boom \ufffd",
      environment: null,
      owner: null,
      tool: null,
    });
    const [update] = await t.store.query<{ schema_fields: unknown }>(
      sql`SELECT u.schema_fields FROM dataset_updates u JOIN datasets d ON d.id = u.dataset_id
          WHERE d.name = 'facets_out'`,
    );
    assert.deepEqual(update?.schema_fields, [{ name: "id", type: "int" }]);
    const tests = await t.store.query<{ name: string }>(
      sql`SELECT t.name FROM test_results r JOIN tests t ON t.id = r.test_id WHERE t.name LIKE '%(id)%'
          OR t.name LIKE 'unique%' OR t.name LIKE 'in_range%' ORDER BY t.name`,
    );
    assert.deepEqual(
      tests.map((r) => r.name),
      ["not_null (id)"],
    );
  });

  it("never answers 5xx: NUL or a lone surrogate in any string of a rich event is refused (400) or dropped (201)", async () => {
    const rich = runEvent("rich_job", "COMPLETE", {
      run: {
        runId: "rich-run",
        facets: {
          parent: { run: { runId: "parent-run" }, job: { namespace: "airflow", name: "rich_dag" } },
          nominalTime: { nominalStartTime: "2026-11-21T02:00:00Z" },
          errorMessage: { message: "it broke", programmingLanguage: "python" },
          processing_engine: { name: "spark", version: "3.5.0" },
          environmentVariables: { environmentVariables: [{ name: "ENVIRONMENT", value: "prod" }] },
          tags: { tags: [{ key: "env", value: "prod", source: "USER" }] },
          "environment-properties": { "environment-properties": { env: "prod" } },
        },
      },
      job: {
        namespace: "airflow",
        name: "rich_job",
        facets: {
          jobType: { integration: "AIRFLOW", jobType: "TASK", processingType: "BATCH" },
          ownership: { owners: [{ name: "team-data", type: "TEAM" }] },
          tags: { tags: [{ key: "environment", value: "prod" }] },
        },
      },
      inputs: [
        {
          namespace: "postgres://db",
          name: "public.orders",
          inputFacets: {
            dataQualityAssertions: { assertions: [{ assertion: "not_null", success: true, column: "id" }] },
          },
        },
      ],
      outputs: [
        {
          namespace: "postgres://db",
          name: "public.orders_daily",
          facets: {
            schema: {
              fields: [
                { name: "id", type: "int" },
                { name: "address", type: "struct", fields: [{ name: "city", type: "text" }] },
              ],
            },
            ownership: { owners: [{ name: "team-data" }] },
          },
          outputFacets: { outputStatistics: { rowCount: 10, size: 2048 } },
        },
      ],
    });
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      if (typeof v === "string") paths.push(path);
      else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(rich, []);
    assert.ok(paths.length > 40, `${paths.length} strings`);
    const statuses = new Set<number>();
    for (const bad of ["\ud800", "\u0000"]) {
      for (const path of paths) {
        const copy = structuredClone(rich) as any;
        let o = copy;
        for (const k of path.slice(0, -1)) o = o[k];
        o[path.at(-1)!] += bad;
        const res = await t.post("/api/v1/lineage", copy);
        assert.ok(
          res.status === 201 || res.status === 400,
          `${path.join(".")} ${JSON.stringify(bad)}: ${res.status}`,
        );
        statuses.add(res.status);
      }
    }
    assert.deepEqual([...statuses].sort(), [201, 400]);
  });

  it("keeps a literal backslash-u0000 (text, not NUL) in an error message as sent", async () => {
    const message = String.raw`could not open C:\u0000\data`;
    const res = await t.post(
      "/api/v1/lineage",
      runEvent("literal_escape", "FAIL", {
        run: { runId: "literal_escape-run", facets: { errorMessage: { message } } },
      }),
    );
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.warnings, undefined);
    const [run] = await t.store.query<{ error: string }>(
      sql`SELECT r.error FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'literal_escape'`,
    );
    assert.equal(run?.error, message);
  });
});
