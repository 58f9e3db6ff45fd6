import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DatasetEvent, HoustonEvent, JobEvent, RunEvent, TestEvent } from "../../src/ingest/events.ts";
import { type LineageMapResult, mapLineageEvent } from "../../src/ingest/openlineage.ts";
import { FIXTURES_DIR, openLineageFixture, openLineageFixtures } from "../helpers/fixtures.ts";

const fixtures = openLineageFixtures();
const skip = fixtures ? false : `shared fixtures are absent (${FIXTURES_DIR}); see fixtures/README.md`;

function mapOk(raw: unknown, index = 0): { events: HoustonEvent[]; warnings: string[] } {
  const r = mapLineageEvent(raw, index);
  if (!r.ok) assert.fail(`expected ok, got errors: ${JSON.stringify(r.errors)}`);
  return r;
}

function mapErr(raw: unknown, index = 0) {
  const r = mapLineageEvent(raw, index);
  if (r.ok) assert.fail(`expected errors, got events: ${JSON.stringify(r.events)}`);
  return r.errors;
}

const runs = (es: HoustonEvent[]) => es.filter((e): e is RunEvent => e.type === "run");
const datasets = (es: HoustonEvent[]) => es.filter((e): e is DatasetEvent => e.type === "dataset");
const tests = (es: HoustonEvent[]) => es.filter((e): e is TestEvent => e.type === "test");

/** All Houston events of one fixture file, in order. */
function mapFixture(suffix: string): HoustonEvent[] {
  return openLineageFixture(suffix).events.flatMap((e, i) => mapOk(e, i).events);
}

function validRun(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventType: "START",
    eventTime: "2026-11-03T02:00:00Z",
    run: { runId: "0d9c8e2a-1111-4222-8333-944455556666" },
    job: { namespace: "prod", name: "orders_daily" },
    producer: "https://example.com/producer",
    schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    ...overrides,
  };
}

