import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LIMITS } from "../../src/ingest/limits.ts";
import { parseBody, validateNativeEvent } from "../../src/ingest/native.ts";

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
