// Retention: history older than HOUSTON_RETENTION_DAYS is deleted in small batches so
// pruning never holds long locks or bloats one transaction.
import { sql } from "drizzle-orm";
import type { Store } from "./client.ts";
import { ts } from "./sql.ts";

const BATCH = 10_000;
/** Idempotency keys only need to outlive producers' retries. */
const EVENT_ID_DAYS = 35;
/** Expected slots answer "what was missed" questions; a quarter of history is plenty. */
const SLOT_DAYS = 90;
/** Outbox rows, webhook ids and cron claims. */
const OPS_DAYS = 30;

export async function pruneHistory(
  store: Store,
  now: Date,
  retentionDays: number,
): Promise<Record<string, number>> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const slotCutoff = new Date(now.getTime() - Math.min(retentionDays, SLOT_DAYS) * 86_400_000);
  const idCutoff = new Date(now.getTime() - Math.min(retentionDays, EVENT_ID_DAYS) * 86_400_000);
  const deleted: Record<string, number> = {};
  const loop = async (name: string, stmt: () => ReturnType<typeof sql>) => {
    let total = 0;
    for (;;) {
      const rows = await store.query<{ n: number }>(
        sql`WITH d AS (${stmt()} RETURNING 1) SELECT count(*)::int AS n FROM d`,
      );
      const n = rows[0]?.n ?? 0;
      total += n;
      if (n < BATCH) break;
    }
    deleted[name] = total;
  };
  await loop(
    "runs",
    () => sql`DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE run_at < ${ts(cutoff)} LIMIT ${BATCH})`,
  );
  // The cutoff's own UTC day lost some runs: recompute its rollup at the next flush.
  await store.query(
    sql`INSERT INTO rollup_dirty (job_id, day)
        SELECT job_id, day FROM run_daily WHERE day = (${ts(cutoff)} AT TIME ZONE 'UTC')::date`,
  );
  await loop(
    "run_daily",
    () => sql`DELETE FROM run_daily WHERE (job_id, day) IN (SELECT job_id, day FROM run_daily
      WHERE day < (${ts(cutoff)} AT TIME ZONE 'UTC')::date LIMIT ${BATCH})`,
  );
  await loop(
    "expected_runs",
    () => sql`DELETE FROM expected_runs WHERE (job_id, slot_at) IN (SELECT job_id, slot_at FROM expected_runs
      WHERE slot_at < ${ts(slotCutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "dataset_updates",
    () =>
      sql`DELETE FROM dataset_updates WHERE id IN (SELECT id FROM dataset_updates WHERE updated_at < ${ts(cutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "test_results",
    () =>
      sql`DELETE FROM test_results WHERE id IN (SELECT id FROM test_results WHERE at < ${ts(cutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "deploys",
    () =>
      sql`DELETE FROM deploys WHERE id IN (SELECT id FROM deploys WHERE at < ${ts(cutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "ingested_events",
    () =>
      sql`DELETE FROM ingested_events WHERE id IN (SELECT id FROM ingested_events WHERE received_at < ${ts(idCutoff)} LIMIT ${BATCH})`,
  );
  // A lineage edge nobody has reported for the whole retention describes a pipeline that is
  // gone; a dataset event's claim on a run that never arrived stops waiting with the ids.
  await loop(
    "lineage_edges",
    () => sql`DELETE FROM lineage_edges WHERE (job_id, direction, dataset) IN (
      SELECT job_id, direction, dataset FROM lineage_edges WHERE last_seen < ${ts(cutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "lineage_pending_writes",
    () => sql`DELETE FROM lineage_pending_writes WHERE (run_external_id, dataset) IN (
      SELECT run_external_id, dataset FROM lineage_pending_writes WHERE last_seen < ${ts(idCutoff)} LIMIT ${BATCH})`,
  );
  // Delivery bookkeeping: kept a month for diagnosis, then dropped.
  const opsCutoff = new Date(now.getTime() - Math.min(retentionDays, OPS_DAYS) * 86_400_000);
  await loop(
    "outbox",
    () => sql`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state <> 'pending'
      AND coalesce(delivered_at, next_attempt_at) < ${ts(opsCutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "webhook_deliveries",
    () => sql`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
      WHERE received_at < ${ts(opsCutoff)} LIMIT ${BATCH})`,
  );
  await loop(
    "cron_claims",
    () => sql`DELETE FROM cron_claims WHERE (task, slot) IN (SELECT task, slot FROM cron_claims
      WHERE slot < ${ts(opsCutoff)} LIMIT ${BATCH})`,
  );
  return deleted;
}
