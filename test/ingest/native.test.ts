import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LIMITS, SIZES } from "../../src/ingest/limits.ts";
import { parseBody, validateNativeEvent } from "../../src/ingest/native.ts";
import { toNativeEvent } from "../../src/ingest/serialize.ts";

const run = (extra: Record<string, unknown>) => ({
  type: "run",
  job: "nightly_orders",
  status: "success",
  started_at: "2026-12-01T02:00:00Z",
  ended_at: "2026-12-01T02:10:00Z",
  ...extra,
});

/** The one field error an event is refused with. */
function refusal(raw: unknown): { field: string; reason: string } {
  const r = validateNativeEvent(raw, 0);
  assert.equal(r.ok, false, `expected ${JSON.stringify(raw)} to be refused`);
  if (r.ok) throw new Error("unreachable");
  assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
  return { field: r.errors[0]!.field, reason: r.errors[0]!.reason };
}

describe("native event figures", () => {
  it("accepts figures up to their documented bounds", () => {
    const r = validateNativeEvent(
      run({
        rows: LIMITS.rows,
        cpu_seconds: LIMITS.cpuSeconds,
        memory_mb: LIMITS.memoryMb,
        cost: LIMITS.cost,
        exit_code: LIMITS.exitCodeMin,
      }),
      0,
    );
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(validateNativeEvent(run({ exit_code: LIMITS.exitCodeMax }), 0).ok, true);
  });

  it("refuses a figure beyond its bound, naming the field and the bound", () => {
    for (const [field, value, bound] of [
      ["cost", 1.5e308, "1000000000"],
      ["cpu_seconds", 1e10, "1000000000"],
      ["memory_mb", 1e9, "100000000"],
      ["rows", 1e16, "1000000000000000"],
      ["exit_code", 2 ** 31, "2147483647"],
    ] as const) {
      const e = refusal(run({ [field]: value }));
      assert.equal(e.field, field);
      assert.ok(e.reason.includes(`at most ${bound}`), `${field}: ${e.reason}`);
    }
    const low = refusal(run({ exit_code: -(2 ** 31) - 1 }));
    assert.equal(low.field, "exit_code");
    assert.match(low.reason, /at least -2147483648/);
  });

  it("says a number too large for JSON is too large, not that a number is not a number", () => {
    const parsed = parseBody(
      `{"type":"run","job":"a","status":"success","ended_at":"2026-12-01T02:10:00Z","rows":1e400}`,
    );
    assert.ok(parsed.ok);
    const e = refusal(parsed.items[0]!.value);
    assert.equal(e.field, "rows");
    assert.match(e.reason, /too large/);
    assert.doesNotMatch(e.reason, /got number/);
  });

  it("bounds a dataset's rows and bytes", () => {
    const ds = { type: "dataset", dataset: "orders", updated_at: "2026-12-01T02:10:00Z" };
    assert.equal(refusal({ ...ds, rows: 1e16 }).field, "rows");
    assert.equal(refusal({ ...ds, bytes: 2 ** 60 }).field, "bytes");
  });
});

