import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { it } from "node:test";
import { sql } from "drizzle-orm";
import { seedDemo } from "../../src/cli/demo.ts";
import type { Store } from "../../src/db/client.ts";
import { ts } from "../../src/db/sql.ts";
import { describeEachStore, openTestStore } from "../helpers/store.ts";

/** A digest of everything the demo writes, ignoring surrogate ids and write times. */
async function fingerprint(store: Store): Promise<string> {
  const parts = await Promise.all([
    store.query(
      sql`SELECT namespace, name, tool, group_name, environment, owner, slack_channel FROM jobs ORDER BY namespace, name`,
    ),
    store.query(
      sql`SELECT j.name, r.external_id, r.status, r.started_at::text, r.ended_at::text, r.scheduled_for::text, r.rows::text,
            r.cpu_seconds, r.memory_mb, r.cost, r.error FROM runs r JOIN jobs j ON j.id = r.job_id ORDER BY j.name, r.external_id`,
    ),
    store.query(
      sql`SELECT d.name, u.updated_at::text, u.rows::text, u.schema_fingerprint, u.schema_changed FROM dataset_updates u
          JOIN datasets d ON d.id = u.dataset_id ORDER BY d.name, u.updated_at`,
    ),
    store.query(
      sql`SELECT t.name, r.status, r.environment, r.value, r.at::text FROM test_results r JOIN tests t ON t.id = r.test_id ORDER BY 1, 5, 3`,
    ),
    store.query(
      sql`SELECT artifact, kind, version, environment, status, at::text, project, tickets FROM deploys ORDER BY at, artifact`,
    ),
    store.query(
      sql`SELECT j.name, s.cron, s.timezone, s.grace_seconds FROM job_schedules s JOIN jobs j ON j.id = s.job_id ORDER BY 1`,
    ),
    store.query(sql`SELECT job_id, day::text, runs, failures, duration_p50_ms FROM run_daily ORDER BY 1, 2`),
    store.query(
      sql`SELECT count(*)::int AS slots, count(run_id)::int AS matched FROM expected_runs WHERE slot_at < '2026-11-22'`,
    ),
  ]);
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

describeEachStore("houston demo", (kind) => {
  it("seeds the same data twice: the second run adds nothing and changes nothing", async () => {
    const store = await openTestStore(kind);
    try {
      const until = new Date("2026-11-22T00:00:00Z");
      const now = new Date("2026-11-22T06:00:00Z");
      const first = await seedDemo(store, { until, now });
      const a = await fingerprint(store);
      const second = await seedDemo(store, { until, now });
      const b = await fingerprint(store);
      assert.equal(first.accepted, first.events);
      assert.equal(second.accepted, 0);
      assert.equal(second.duplicates, first.events);
      assert.equal(a, b);
      const [slots] = await store.query<{ slots: number; matched: number }>(
        sql`SELECT count(*)::int AS slots, count(run_id)::int AS matched FROM expected_runs WHERE slot_at < ${ts(until)}`,
      );
      assert.ok(slots!.slots > 1000, "30 days of expected slots");
      assert.ok(
        slots!.matched / slots!.slots > 0.95,
        `most slots matched (${slots!.matched}/${slots!.slots})`,
      );
    } finally {
      await store.dispose();
    }
  });
});