describe("the OpenLineage fixtures", { skip }, () => {
  test("every event of every fixture maps without errors", () => {
    let count = 0;
    for (const { file, events } of fixtures!) {
      events.forEach((e, i) => {
        const r = mapLineageEvent(e, i);
        assert.ok(r.ok, `${file} event ${i}: ${JSON.stringify(!r.ok && r.errors)}`);
        count++;
      });
    }
    assert.ok(count >= 300, `expected the full fixture set, mapped ${count} events`);
  });

  test("the loader leaves no placeholder behind and is deterministic", () => {
    const text = JSON.stringify(fixtures);
    assert.doesNotMatch(text, /\{\{|json-unit/);
    assert.deepEqual(openLineageFixtures(), fixtures);
  });

  test("the Marquez docker template parses into its 26 events with real times", () => {
    const { events } = openLineageFixture("docker__metadata.template.json");
    assert.equal(events.length, 26);
    const mapped = events.flatMap((e, i) => mapOk(e, i).events);
    const menus = runs(mapped).filter((r) => r.job === "etl_menus");
    assert.equal(menus.length, 2);
    assert.equal(menus[0]!.runId, menus[1]!.runId);
    assert.equal(menus[1]!.status, "success");
    // {{RUN_END_TIME_AFTER_8_MINUTES}} lands 8 minutes after {{RUN_START_TIME}}.
    assert.equal(menus[1]!.endedAt!.getTime() - menus[0]!.startedAt!.getTime(), 8 * 60_000);
    assert.equal(menus[0]!.scheduledFor?.toISOString(), "2020-02-22T22:00:00.000Z");
  });

  test("every produced event has a unique id of at most 255 characters, the same on every mapping", () => {
    for (const { file, events } of fixtures!) {
      const ids = events.flatMap((e, i) => mapOk(e, i).events.map((h) => h.id));
      const again = events.flatMap((e, i) => mapOk(e, i).events.map((h) => h.id));
      assert.deepEqual(again, ids, file);
      for (const id of ids) {
        assert.ok(typeof id === "string" && id.length > 0 && id.length <= 255, `${file}: ${id}`);
      }
      assert.equal(new Set(ids).size, ids.length, `${file} has duplicate ids`);
    }
  });

  test("a failed dbt run yields failed runs carrying dbt's error message and parent links", () => {
    const mapped = mapFixture("failed_run_ol_events.json");
    const all = runs(mapped);
    const model = all.find((r) => r.job === "model.jaffle_shop.orders" && r.status === "failed");
    assert.ok(model);
    assert.match(model.error ?? "", /^Database Error in model orders/);
    assert.equal(model.endedAt?.toISOString(), "2024-11-22T15:58:08.958Z");
    assert.equal(model.startedAt, undefined);
    assert.equal(model.tool, "dbt");
    assert.equal(model.group, "dbt-run-jaffle_shop");
    const parent = all.find((r) => r.job === "dbt-run-jaffle_shop" && r.status === "failed");
    assert.ok(parent);
    assert.equal(model.parentRunId, parent.runId);
    assert.match(parent.error ?? "", /dbt run` failed/);
    // START and FAIL of one dbt node share its runId.
    const start = all.find((r) => r.job === "model.jaffle_shop.orders" && r.status === "running");
    assert.equal(start?.runId, model.runId);
    // A failed run wrote nothing: no dataset updates.
    assert.equal(datasets(mapped).length, 0);
  });

  test("dbt test events yield pass and fail test events on the tested dataset", () => {
    const mapped = mapFixture("test_ol_events.json");
    const t = tests(mapped);
    assert.equal(t.length, 4);
    const failed = t.find((x) => x.status === "fail");
    assert.ok(failed);
    assert.equal(failed.test, "accepted_values (first_name)");
    assert.equal(failed.dataset, "postgres.public.customers");
    assert.equal(failed.datasetNamespace, "postgres://postgres:5432");
    assert.equal(failed.job, "test.jaffle_shop.accepted_values_customers_first_name__Jane.21e890a312");
    assert.equal(failed.jobNamespace, "dbt-test-namespace");
    assert.equal(failed.at.toISOString(), "2024-12-17T10:03:22.793Z");
    const failedRun = runs(mapped).find((r) => r.job === failed.job && r.status === "failed");
    assert.equal(failed.runId, failedRun?.runId);
    assert.deepEqual(
      t.filter((x) => x.status === "pass").map((x) => x.test),
      ["not_null (customer_id)", "relationships (customer_id)", "unique (customer_id)"],
    );
  });

  test("a dbt build yields test events for every assertion it reports", () => {
    const t = tests(mapFixture("build_ol_events.json"));
    assert.equal(t.length, 12);
    assert.equal(t.filter((x) => x.status === "fail").length, 1);
  });

  test("a complete event with output statistics yields a dataset update with rows, bytes and schema", () => {
    for (const suffix of ["event_full.json", "client__python__tests__example_full_event.json"]) {
      const mapped = mapFixture(suffix);
      const [run] = runs(mapped);
      const [out] = datasets(mapped);
      assert.ok(run && out, suffix);
      assert.equal(run.status, "success");
      assert.equal(run.rows, 2000);
      assert.equal(out.namespace, "my-datasource-namespace");
      assert.equal(out.dataset, "instance.schema.table");
      assert.equal(out.rows, 2000);
      assert.equal(out.bytes, 2097152);
      assert.deepEqual(out.schema, [{ name: "column1", type: "VARCHAR" }]);
      assert.equal(out.runId, run.runId);
      assert.deepEqual(out.producer, { namespace: "my-scheduler-namespace", job: "myjob.mytask" });
      assert.equal(out.updatedAt.toISOString(), "2020-12-28T19:51:01.641Z");
      assert.equal(run.group, "myjob.mytask");
      assert.equal(run.parentRunId, "3f5e83fa-3480-44ff-99c5-ff943904e5e8");
      assert.equal(run.scheduledFor?.toISOString(), "2020-12-17T03:00:00.001Z");
      // Assertions sit in inputs[].inputFacets here (the spec's place).
      assert.deepEqual(
        tests(mapped).map((x) => [x.test, x.status]),
        [
          ["row_count_equal_to", "pass"],
          ["no_null_values (id)", "pass"],
        ],
      );
    }
    assert.equal(runs(mapFixture("event_full.json"))[0]!.tool, "flink");
  });

  test("the spark complete event yields its output with schema but no row count, as it sends none", () => {
    const mapped = mapFixture("pysparkHiveCompleteEvent.json");
    const [run] = runs(mapped);
    assert.equal(run?.status, "success");
    assert.equal(run?.tool, "spark");
    assert.equal(run?.rows, undefined);
    const [out] = datasets(mapped);
    assert.equal(out?.namespace, "file");
    assert.equal(out?.dataset, "/tmp/warehouse/test");
    assert.equal(out?.rows, undefined);
    assert.deepEqual(out?.schema, [
      { name: "key", type: "integer" },
      { name: "value", type: "string" },
    ]);
    // The start half of the same run shares its runId and writes nothing.
    const start = mapFixture("pysparkHiveStartEvent.json");
    assert.equal(runs(start)[0]?.runId, run?.runId);
    assert.equal(datasets(start).length, 0);
  });

  test("the flink failed event yields a failed run with its error message", () => {
    const [run] = runs(mapFixture("expected_failed.json"));
    assert.equal(run?.status, "failed");
    assert.equal(run?.error, "Application Status: FAILED");
    assert.equal(run?.tool, "flink");
  });

  test("nanosecond and zone-less event times parse to the same instant", () => {
    const nano = runs(mapFixture("event_required_nanoseconds.json"))[0]!;
    const noZone = runs(mapFixture("event_required_no_timezone.json"))[0]!;
    assert.equal(nano.eventTime.toISOString(), "2020-12-28T19:51:01.641Z");
    assert.equal(noZone.eventTime.toISOString(), "2020-12-28T19:51:01.641Z");
    // No eventType: a running run started at the event time.
    assert.equal(nano.status, "running");
    assert.equal(nano.startedAt?.toISOString(), "2020-12-28T19:51:01.641Z");
  });

  test("an offset event time is converted to UTC", () => {
    const [run] = runs(mapFixture("event_simple.json"));
    assert.equal(run?.endedAt?.toISOString(), "2020-12-28T09:52:00.001Z");
  });

  test("a start event with only a nominal start time sets scheduledFor and writes no outputs", () => {
    const mapped = mapFixture("null_nominal_end_time.json");
    assert.equal(runs(mapped)[0]?.scheduledFor?.toISOString(), "2020-12-17T03:00:00.001Z");
    assert.equal(datasets(mapped).length, 0);
  });

  test("a date-only nominal time from the python client parses as midnight UTC", () => {
    const [run] = runs(mapFixture("serde_example_run_event.json"));
    assert.equal(run?.scheduledFor?.toISOString(), "2020-01-01T00:00:00.000Z");
    assert.equal(run?.eventTime.toISOString(), "2021-11-03T10:53:52.427Z");
  });

  test("the dataset-only event maps to one dataset update with its schema", () => {
    const mapped = mapFixture("event_dataset_event.json");
    assert.equal(mapped.length, 1);
    const d = mapped[0] as DatasetEvent;
    assert.equal(d.type, "dataset");
    assert.equal(d.namespace, "my-dataset-namespace");
    assert.equal(d.dataset, "my-dataset-name");
    assert.equal(d.updatedAt.toISOString(), "2020-12-28T09:52:00.001Z");
    assert.deepEqual(d.schema, [{ name: "col_a", type: "VARCHAR" }]);
    assert.equal(d.runId, undefined);
  });

  test("the job-only event maps to one job event and no dataset updates", () => {
    const mapped = mapFixture("event_job_event.json");
    assert.equal(mapped.length, 1);
    const j = mapped[0] as JobEvent;
    assert.equal(j.type, "job");
    assert.equal(j.namespace, "my-scheduler-namespace");
    assert.equal(j.job, "myjob");
  });

  test("a missing schemaURL or producer gives a warning, not an error", () => {
    const noSchema = mapOk(openLineageFixture("event_without_schema_url.json").events[0]);
    assert.deepEqual(noSchema.warnings, [
      "event 0: missing schemaURL; accepted (OpenLineage spec requires it)",
    ]);
    const dbt = mapOk(openLineageFixture("failed_run_ol_events.json").events[3], 3);
    assert.ok(dbt.warnings.includes("event 3: missing producer; accepted (OpenLineage spec requires it)"));
  });

  test("unicode job names and the 220 KB event map intact", () => {
    assert.equal(runs(mapFixture("event_unicode.json"))[0]?.job, "myjob.buggy_task🕷");
    const large = mapFixture("event_large.json");
    assert.equal(runs(large)[0]?.status, "success");
  });

  test("the spark expected-output files really lack eventTime and runId, which the mapper refuses", () => {
    // Why the loader completes them: see test/helpers/fixtures.ts.
    const raw = openLineageFixture("pysparkHiveStartEvent.json").events[0] as Record<string, unknown>;
    const { eventTime: _t, ...rest } = raw;
    const run = { ...(raw["run"] as Record<string, unknown>) };
    delete run["runId"];
    const fields = mapErr({ ...rest, run }).map((e) => e.field);
    assert.deepEqual(fields.sort(), ["eventTime", "run.runId"]);
  });
});

describe("mapping hand-made OpenLineage events", () => {
  const statuses: [string | undefined, RunEvent["status"], "startedAt" | "endedAt"][] = [
    ["START", "running", "startedAt"],
    ["RUNNING", "running", "startedAt"],
    ["OTHER", "running", "startedAt"],
    [undefined, "running", "startedAt"],
    ["COMPLETE", "success", "endedAt"],
    ["FAIL", "failed", "endedAt"],
    ["ABORT", "cancelled", "endedAt"],
  ];
  for (const [eventType, status, timeField] of statuses) {
    test(`eventType ${eventType ?? "(absent)"} becomes a ${status} run with ${timeField} at the event time`, () => {
      const [run] = runs(mapOk(validRun({ eventType })).events);
      assert.equal(run?.status, status);
      assert.equal(run?.[timeField]?.toISOString(), "2026-11-03T02:00:00.000Z");
      assert.equal(run?.[timeField === "startedAt" ? "endedAt" : "startedAt"], undefined);
      assert.equal(run?.eventTime.toISOString(), "2026-11-03T02:00:00.000Z");
      assert.equal(
        run?.id,
        `ol:0d9c8e2a-1111-4222-8333-944455556666:${eventType ?? "OTHER"}:2026-11-03T02:00:00Z:run`,
      );
    });
  }

  test("a lower-case eventType is accepted", () => {
    assert.equal(runs(mapOk(validRun({ eventType: "complete" })).events)[0]?.status, "success");
  });

  test("null is refused as not an object", () => {
    const [e] = mapErr(null, 4);
    assert.equal(e?.field, "(event)");
    assert.equal(e?.index, 4);
    assert.match(e!.reason, /got null/);
  });

  test("an array is refused as not an object", () => {
    assert.match(mapErr([validRun()])[0]!.reason, /got an array/);
  });

  test("numbers, strings and undefined are refused without throwing", () => {
    for (const v of [42, "hello", undefined, true]) assert.equal(mapErr(v)[0]?.field, "(event)");
  });

  test("an object that is no OpenLineage event is refused with a clear reason", () => {
    const [e] = mapErr({ eventTime: "2026-11-03T02:00:00Z" });
    assert.equal(e?.field, "(event)");
    assert.match(e!.reason, /RunEvent.*DatasetEvent.*JobEvent/);
  });

  test("a missing run.runId names run.runId", () => {
    const errors = mapErr(validRun({ run: { facets: {} } }));
    assert.deepEqual(
      errors.map((e) => e.field),
      ["run.runId"],
    );
  });

  test("an eventTime of 'yesterday' names eventTime", () => {
    const [e] = mapErr(validRun({ eventTime: "yesterday" }));
    assert.equal(e?.field, "eventTime");
    assert.match(e!.reason, /not an ISO 8601 timestamp/);
  });

  test("a missing eventTime names eventTime", () => {
    const { eventTime: _, ...rest } = validRun();
    assert.equal(mapErr(rest)[0]?.field, "eventTime");
  });

  test("an eventType of EXPLODED names eventType", () => {
    const [e] = mapErr(validRun({ eventType: "EXPLODED" }));
    assert.equal(e?.field, "eventType");
    assert.match(e!.reason, /"EXPLODED" is not one of START, RUNNING, OTHER, COMPLETE, FAIL, ABORT/);
  });

  test("a job.name of 42 names job.name and says what was expected", () => {
    const [e] = mapErr(validRun({ job: { namespace: "prod", name: 42 } }));
    assert.equal(e?.field, "job.name");
    assert.equal(e?.reason, "expected a non-empty string, got number");
  });

  test("a run without a job names job", () => {
    const { job: _, ...rest } = validRun();
    assert.equal(mapErr(rest)[0]?.field, "job");
  });

  test("every problem of an event is reported at once", () => {
    const errors = mapErr(
      validRun({ eventTime: "nope", eventType: 7, run: { runId: "" }, job: { namespace: "", name: null } }),
    );
    assert.deepEqual(errors.map((e) => e.field).sort(), [
      "eventTime",
      "eventType",
      "job.name",
      "job.namespace",
      "run.runId",
    ]);
  });

  test("a malformed outputs list names the broken entry", () => {
    assert.equal(mapErr(validRun({ outputs: "t" }))[0]?.field, "outputs");
    const [e] = mapErr(validRun({ outputs: [{ namespace: "db", name: "a" }, { namespace: "db" }] }));
    assert.equal(e?.field, "outputs[1].name");
  });

  test("a dataset event without a name names dataset.name", () => {
    const [e] = mapErr({ eventTime: "2026-11-03T02:00:00Z", dataset: { namespace: "db" } });
    assert.equal(e?.field, "dataset.name");
  });

  test("a job event needs an eventTime like every OpenLineage event", () => {
    assert.equal(mapErr({ job: { namespace: "a", name: "b" } })[0]?.field, "eventTime");
  });

  test("a complete event maps outputs, flattens nested schema fields and takes owners", () => {
    const { events, warnings } = mapOk(
      validRun({
        eventType: "COMPLETE",
        job: {
          namespace: "prod",
          name: "orders_daily",
          facets: {
            jobType: { integration: "AIRFLOW", jobType: "TASK" },
            ownership: { owners: [{ name: "team:data-eng", type: "TEAM" }, { name: "bob" }] },
          },
        },
        run: {
          runId: "r-1",
          facets: {
            parent: { run: { runId: "dag-run-1" }, job: { namespace: "prod", name: "orders_dag" } },
            environmentVariables: { environmentVariables: [{ name: "ENVIRONMENT", value: "staging" }] },
          },
        },
        outputs: [
          {
            namespace: "postgres://db:5432",
            name: "public.orders",
            outputFacets: { outputStatistics: { rowCount: 10, size: 2048 } },
            facets: {
              schema: {
                fields: [
                  { name: "id", type: "INT" },
                  { name: "address", type: "STRUCT", fields: [{ name: "city" }, { name: 7 }] },
                ],
              },
              ownership: { owners: [{ name: "alice" }] },
            },
          },
          {
            namespace: "s3://bucket",
            name: "exports/orders.csv",
            outputFacets: { outputStatistics: { rowCount: 5 } },
          },
        ],
      }),
    );
    const [run] = runs(events);
    assert.equal(run?.tool, "airflow");
    assert.equal(run?.owner, "team:data-eng");
    assert.equal(run?.group, "orders_dag");
    assert.equal(run?.parentRunId, "dag-run-1");
    assert.equal(run?.environment, "staging");
    assert.equal(run?.rows, 15);
    const [a, b] = datasets(events);
    assert.deepEqual(a?.schema, [
      { name: "id", type: "INT" },
      { name: "address", type: "STRUCT" },
      { name: "address.city", type: "unknown" },
    ]);
    assert.equal(a?.owner, "alice");
    assert.equal(a?.bytes, 2048);
    assert.equal(a?.id, "ol:r-1:COMPLETE:2026-11-03T02:00:00Z:out:0");
    assert.equal(b?.rows, 5);
    assert.equal(b?.bytes, undefined);
    assert.ok(warnings.some((w) => /outputs\[0\]\.facets\.schema\.fields: 1 field/.test(w)));
  });

  test("no environment is invented when no facet carries one", () => {
    assert.equal(runs(mapOk(validRun()).events)[0]?.environment, undefined);
  });

  test("a malformed facet is skipped with a warning and the run is kept", () => {
    const { events, warnings } = mapOk(
      validRun({
        eventType: "COMPLETE",
        run: {
          runId: "r-2",
          facets: { nominalTime: { nominalStartTime: "soon" }, errorMessage: { message: 5 } },
        },
        outputs: [{ namespace: "db", name: "t", outputFacets: { outputStatistics: { rowCount: -3 } } }],
        inputs: [
          {
            namespace: "db",
            name: "s",
            facets: { dataQualityAssertions: { assertions: [{ assertion: "x" }] } },
          },
        ],
      }),
    );
    assert.equal(runs(events)[0]?.scheduledFor, undefined);
    assert.equal(datasets(events)[0]?.rows, undefined);
    assert.equal(tests(events).length, 0);
    assert.equal(warnings.length, 4);
  });

  test("ids stay within 255 characters for very long run ids and names", () => {
    const long = "x".repeat(250);
    const { events } = mapOk(
      validRun({
        eventType: "COMPLETE",
        run: { runId: long },
        outputs: [{ namespace: "db", name: long }],
      }),
    );
    for (const e of events) assert.ok(e.id && e.id.length <= 255 && e.id.startsWith("ol:sha1:"), e.id);
    assert.notEqual(events[0]?.id, events[1]?.id);
  });

  test("deeply nested schemas, huge lists and throwing getters never throw", () => {
    let field: Record<string, unknown> = { name: "leaf" };
    for (let i = 0; i < 50_000; i++) field = { name: `f${i}`, fields: [field] };
    const nested = mapLineageEvent(
      {
        eventTime: "2026-11-03T02:00:00Z",
        dataset: { namespace: "db", name: "t", facets: { schema: { fields: [field] } } },
      },
      0,
    );
    assert.ok(nested.ok);
    const many = mapLineageEvent(
      validRun({ inputs: Array.from({ length: 100_000 }, () => ({ namespace: 1 })) }),
      0,
    );
    assert.ok(!many.ok && many.errors.length <= 25);
    const hostile = validRun();
    Object.defineProperty(hostile, "job", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const r: LineageMapResult = mapLineageEvent(hostile, 2);
    assert.ok(!r.ok);
    assert.equal(r.errors[0]?.index, 2);
  });

  test("schema fields whose name or type is over 1,000 characters are skipped with a warning", () => {
    const { events, warnings } = mapOk({
      eventTime: "2026-11-03T02:00:00Z",
      dataset: {
        namespace: "db",
        name: "t",
        facets: {
          schema: {
            fields: [
              { name: "id", type: "int" },
              { name: "n".repeat(1_000_000), type: "text" },
              { name: "ok", type: "t".repeat(1_001) },
              { name: "parent", type: "struct", fields: [{ name: "c".repeat(995), type: "int" }] },
            ],
          },
        },
      },
    });
    assert.deepEqual(datasets(events)[0]?.schema, [
      { name: "id", type: "int" },
      { name: "parent", type: "struct" },
    ]);
    assert.ok(
      warnings.some((w) => /dataset\.facets\.schema\.fields: 3 field/.test(w)),
      warnings.join("\n"),
    );
  });

  test("a long error message is cut without splitting a surrogate pair", () => {
    const message = `${"x".repeat(9_996)}\u{1F680}${"y".repeat(100)}`;
    const [run] = runs(
      mapOk(validRun({ eventType: "FAIL", run: { runId: "r", facets: { errorMessage: { message } } } }))
        .events,
    );
    assert.equal(run?.error, `${"x".repeat(9_996)}...`);
  });
});