describe("native event lists and free-form strings", () => {
  const ds = { type: "dataset", dataset: "orders", updated_at: "2026-12-01T02:10:00Z" };
  const test = { type: "test", test: "not_null_id", status: "fail", at: "2026-12-01T02:10:00Z" };
  const deploy = {
    type: "deploy",
    artifact: "orders_model",
    kind: "model",
    status: "success",
    at: "2026-12-01T02:10:00Z",
  };
  const field = (i: number) => ({ name: `c${i}`, type: "int" });

  it("accepts schemas, test values and tickets up to their documented sizes", () => {
    const schema = Array.from({ length: SIZES.schemaFields }, (_, i) => field(i));
    schema[0] = { name: "n".repeat(SIZES.schemaFieldName), type: "t".repeat(SIZES.schemaFieldType) };
    const tickets = Array.from({ length: SIZES.tickets }, () => "T".repeat(SIZES.ticket));
    for (const ev of [
      { ...ds, schema },
      { ...test, value: "v".repeat(SIZES.testValue) },
      { ...deploy, tickets },
    ]) {
      const r = validateNativeEvent(ev, 0);
      assert.equal(r.ok, true, JSON.stringify(r).slice(0, 300));
    }
  });

  it("refuses a list or string beyond its size, naming the field and the bound", () => {
    const cases: [object, string, RegExp][] = [
      [
        { ...ds, schema: Array.from({ length: SIZES.schemaFields + 1 }, (_, i) => field(i)) },
        "schema",
        /at most 5000/,
      ],
      [
        { ...ds, schema: [field(0), { name: "n".repeat(1_000_001), type: "int" }] },
        "schema[1].name",
        /at most 1000/,
      ],
      [
        { ...ds, schema: [{ name: "id", type: "t".repeat(SIZES.schemaFieldType + 1) }] },
        "schema[0].type",
        /at most 1000/,
      ],
      [{ ...test, value: "v".repeat(1_000_000) }, "value", /at most 1000/],
      [
        { ...deploy, tickets: Array.from({ length: 200_000 }, (_, i) => `T-${i}`) },
        "tickets",
        /at most 100 /,
      ],
      [{ ...deploy, tickets: ["T-1", "T".repeat(SIZES.ticket + 1)] }, "tickets[1]", /at most 255/],
    ];
    for (const [ev, name, reason] of cases) {
      const e = refusal(ev);
      assert.equal(e.field, name);
      assert.match(e.reason, reason);
    }
  });

  it("refuses NUL and lone surrogates in schema fields, test values and tickets, naming the field", () => {
    const cases: [object, string][] = [
      [{ ...ds, schema: [{ name: "a\u0000b", type: "int" }] }, "schema[0].name"],
      [{ ...ds, schema: [{ name: "id", type: "int\u0000" }] }, "schema[0].type"],
      [{ ...ds, schema: [{ name: "id\ud800", type: "int" }] }, "schema[0].name"],
      [{ ...test, value: "3\u0000" }, "value"],
      [{ ...test, value: "\udc00" }, "value"],
      [{ ...deploy, tickets: ["T-1", "T-2\u0000"] }, "tickets[1]"],
      [{ ...deploy, tickets: "T-1, T-2\ud83d" }, "tickets[1]"],
      [{ ...deploy, version: "v1\ud800" }, "version"],
    ];
    for (const [ev, name] of cases) {
      const e = refusal(ev);
      assert.equal(e.field, name);
      assert.match(e.reason, /NUL|surrogate/);
    }
  });

  it("accepts well-formed astral characters (a surrogate pair) anywhere", () => {
    const r = validateNativeEvent({ ...deploy, version: "v1 \ud83d\ude80", tickets: ["🚀-1"] }, 0);
    assert.equal(r.ok, true, JSON.stringify(r));
  });
});

describe("native inputs, outputs and bad_records", () => {
  it("accepts up to the documented number of datasets and the largest bad_records", () => {
    const names = Array.from({ length: SIZES.lineageDatasets }, (_, i) => `raw.t${i}`);
    const r = validateNativeEvent(run({ inputs: names, outputs: names, bad_records: LIMITS.badRecords }), 0);
    assert.ok(r.ok, JSON.stringify(r.ok ? "" : r.errors));
    assert.equal(r.event.type === "run" && r.event.inputs?.length, SIZES.lineageDatasets);
    assert.equal(r.event.type === "run" && r.event.badRecords, LIMITS.badRecords);
  });

  it("refuses one dataset over the number, naming the list", () => {
    const names = Array.from({ length: SIZES.lineageDatasets + 1 }, (_, i) => `raw.t${i}`);
    assert.deepEqual(refusal(run({ outputs: names })), {
      field: "outputs",
      reason: `has ${SIZES.lineageDatasets + 1} datasets; at most ${SIZES.lineageDatasets} are accepted`,
    });
  });

  it("writes a run's inputs, outputs and bad_records in the native form that reads back to the same event", () => {
    const r = validateNativeEvent(
      run({
        run_id: "r-1",
        inputs: ["raw.orders", "s3://landing/acme/x.csv", "default/a/b"],
        outputs: ["warehouse/analytics.fct_orders"],
        bad_records: 12,
      }),
      0,
    );
    assert.ok(r.ok);
    const again = validateNativeEvent(toNativeEvent(r.event), 0);
    assert.ok(again.ok);
    assert.deepEqual(again.event, r.event);
    const d = validateNativeEvent(
      { type: "dataset", dataset: "orders", updated_at: "2026-12-01T02:00:00Z", bad_records: 3 },
      0,
    );
    assert.ok(d.ok);
    assert.deepEqual(toNativeEvent(d.event)["bad_records"], 3);
  });
});
