// Keeps job_schedules in step with houston.yml (source "config") and expands slots.
import { sql } from "drizzle-orm";
import { datasetAliases, type DatasetSpec, type JobSpec } from "../houston-yml.ts";
import { DEFAULT_NAMESPACE } from "../ingest/events.ts";
import type { Store } from "./client.ts";
import { clearFutureSlots, expandSlots, loadSchedules } from "./slots.ts";
import { json } from "./sql.ts";

const HOUR = 3_600_000;
/** Slots are kept expanded this far ahead (the brief's "next 48 h"). */
export const SLOT_HORIZON_MS = 48 * HOUR;

export interface ScheduleRow {
  namespace: string;
  job: string;
  cron: string;
  timezone: string;
  graceSeconds: number;
}

/**
 * Writes schedules for a source ("config" or "demo"): creates missing jobs, replaces the
 * source's previous rows, and re-expands slots of jobs whose schedule changed.
 */
export async function upsertSchedules(
  store: Store,
  source: string,
  rows: ScheduleRow[],
  now: Date,
  replace = false,
) {
  const changed = await store.transaction(async (tx) => {
    const jobs = await store.query<{ id: number; namespace: string; name: string }>(
      sql`INSERT INTO jobs AS j (namespace, name)
          SELECT DISTINCT namespace, job FROM jsonb_to_recordset(${json(rows)}) AS x(namespace text, job text)
          ORDER BY 1, 2
          ON CONFLICT (namespace, name) DO UPDATE SET namespace = j.namespace
          RETURNING id, namespace, name`,
      tx,
    );
    const idOf = new Map(jobs.map((j) => [`${j.namespace}\u001f${j.name}`, j.id]));
    const input = rows.map((r) => ({
      job_id: idOf.get(`${r.namespace}\u001f${r.job}`)!,
      cron: r.cron,
      timezone: r.timezone,
      grace_seconds: r.graceSeconds,
    }));
    const ch = await store.query<{ job_id: number; is_new: boolean }>(
      sql`WITH input AS (SELECT * FROM jsonb_to_recordset(${json(input)})
            AS x(job_id int, cron text, timezone text, grace_seconds int)),
          old AS (SELECT s.* FROM job_schedules s JOIN input i USING (job_id)),
          up AS (
            INSERT INTO job_schedules AS s (job_id, cron, timezone, grace_seconds, source)
            SELECT job_id, cron, timezone, grace_seconds, ${source} FROM input ORDER BY job_id
            ON CONFLICT (job_id) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,
              grace_seconds = excluded.grace_seconds, source = excluded.source, updated_at = now()
            RETURNING s.job_id)
          SELECT i.job_id, o.job_id IS NULL AS is_new FROM input i LEFT JOIN old o USING (job_id)
          WHERE o.job_id IS NULL OR (o.cron, o.timezone, o.grace_seconds) IS DISTINCT FROM (i.cron, i.timezone, i.grace_seconds)`,
      tx,
    );
    if (replace) {
      const gone = await store.query<{ job_id: number; is_new: boolean }>(
        sql`DELETE FROM job_schedules WHERE source = ${source}
              AND job_id NOT IN (SELECT value::int FROM jsonb_array_elements_text(${json(input.map((i) => i.job_id))}))
            RETURNING job_id, false AS is_new`,
        tx,
      );
      ch.push(...gone);
    }
    return ch;
  });
  const ids = changed.map((c) => c.job_id);
  await clearFutureSlots(store, ids, now);
  const schedules = await loadSchedules(store, ids);
  const isNew = new Set(changed.filter((c) => c.is_new).map((c) => c.job_id));
  const horizon = new Date(now.getTime() + SLOT_HORIZON_MS);
  // A new schedule also covers the recent past (runs that arrived before the config did);
  // a changed one only the future: past slots belong to the schedule then in force.
  const recent = new Date(now.getTime() - SLOT_HORIZON_MS);
  await expandSlots(
    store,
    schedules.filter((s) => isNew.has(s.jobId)),
    recent,
    horizon,
  );
  await expandSlots(
    store,
    schedules.filter((s) => !isNew.has(s.jobId)),
    now,
    horizon,
  );
  return ids.length;
}

/** Applies houston.yml's jobs: attributes (owner, channel, group) and schedules. */
export async function syncConfigJobs(store: Store, specs: JobSpec[], now: Date): Promise<number> {
  // A spec without namespace names the job in whichever namespace it appears; before the
  // job has ever reported, it is created in the default namespace.
  const existing = await store.query<{ namespace: string; name: string }>(
    sql`SELECT namespace, name FROM jobs WHERE name IN (SELECT value FROM jsonb_array_elements_text(${json(specs.map((s) => s.name))}))`,
  );
  const targets: (JobSpec & { namespace: string })[] = [];
  for (const s of specs) {
    if (s.namespace) targets.push({ ...s, namespace: s.namespace });
    else {
      const found = existing.filter((e) => e.name === s.name);
      if (found.length === 0) targets.push({ ...s, namespace: DEFAULT_NAMESPACE });
      for (const f of found) targets.push({ ...s, namespace: f.namespace });
    }
  }
  if (targets.length) {
    await store.query(
      sql`INSERT INTO jobs AS j (namespace, name, owner, slack_channel, group_name)
          SELECT namespace, name, owner, channel, grp FROM jsonb_to_recordset(${json(
            targets.map((t) => ({
              namespace: t.namespace,
              name: t.name,
              owner: t.owner,
              channel: t.channel,
              grp: t.group,
            })),
          )}) AS x(namespace text, name text, owner text, channel text, grp text)
          ORDER BY 1, 2
          ON CONFLICT (namespace, name) DO UPDATE SET
            owner = coalesce(excluded.owner, j.owner),
            slack_channel = coalesce(excluded.slack_channel, j.slack_channel),
            group_name = coalesce(excluded.group_name, j.group_name)`,
    );
  }
  const withSchedule = targets.filter((t) => t.schedule);
  return upsertSchedules(
    store,
    "config",
    withSchedule.map((t) => ({
      namespace: t.namespace,
      job: t.name,
      cron: t.schedule!,
      timezone: t.timezone,
      graceSeconds: t.graceSeconds,
    })),
    now,
    true,
  );
}

