// The HTTP surface itself: what GET / says, the bind address, and how a failed request is
// logged (a 500 on a 9.65 MB batch once wrote a 46 MB log line).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { MAX_LINE_BYTES } from "../../src/log.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { describeEachStore } from "../helpers/store.ts";

/** n distinct, valid run events in one JSON array. */
export function runBatch(n: number, job = "batch_job", pad = 0): string {
  return JSON.stringify(
    Array.from({ length: n }, (_, i) => ({
      type: "run",
      id: `evt-${job}-${i}`,
      job,
      run_id: `r-${i}`,
      status: "failed",
      started_at: "2026-11-21T02:00:00Z",
      ended_at: "2026-11-21T02:10:00Z",
      error: `boom ${i} ${"e".repeat(pad)}`,
    })),
  );
}

describeEachStore("HTTP server", (kind) => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(kind, { HOUSTON_HOST: "127.0.0.1" });
  });
  after(async () => {
    await t.close();
  });

  it("answers GET / with what Houston is and its routes", async () => {
    const res = await fetch(`${t.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = (await res.json()) as { service: string; routes: string[] };
    assert.equal(body.service, "houston");
    for (const route of ["GET /healthz", "GET /readyz", "POST /api/v1/events", "POST /api/v1/lineage"])
      assert.ok(body.routes.includes(route), `${route} in ${body.routes.join(", ")}`);
  });

  it("listens on HOUSTON_HOST only", () => {
    const addr = t.app.http.server.address();
    assert.ok(addr && typeof addr === "object");
    assert.equal(addr.address, "127.0.0.1");
  });

  it("logs a failed 3 MB batch's error in a line under 8 KB that still says what failed", async () => {
    // A store that cannot take the batch: the runs table is gone.
    await t.store.query(sql`ALTER TABLE runs RENAME TO runs_away`);
    try {
      const body = runBatch(3_000, "failing_job", 900);
      assert.ok(body.length > 3_000_000);
      const before = t.logs.length;
      const res = await t.post("/api/v1/events", body);
      assert.equal(res.status, 500);
      const lines = t.logs.slice(before);
      for (const line of lines)
        assert.ok(
          Buffer.byteLength(line) <= MAX_LINE_BYTES,
          `a log line of ${Buffer.byteLength(line)} bytes`,
        );
      const failed = lines
        .map((l) => JSON.parse(l) as Record<string, any>)
        .find((l) => l["msg"] === "request failed");
      assert.ok(failed, "the failure is logged");
      assert.equal(failed["requestId"], res.body.requestId);
      assert.match(JSON.stringify(failed["err"]), /runs.*does not exist/);
    } finally {
      await t.store.query(sql`ALTER TABLE runs_away RENAME TO runs`);
    }
  });
});
