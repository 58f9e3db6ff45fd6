// Expected slots: schedules (cron + time zone + grace) expanded into expected_runs rows and
// matched to runs, so "which expected runs are missing" is a lookup of unmatched rows.
import { CronExpressionParser } from "cron-parser";
import { sql } from "drizzle-orm";
import type { Store } from "./client.ts";
import { json, ts } from "./sql.ts";

export interface Schedule {
  jobId: number;
  cron: string;
  timezone: string;
  graceSeconds: number;
}

const EVERY = /^@every\s+(\d+)([smhd])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The most a slot's window opens before the slot itself (a cron host's clock running fast). */
const MAX_EARLY_MS = 2 * 60_000;

/** Throws with a readable reason when the expression is neither a 5-field cron nor "@every N[smhd]". */
export function validateSchedule(cron: string, timezone: string): void {
  if (EVERY.test(cron.trim())) return;
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(`"${cron}" has ${fields.length} fields; expected 5 (minute hour day month weekday)`);
  }
  CronExpressionParser.parse(cron, { tz: timezone });
}

/** Slot instants at or after `from`, in order, without end (the caller stops). */
export function* slotsFrom(cron: string, timezone: string, from: Date): Generator<Date> {
  const every = EVERY.exec(cron.trim());
  if (every) {
    const step = Number(every[1]) * UNIT_MS[every[2]!]!;
    for (let t = Math.ceil(from.getTime() / step) * step; ; t += step) yield new Date(t);
  }
  const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(from.getTime() - 1) });
  for (;;) {
    const d = it.next().toDate();
    if (d.getTime() >= from.getTime()) yield d;
  }
}

/** Slot instants with from ≤ t < to, in order. */
export function slotsBetween(cron: string, timezone: string, from: Date, to: Date): Date[] {
  const out: Date[] = [];
  for (const d of slotsFrom(cron, timezone, from)) {
    if (d.getTime() >= to.getTime()) break;
    out.push(d);
  }
  return out;
}

function opensAt(slot: Date, next: Date): Date {
  return new Date(slot.getTime() - Math.min(MAX_EARLY_MS, (next.getTime() - slot.getTime()) / 4));
}

interface SlotRow {
  job_id: number;
  slot_at: Date;
  opens_at: Date;
  closes_at: Date;
  due_at: Date;
}

/** Rows for slots in [from, to); each needs the two following slots to place its window. */
export function expandSchedule(s: Schedule, from: Date, to: Date): SlotRow[] {
  // Each slot's window needs the next slot, and that one's window the slot after it:
  // take slots in [from, to) plus two more, however far away they are (yearly crons).
  const slots: Date[] = [];
  let beyond = 0;
  for (const d of slotsFrom(s.cron, s.timezone, from)) {
    slots.push(d);
    if (d.getTime() >= to.getTime() && ++beyond === 2) break;
  }
  const rows: SlotRow[] = [];
  for (let i = 0; i + 2 < slots.length && slots[i]! < to; i++) {
    const slot = slots[i]!;
    const next = slots[i + 1]!;
    rows.push({
      job_id: s.jobId,
      slot_at: slot,
      opens_at: opensAt(slot, next),
      closes_at: opensAt(next, slots[i + 2]!),
      due_at: new Date(slot.getTime() + s.graceSeconds * 1000),
    });
  }
  return rows;
}

export async function loadSchedules(store: Store, jobIds?: number[]): Promise<Schedule[]> {
  const rows = await store.query<{ job_id: number; cron: string; timezone: string; grace_seconds: number }>(
    jobIds
      ? sql`SELECT job_id, cron, timezone, grace_seconds FROM job_schedules
            WHERE job_id IN (SELECT value::int FROM jsonb_array_elements_text(${json(jobIds)}))`
      : sql`SELECT job_id, cron, timezone, grace_seconds FROM job_schedules`,
  );
  return rows.map((r) => ({
    jobId: r.job_id,
    cron: r.cron,
    timezone: r.timezone,
    graceSeconds: r.grace_seconds,
  }));
}

/**
 * Inserts the expected slots of [from, to) for the given schedules (idempotent), then
 * matches unmatched slots in that range to runs already stored (backfill, late config).
 */
export async function expandSlots(
  store: Store,
  schedules: Schedule[],
  from: Date,
  to: Date,
): Promise<number> {
  let inserted = 0;
  let batch: SlotRow[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const rows = await store.query<{ n: number }>(
      sql`WITH ins AS (
            INSERT INTO expected_runs (job_id, slot_at, opens_at, closes_at, due_at)
            SELECT job_id, slot_at, opens_at, closes_at, due_at
            FROM jsonb_to_recordset(${json(batch)}) AS x(job_id int, slot_at timestamptz, opens_at timestamptz,
              closes_at timestamptz, due_at timestamptz)
            ON CONFLICT (job_id, slot_at) DO NOTHING RETURNING 1)
          SELECT count(*)::int AS n FROM ins`,
    );
    inserted += rows[0]?.n ?? 0;
    batch = [];
  };
  for (const s of schedules) {
    for (const row of expandSchedule(s, from, to)) {
      batch.push(row);
      if (batch.length >= 5000) await flush();
    }
  }
  await flush();
  if (schedules.length)
    await matchSlots(
      store,
      schedules.map((s) => s.jobId),
      from,
      to,
    );
  return inserted;
}

/** Matches unmatched slots of these jobs in [from, to) to their first run in the slot window. */
export async function matchSlots(store: Store, jobIds: number[], from: Date, to: Date): Promise<void> {
  await store.query(
    sql`WITH m AS (
          SELECT e.job_id, e.slot_at, (
            SELECT r.id FROM runs r
            WHERE r.job_id = e.job_id
              -- run_at bounds keep this an index range scan on (job_id, run_at)
              AND r.run_at >= e.opens_at - interval '1 day' AND r.run_at < e.closes_at + interval '3 days'
              AND coalesce(r.scheduled_for, r.started_at) >= e.opens_at
              AND coalesce(r.scheduled_for, r.started_at) < e.closes_at
            ORDER BY coalesce(r.scheduled_for, r.started_at) LIMIT 1) AS run_id
          FROM expected_runs e
          WHERE e.run_id IS NULL AND e.slot_at >= ${ts(from)} AND e.slot_at < ${ts(to)}
            AND e.job_id IN (SELECT value::int FROM jsonb_array_elements_text(${json(jobIds)}))
        )
        UPDATE expected_runs e SET run_id = m.run_id FROM m
        WHERE e.job_id = m.job_id AND e.slot_at = m.slot_at AND m.run_id IS NOT NULL`,
  );
}

/** Removes future unmatched slots of a job whose schedule changed, so they can be re-expanded. */
export async function clearFutureSlots(store: Store, jobIds: number[], now: Date): Promise<void> {
  if (!jobIds.length) return;
  await store.query(
    sql`DELETE FROM expected_runs WHERE run_id IS NULL AND slot_at > ${ts(now)}
        AND job_id IN (SELECT value::int FROM jsonb_array_elements_text(${json(jobIds)}))`,
  );
}