/** Keeps every schedule expanded up to the horizon; cheap and idempotent (runs periodically). */
export async function extendSlots(store: Store, now: Date): Promise<number> {
  const schedules = await loadSchedules(store);
  return expandSlots(
    store,
    schedules,
    new Date(now.getTime() - 2 * HOUR),
    new Date(now.getTime() + SLOT_HORIZON_MS),
  );
}

export interface DatasetSlaRow {
  namespace: string;
  name: string;
  maxAgeSeconds?: number | undefined;
  expectedArrival?: string | undefined;
  timezone: string;
  supplier?: string | undefined;
  owner?: string | undefined;
}

/**
 * Writes dataset SLAs for a source ("config" or "demo"); with `replace`, SLAs that source
 * declared before and no longer does are cleared.
 */
export async function upsertDatasetSlas(
  store: Store,
  source: string,
  rows: DatasetSlaRow[],
  replace = false,
) {
  await store.transaction(async (tx) => {
    const input = rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      max_age_seconds: r.maxAgeSeconds ?? null,
      expected_arrival: r.expectedArrival ?? null,
      arrival_timezone: r.expectedArrival ? r.timezone : null,
      supplier: r.supplier ?? null,
      owner: r.owner ?? null,
    }));
    const ids = await store.query<{ id: number }>(
      sql`INSERT INTO datasets AS d (namespace, name, max_age_seconds, expected_arrival, arrival_timezone,
            supplier, owner, sla_source)
          SELECT namespace, name, max_age_seconds, expected_arrival, arrival_timezone, supplier, owner, ${source}
          FROM jsonb_to_recordset(${json(input)}) AS x(namespace text, name text, max_age_seconds int,
            expected_arrival text, arrival_timezone text, supplier text, owner text)
          ORDER BY 1, 2
          ON CONFLICT (namespace, name) DO UPDATE SET
            max_age_seconds = excluded.max_age_seconds, expected_arrival = excluded.expected_arrival,
            arrival_timezone = excluded.arrival_timezone, sla_source = excluded.sla_source,
            supplier = coalesce(excluded.supplier, d.supplier), owner = coalesce(excluded.owner, d.owner)
          RETURNING d.id`,
      tx,
    );
    if (replace) {
      await store.query(
        sql`UPDATE datasets SET max_age_seconds = NULL, expected_arrival = NULL, arrival_timezone = NULL, sla_source = NULL
            WHERE sla_source = ${source}
              AND id NOT IN (SELECT value::int FROM jsonb_array_elements_text(${json(ids.map((i) => i.id))}))`,
        tx,
      );
    }
  });
}

/**
 * Replaces the lineage aliases with `rows` (houston.yml is their only source): an alias
 * removed from the file stops joining its edges at once.
 */
export async function replaceDatasetAliases(
  store: Store,
  rows: { alias: string; dataset: string }[],
): Promise<void> {
  await store.transaction(async (tx) => {
    await store.query(sql`DELETE FROM dataset_aliases`, tx);
    if (rows.length)
      await store.query(
        sql`INSERT INTO dataset_aliases (alias, dataset)
            SELECT alias, dataset FROM jsonb_to_recordset(${json(rows)}) AS x(alias text, dataset text)
            ON CONFLICT (alias) DO NOTHING`,
        tx,
      );
  });
}

/** Applies houston.yml's datasets: SLAs, supplier, owner and lineage aliases. */
export async function syncConfigDatasets(store: Store, specs: DatasetSpec[]): Promise<void> {
  await replaceDatasetAliases(store, datasetAliases(specs));
  const existing = await store.query<{ namespace: string; name: string }>(
    sql`SELECT namespace, name FROM datasets
        WHERE name IN (SELECT value FROM jsonb_array_elements_text(${json(specs.map((s) => s.name))}))`,
  );
  const rows: DatasetSlaRow[] = [];
  for (const s of specs) {
    const namespaces = s.namespace
      ? [s.namespace]
      : existing.filter((e) => e.name === s.name).map((e) => e.namespace);
    if (namespaces.length === 0) namespaces.push(DEFAULT_NAMESPACE);
    for (const namespace of namespaces) rows.push({ ...s, namespace });
  }
  await upsertDatasetSlas(store, "config", rows, true);
}
