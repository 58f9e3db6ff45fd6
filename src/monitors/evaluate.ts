// Monitors: what is broken at one instant. `evaluate(store, at, config)` reads the run
// history and returns every breach that holds AT `at`; it writes nothing (incidents.ts turns
// breaches into incidents and notifications). Evaluated every minute, so a breach is seen
// at most 60 s after it starts: a missed run within grace + 60 s of its slot.
//
// Set-based: a handful of statements, each bounded by an index, whatever the fleet's size
// (5,000 jobs, 2,000 datasets, 10M runs): unmatched slots come from the partial index on
// expected_runs.due_at, "latest run/update/result of each" is a LATERAL … LIMIT 1 on the
// (subject, time) index, p95 durations come from run_daily, and flapping looks at raw
// runs only for jobs whose run_daily shows both successes and failures in the window.
// Time indexes are ascending, so plain ASC/DESC orders are index scans (forwards or
// backwards); an order with an explicit NULLS FIRST/LAST the index lacks would make every
// LATERAL probe sort the subject's whole history (33 s instead of 0.1 s at 10M runs).
//
// Facts stamped after `at` (runs that started later, updates and test results that landed
// later, runs that ended later count as not finished) are not seen, so `houston monitors
// run --at <past instant>` replays closely what that minute saw. A running run's status is
// its latest known one, and a slot matched by a run counts as matched: a replay is close,
// not exact.
//
// Breach semantics (the one-line version of each is in BREACH_KINDS below):
// - missed_run: slot_at + grace (due_at) <= at and no run matched the slot. Slots whose
//   due_at is older than MISSED_LOOKBACK_MS are not evaluated (and their incidents are left
//   as they are). A job whose schedule was removed has no missed runs.
// - late_start: the slot's run started after due_at and is still running. It shares the
//   slot's missed_run key, so "no run yet" → "started late, running" → "finished" is ONE
//   incident (one Slack thread, one page) that resolves when the run finishes; a late run
//   that then fails is resolved here and reported as failed_run.
// - long_run: a running run older than the job's max_duration (fixed, or p95 × factor over
//   the last 14 days of run_daily; no p95 history → not evaluated). Not evaluated for jobs
//   without a max_duration (job, match rule or defaults). Keyed by run; ends when it ends.
// - failed_run: the job's latest finished (success/failed) run failed. Keyed by the first
//   failure of the current streak, so repeated failures are one incident; a success ends it.
//   Not reported when the job's failure_streak is 1 (then failure_streak covers it).
// - failure_streak: the last N finished runs failed (N = failure_streak, default 2). Same
//   key anchor as failed_run; pages.
// - flapping: >= 4 success↔failure flips among finished runs in the last 7 days. Keyed by
//   the UTC day it was first seen; an open flapping incident of the job continues it.
// - stale_dataset: now − last update > max_age (a dataset never updated: counted from when
//   Houston first knew it). Keyed by the last update, so it resolves when the dataset
//   refreshes and a later staleness is a new incident.
// - late_arrival: a dataset with an expected arrival "HH:MM" (suppliers) has no update since
//   local midnight of the latest local day whose arrival + arrival_grace has passed (one that
//   never delivered: only once that deadline is after Houston first knew it). Keyed
//   by that local day; an open late_arrival of the dataset continues it (a supplier that
//   stays silent for three days is one incident); resolves when a delivery lands.
// - failing_test: the latest prod result (environment prod/production/unset, last 30 days)
//   of a test is fail or error. Keyed by the first failing result of the current run of
//   failures; resolves when the test passes (or warns).
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import type { Severity } from "../db/schema.ts";
import { json, ts } from "../db/sql.ts";
import type { DatasetMonitor, JobMonitor, MonitorConfig } from "../houston-yml.ts";
import { firstLine, formatAt, formatSpan, localDayOf, localInstant, previousDay, utcDay } from "./format.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const BREACH_KINDS = [
  "missed_run",
  "late_start",
  "long_run",
  "failed_run",
  "failure_streak",
  "flapping",
  "stale_dataset",
  "late_arrival",
  "failing_test",
] as const;
export type BreachKind = (typeof BREACH_KINDS)[number];

/** Kinds whose severity is the subject's configured severity (default error: they page). */
export const PAGING_KINDS: ReadonlySet<BreachKind> = new Set([
  "missed_run",
  "late_start",
  "long_run",
  "failure_streak",
  "stale_dataset",
  "late_arrival",
  "failing_test",
]);

/** Unmatched slots are evaluated this far back (by due_at). */
export const MISSED_LOOKBACK_MS = 7 * DAY;
export const FLAP_WINDOW_MS = 7 * DAY;
export const FLAP_MIN_FLIPS = 4;
export const P95_DAYS = 14;
/** A test's latest prod result counts only when it is this recent. */
export const TEST_LOOKBACK_MS = 30 * DAY;

export type SubjectType = "job" | "dataset" | "test";

export interface RunBrief {
  status: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

export interface BreachDetails {
  expected: string;
  actual: string;
  /** Latest five runs of the job, newest first (job breaches). */
  lastRuns?: RunBrief[];
  /** ISO slot instant (missed_run, late_start). */
  slotAt?: string;
  [k: string]: unknown;
}

export interface SubjectName {
  namespace: string;
  name: string;
}

export interface Breach {
  /** Stable: re-evaluating the same condition gives the same key (one incident). */
  key: string;
  kind: BreachKind;
  subjectType: SubjectType;
  /** Bare name, as people say it. */
  subject: string;
  jobId: number | null;
  datasetId: number | null;
  group: string | null;
  severity: Severity;
  /** One line: what broke, expected vs actual. */
  summary: string;
  details: BreachDetails;
  /** Where it is posted (null: nowhere) and paged (null: never). */
  channel: string | null;
  routingKey: string | null;
  /** The job and dataset involved, for silences and maintenance windows. */
  job: SubjectName | null;
  dataset: SubjectName | null;
  /** Set for kinds where an open incident with this key prefix is the same ongoing breach. */
  episode?: string;
}

/** timestamptz column → epoch ms (float8): neither driver's type parsing can change it. */
const ms = (column: string): SQL => sql.raw(`(extract(epoch from ${column}) * 1000)::float8`);
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : new Date(Number(v)).toISOString();

const lower = (a: Severity, b: Severity): Severity => {
  const order: Severity[] = ["info", "warning", "error", "critical"];
  return order.indexOf(a) < order.indexOf(b) ? a : b;
};

interface JobRow {
  id: number;
  namespace: string;
  name: string;
  group_name: string | null;
  owner: string | null;
  slack_channel: string | null;
}

export async function evaluate(store: Store, at: Date, config: MonitorConfig): Promise<Breach[]> {
  // One read-only snapshot: every statement sees the same history (a run landing mid-way
  // cannot show up as both missed and running). JIT off: these statements are many cheap
  // index probes whose estimated cost crosses jit_above_cost; compiling them took 3× longer
  // than running them at 10M runs.
  const rows = await store.transaction(async (tx) => {
    await store.query(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`, tx);
    await store.query(sql`SET LOCAL jit = off`, tx);
    const q = (query: SQL) => store.query<Record<string, unknown>>(query, tx);
    return readBreachRows(q, at);
  });
  return buildBreaches(at, config, rows);
}

type Query = (q: SQL) => Promise<Record<string, unknown>[]>;

interface BreachRows {
  missed: Record<string, unknown>[];
  running: Record<string, unknown>[];
  failing: Record<string, unknown>[];
  flapping: Record<string, unknown>[];
  datasets: Record<string, unknown>[];
  tests: Record<string, unknown>[];
  jobs: JobRow[];
  recent: Record<string, unknown>[];
}

async function readBreachRows(query: Query, at: Date): Promise<BreachRows> {
  const now = ts(at);
  const out = {} as BreachRows;
  // Unmatched slots past due (partial index expected_runs_unmatched_due_idx).
  out.missed = await query(
    sql`SELECT e.job_id, ${ms("e.slot_at")} AS slot_at, ${ms("e.opens_at")} AS opens_at, ${ms("e.due_at")} AS due_at,
          s.timezone, s.grace_seconds
        FROM expected_runs e JOIN job_schedules s ON s.job_id = e.job_id
        WHERE e.run_id IS NULL AND e.due_at <= ${now} AND e.due_at > ${ts(new Date(at.getTime() - MISSED_LOOKBACK_MS))}`,
  );
  // Running runs (partial index runs_running_idx), the slot each fulfils (if any), and
  // the job's p95 duration over the last 14 UTC days (run_daily primary key).
  out.running = await query(
    sql`SELECT r.id::float8 AS id, r.job_id, ${ms("r.started_at")} AS started_at, ${ms("r.run_at")} AS run_at,
          ${ms("e.slot_at")} AS slot_at, ${ms("e.due_at")} AS due_at, s.timezone, s.grace_seconds,
          p.p95, p.days
        FROM runs r
        LEFT JOIN LATERAL (
          SELECT e.slot_at, e.due_at, e.run_id FROM expected_runs e
          WHERE e.job_id = r.job_id AND e.opens_at <= coalesce(r.scheduled_for, r.started_at)
          ORDER BY e.opens_at DESC LIMIT 1) e ON e.run_id = r.id
        LEFT JOIN job_schedules s ON s.job_id = r.job_id AND e.run_id IS NOT NULL
        LEFT JOIN LATERAL (
          SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY d.duration_p95_ms) AS p95, count(*)::int AS days
          FROM run_daily d
          WHERE d.job_id = r.job_id AND d.duration_p95_ms IS NOT NULL
            AND d.day >= ${utcDay(new Date(at.getTime() - P95_DAYS * DAY))}::date AND d.day <= ${utcDay(at)}::date) p ON true
        WHERE r.status = 'running' AND r.run_at <= ${now}`,
  );
  // Jobs whose latest finished run failed: the current streak (since the last success),
  // its first failure (the incident's anchor) and its length (capped at 101).
  out.failing = await query(
    sql`WITH latest AS (
          SELECT j.id AS job_id, l.id, l.run_at, l.status, l.error, l.ended_at
          FROM jobs j CROSS JOIN LATERAL (
            SELECT r.id, r.run_at, r.status, r.error, r.ended_at FROM runs r
            WHERE r.job_id = j.id AND r.run_at <= ${now} AND r.status IN ('success', 'failed')
              AND coalesce(r.ended_at, r.run_at) <= ${now}
            ORDER BY r.run_at DESC, r.id DESC LIMIT 1) l
        )
        SELECT f.job_id, f.id::float8 AS run_id, ${ms("f.run_at")} AS run_at, ${ms("f.ended_at")} AS ended_at, f.error,
          ${ms("ok.run_at")} AS last_success_at, first.id::float8 AS first_id, ${ms("first.run_at")} AS first_at,
          (SELECT count(*)::int FROM (
             SELECT 1 FROM runs r WHERE r.job_id = f.job_id AND r.status = 'failed'
               AND r.run_at <= ${now} AND coalesce(r.ended_at, r.run_at) <= ${now}
               AND r.run_at >= first.run_at LIMIT 101) c) AS streak
        FROM latest f
        LEFT JOIN LATERAL (
          SELECT r.run_at FROM runs r WHERE r.job_id = f.job_id AND r.status = 'success' AND r.run_at <= f.run_at
          ORDER BY r.run_at DESC LIMIT 1) ok ON true
        CROSS JOIN LATERAL (
          SELECT r.id, r.run_at FROM runs r WHERE r.job_id = f.job_id AND r.status = 'failed'
            AND r.run_at > coalesce(ok.run_at, '-infinity'::timestamptz) AND r.run_at <= f.run_at
          ORDER BY r.run_at, r.id LIMIT 1) first
        WHERE f.status = 'failed'`,
  );
  // Flips between success and failure in the window, for jobs whose rollup shows at
  // least two of each in it (a cheap necessary condition for four flips); each job's runs
  // come in index order, so no sort of the window's runs.
  out.flapping = await query(
    sql`WITH cand AS (
          SELECT job_id FROM run_daily
          WHERE day >= ${utcDay(new Date(at.getTime() - FLAP_WINDOW_MS))}::date AND day <= ${utcDay(at)}::date
          GROUP BY job_id HAVING sum(failures) >= 2 AND sum(successes) >= 2
        )
        SELECT c.job_id, f.flips, f.failures, f.runs FROM cand c CROSS JOIN LATERAL (
          SELECT count(*) FILTER (WHERE s.prev <> s.status)::int AS flips,
            count(*) FILTER (WHERE s.status = 'failed')::int AS failures, count(*)::int AS runs
          FROM (
            SELECT r.status, lag(r.status) OVER (ORDER BY r.run_at DESC, r.id DESC) AS prev
            FROM runs r WHERE r.job_id = c.job_id
              AND r.run_at > ${ts(new Date(at.getTime() - FLAP_WINDOW_MS))} AND r.run_at <= ${now}
              AND r.status IN ('success', 'failed') AND coalesce(r.ended_at, r.run_at) <= ${now}) s) f
        WHERE f.flips >= ${FLAP_MIN_FLIPS}`,
  );
  // Datasets with an SLA: those already stale, and every one with an expected arrival,
  // with the latest update (dataset_updates_dataset_time_idx) and the job that wrote it.
  out.datasets = await query(
    sql`SELECT d.id, d.namespace, d.name, d.supplier, d.owner, d.max_age_seconds, d.expected_arrival,
          d.arrival_timezone, ${ms("d.created_at")} AS created_at, ${ms("u.updated_at")} AS updated_at,
          j.id AS job_id, j.namespace AS job_namespace, j.name AS job_name, j.group_name, j.slack_channel
        FROM datasets d
        LEFT JOIN LATERAL (
          SELECT u.updated_at, u.run_id FROM dataset_updates u
          WHERE u.dataset_id = d.id AND u.updated_at <= ${now}
          ORDER BY u.updated_at DESC LIMIT 1) u ON true
        LEFT JOIN runs r ON r.id = u.run_id
        LEFT JOIN jobs j ON j.id = r.job_id
        WHERE d.expected_arrival IS NOT NULL
          OR (d.max_age_seconds IS NOT NULL
              AND coalesce(u.updated_at, d.created_at) < ${now} - d.max_age_seconds * interval '1 second')`,
  );
  // Tests whose latest prod result fails, with the first failure of the current run of them.
  out.tests = await query(
    sql`WITH latest AS (
          SELECT t.id, t.name, t.dataset_id, t.job_id, l.status, l.value, l.at
          FROM tests t CROSS JOIN LATERAL (
            SELECT r.status, r.value, r.at FROM test_results r
            WHERE r.test_id = t.id AND r.at <= ${now} AND r.at > ${ts(new Date(at.getTime() - TEST_LOOKBACK_MS))}
              AND (r.environment IS NULL OR r.environment IN ('prod', 'production'))
            ORDER BY r.at DESC, r.id DESC LIMIT 1) l
        )
        SELECT f.id, f.name, f.dataset_id, f.job_id, f.status, f.value, ${ms("f.at")} AS at,
          ${ms("first.at")} AS first_at, d.namespace AS ds_namespace, d.name AS ds_name,
          j.namespace AS job_namespace, j.name AS job_name, j.group_name, j.slack_channel
        FROM latest f
        LEFT JOIN LATERAL (
          SELECT r.at FROM test_results r WHERE r.test_id = f.id AND r.at < f.at
            AND (r.environment IS NULL OR r.environment IN ('prod', 'production'))
            AND r.status NOT IN ('fail', 'error')
          ORDER BY r.at DESC LIMIT 1) ok ON true
        CROSS JOIN LATERAL (
          SELECT r.at FROM test_results r WHERE r.test_id = f.id AND r.at <= f.at
            AND r.at > coalesce(ok.at, '-infinity'::timestamptz)
            AND (r.environment IS NULL OR r.environment IN ('prod', 'production'))
          ORDER BY r.at, r.id LIMIT 1) first
        LEFT JOIN datasets d ON d.id = f.dataset_id
        LEFT JOIN jobs j ON j.id = f.job_id
        WHERE f.status IN ('fail', 'error')`,
  );

  // The jobs involved: their names and last five runs.
  const jobIds = new Set<number>();
  for (const rows of [out.missed, out.running, out.failing, out.flapping])
    for (const r of rows) jobIds.add(Number(r["job_id"]));
  out.jobs = [];
  out.recent = [];
  if (jobIds.size) {
    const ids = json([...jobIds]);
    out.jobs = (await query(
      sql`SELECT id, namespace, name, group_name, owner, slack_channel FROM jobs
          WHERE id IN (SELECT value::int FROM jsonb_array_elements_text(${ids}))`,
    )) as unknown as JobRow[];
    out.recent = await query(
      sql`SELECT x.job_id, r.status, ${ms("r.started_at")} AS started_at, ${ms("r.ended_at")} AS ended_at,
            r.duration_ms::float8 AS duration_ms, r.error
          FROM (SELECT value::int AS job_id FROM jsonb_array_elements_text(${ids})) x
          CROSS JOIN LATERAL (
            SELECT r.status, r.started_at, r.ended_at, r.duration_ms, r.error, r.run_at, r.id FROM runs r
            WHERE r.job_id = x.job_id AND r.run_at <= ${now} ORDER BY r.run_at DESC, r.id DESC LIMIT 5) r
          ORDER BY x.job_id, r.run_at DESC, r.id DESC`,
    );
  }
  return out;
}

function buildBreaches(at: Date, config: MonitorConfig, rows: BreachRows): Breach[] {
  const { missed, running, failing, flapping, datasets, tests } = rows;
  const jobs = new Map<number, JobRow>();
  const lastRuns = new Map<number, RunBrief[]>();
  for (const j of rows.jobs) jobs.set(Number(j.id), { ...j, id: Number(j.id) });
  for (const r of rows.recent) {
    const id = Number(r["job_id"]);
    const list = lastRuns.get(id) ?? [];
    list.push({
      status: String(r["status"]),
      startedAt: iso(r["started_at"]),
      endedAt: iso(r["ended_at"]),
      durationMs: num(r["duration_ms"]),
      error: r["error"] === null ? null : firstLine(String(r["error"]), 300),
    });
    lastRuns.set(id, list);
  }
  const settings = new Map<number, JobMonitor>();
  const jobSettings = (j: JobRow): JobMonitor => {
    let s = settings.get(j.id);
    if (!s) {
      s = config.job({ namespace: j.namespace, name: j.name, owner: j.owner, channel: j.slack_channel });
      settings.set(j.id, s);
    }
    return s;
  };

  const breaches: Breach[] = [];
  const jobBreach = (
    j: JobRow,
    kind: BreachKind,
    anchor: string,
    summary: string,
    details: { expected: string; actual: string; [k: string]: unknown },
    key?: string,
  ): Breach => {
    const s = jobSettings(j);
    const severity = PAGING_KINDS.has(kind) ? s.severity : lower(s.severity, "warning");
    const q = `${j.namespace}/${j.name}`;
    return {
      key: key ?? `${kind}:job:${q}:${anchor}`,
      kind,
      subjectType: "job",
      subject: j.name,
      jobId: j.id,
      datasetId: null,
      group: j.group_name,
      severity,
      summary,
      details: { ...details, lastRuns: lastRuns.get(j.id) ?? [], ...(s.owner ? { owner: s.owner } : {}) },
      channel: s.channel ?? null,
      routingKey: s.routingKey ?? null,
      job: { namespace: j.namespace, name: j.name },
      dataset: null,
    };
  };

  for (const r of missed) {
    const j = jobs.get(Number(r["job_id"]));
    if (!j) continue;
    const slot = new Date(Number(r["slot_at"]));
    const due = new Date(Number(r["due_at"]));
    const tz = String(r["timezone"]);
    const grace = Number(r["grace_seconds"]) * 1000;
    breaches.push(
      jobBreach(
        j,
        "missed_run",
        slot.toISOString(),
        `${j.name} did not run: expected at ${formatAt(slot, tz)} (grace ${formatSpan(grace)}), no run by ${formatAt(at, tz)}`,
        {
          expected: `a run starting by ${formatAt(due, tz)} (slot ${formatAt(slot, tz)} + ${formatSpan(grace)} grace)`,
          actual: `no run ${formatSpan(at.getTime() - slot.getTime())} after the slot`,
          slotAt: slot.toISOString(),
          dueAt: due.toISOString(),
        },
      ),
    );
  }

  for (const r of running) {
    const j = jobs.get(Number(r["job_id"]));
    if (!j) continue;
    const started = r["started_at"] === null ? null : new Date(Number(r["started_at"]));
    const runId = Number(r["id"]);
    // late_start: the slot's run began after the slot's due time and has not finished.
    if (r["due_at"] !== null && started && started.getTime() > Number(r["due_at"])) {
      const slot = new Date(Number(r["slot_at"]));
      const tz = String(r["timezone"] ?? "UTC");
      const grace = Number(r["grace_seconds"] ?? 0) * 1000;
      breaches.push(
        jobBreach(
          j,
          "late_start",
          slot.toISOString(),
          `${j.name} started ${formatSpan(started.getTime() - slot.getTime())} late: expected at ${formatAt(slot, tz)} ` +
            `(grace ${formatSpan(grace)}), started ${formatAt(started, tz)}; still running`,
          {
            expected: `a run starting by ${formatAt(new Date(Number(r["due_at"])), tz)}`,
            actual: `started ${formatAt(started, tz)}, running for ${formatSpan(at.getTime() - started.getTime())}`,
            slotAt: slot.toISOString(),
            dueAt: new Date(Number(r["due_at"])).toISOString(),
            runId,
          },
          `missed_run:job:${j.namespace}/${j.name}:${slot.toISOString()}`,
        ),
      );
    }
    // long_run: older than the job's max_duration.
    const max = jobSettings(j).maxDuration;
    if (!max || !started) continue;
    let limitMs: number;
    let how: string;
    if ("seconds" in max) {
      limitMs = max.seconds * 1000;
      how = "max_duration";
    } else {
      const p95 = num(r["p95"]);
      if (p95 === null || !(p95 > 0)) continue;
      limitMs = p95 * max.p95Factor;
      how = `p95 ${formatSpan(p95)} over ${num(r["days"])} day(s) × ${max.p95Factor}`;
    }
    const elapsed = at.getTime() - started.getTime();
    if (elapsed <= limitMs) continue;
    breaches.push(
      jobBreach(
        j,
        "long_run",
        `run:${runId}`,
        `${j.name} has been running ${formatSpan(elapsed)} (since ${formatAt(started)}): limit ${formatSpan(limitMs)} (${how})`,
        {
          expected: `finished within ${formatSpan(limitMs)} (${how})`,
          actual: `running for ${formatSpan(elapsed)} since ${formatAt(started)}`,
          runId,
          limitMs: Math.round(limitMs),
        },
      ),
    );
  }

  for (const r of failing) {
    const j = jobs.get(Number(r["job_id"]));
    if (!j) continue;
    const s = jobSettings(j);
    const streak = Number(r["streak"]);
    const firstAt = new Date(Number(r["first_at"]));
    const failedAt = new Date(Number(r["ended_at"] ?? r["run_at"]));
    const error = firstLine(r["error"] as string | null) || "no error message";
    const anchor = `run:${Number(r["first_id"])}`;
    const lastSuccess = r["last_success_at"] === null ? null : new Date(Number(r["last_success_at"]));
    const since = lastSuccess ? `last success ${formatAt(lastSuccess)}` : "no success on record";
    const base = {
      expected: "the latest run succeeds",
      actual: `${streak > 100 ? "over 100" : streak} failed run(s) in a row since ${formatAt(firstAt)} (${since}); latest: ${error}`,
      runId: Number(r["run_id"]),
      streak,
    };
    if (s.failureStreak > 1)
      breaches.push(
        jobBreach(
          j,
          "failed_run",
          anchor,
          streak > 1
            ? `${j.name} failed again at ${formatAt(failedAt)} (${streak} in a row): ${error}`
            : `${j.name} failed at ${formatAt(failedAt)}: ${error}`,
          base,
        ),
      );
    if (streak >= s.failureStreak)
      breaches.push(
        jobBreach(
          j,
          "failure_streak",
          anchor,
          `${j.name} failed ${streak > 100 ? "over 100" : streak} time(s) in a row since ${formatAt(firstAt)} ` +
            `(pages at ${s.failureStreak}): ${error}`,
          { ...base, expected: `fewer than ${s.failureStreak} consecutive failures` },
        ),
      );
  }

  for (const r of flapping) {
    const j = jobs.get(Number(r["job_id"]));
    if (!j) continue;
    const flips = Number(r["flips"]);
    const b = jobBreach(
      j,
      "flapping",
      utcDay(at),
      `${j.name} is flapping: ${flips} success↔failure flips in the last 7 days (limit ${FLAP_MIN_FLIPS}); ` +
        `${r["failures"]} of ${r["runs"]} finished runs failed`,
      {
        expected: `fewer than ${FLAP_MIN_FLIPS} success↔failure flips in 7 days`,
        actual: `${flips} flips; ${r["failures"]} of ${r["runs"]} finished runs failed`,
        flips,
      },
    );
    b.episode = `flapping:job:${j.namespace}/${j.name}:`;
    breaches.push(b);
  }

  // --- Dataset breaches -----------------------------------------------------------------
  for (const r of datasets) {
    const ref = { namespace: String(r["namespace"]), name: String(r["name"]) };
    const producer =
      r["job_id"] === null ? null : { namespace: String(r["job_namespace"]), name: String(r["job_name"]) };
    const s: DatasetMonitor = config.dataset({
      ...ref,
      owner: r["owner"] as string | null,
      channel: r["slack_channel"] as string | null,
    });
    const last = r["updated_at"] === null ? null : new Date(Number(r["updated_at"]));
    const created = new Date(Number(r["created_at"]));
    const supplier = r["supplier"] as string | null;
    const base = {
      subjectType: "dataset" as const,
      subject: ref.name,
      jobId: producer ? Number(r["job_id"]) : null,
      datasetId: Number(r["id"]),
      group: (r["group_name"] as string | null) ?? supplier,
      severity: s.severity,
      channel: s.channel ?? null,
      routingKey: s.routingKey ?? null,
      job: producer,
      dataset: ref,
    };
    const q = `${ref.namespace}/${ref.name}`;
    const owner = s.owner ? { owner: s.owner } : {};
    const maxAge = num(r["max_age_seconds"]);
    if (maxAge !== null) {
      const age = at.getTime() - (last ?? created).getTime();
      if (age > maxAge * 1000) {
        breaches.push({
          ...base,
          key: `stale_dataset:dataset:${q}:since:${last ? last.toISOString() : "never"}`,
          kind: "stale_dataset",
          summary: last
            ? `${ref.name} is stale: last updated ${formatAt(last)}, ${formatSpan(age)} ago (max age ${formatSpan(maxAge * 1000)})`
            : `${ref.name} has never been updated (max age ${formatSpan(maxAge * 1000)}; known since ${formatAt(created)})`,
          details: {
            expected: `an update at least every ${formatSpan(maxAge * 1000)}`,
            actual: last ? `last update ${formatAt(last)} (${formatSpan(age)} ago)` : "no update ever",
            lastUpdateAt: last?.toISOString() ?? null,
            ...(producer ? { writtenBy: `${producer.namespace}/${producer.name}` } : {}),
            ...owner,
          },
        });
      }
    }
    const arrival = r["expected_arrival"] as string | null;
    if (arrival) {
      const tz = (r["arrival_timezone"] as string | null) ?? "UTC";
      const graceMs = s.arrivalGraceSeconds * 1000;
      let day = localDayOf(at, tz);
      let deadline = localInstant(day, arrival, tz).getTime() + graceMs;
      if (deadline > at.getTime()) {
        day = previousDay(day);
        deadline = localInstant(day, arrival, tz).getTime() + graceMs;
      }
      const dayStart = localInstant(day, "00:00", tz).getTime();
      const arrived = last !== null && last.getTime() >= dayStart;
      // A dataset that never delivered is only late once Houston knew to expect it.
      const known = last !== null || created.getTime() <= deadline;
      if (!arrived && deadline <= at.getTime() && known) {
        breaches.push({
          ...base,
          key: `late_arrival:dataset:${q}:${day}`,
          kind: "late_arrival",
          summary:
            `${ref.name}${supplier ? ` from ${supplier}` : ""} has not arrived: expected by ${arrival} ${tz} ` +
            `(+${formatSpan(graceMs)} grace) on ${day}; last delivery ${last ? formatAt(last, tz) : "never"}`,
          details: {
            expected: `a delivery on ${day} by ${arrival} ${tz} (+${formatSpan(graceMs)} grace)`,
            actual: last ? `last delivery ${formatAt(last, tz)}` : "no delivery ever",
            day,
            lastUpdateAt: last?.toISOString() ?? null,
            ...(supplier ? { supplier } : {}),
            ...owner,
          },
          episode: `late_arrival:dataset:${q}:`,
        });
      }
    }
  }

  // --- Tests ----------------------------------------------------------------------------
  for (const r of tests) {
    const dataset =
      r["ds_name"] === null ? null : { namespace: String(r["ds_namespace"]), name: String(r["ds_name"]) };
    const job =
      r["job_name"] === null ? null : { namespace: String(r["job_namespace"]), name: String(r["job_name"]) };
    const s = dataset
      ? config.dataset({ ...dataset, channel: r["slack_channel"] as string | null })
      : job
        ? config.job({ ...job, channel: r["slack_channel"] as string | null })
        : config.dataset({ namespace: "", name: String(r["name"]) });
    const firstAt = new Date(Number(r["first_at"]));
    const latestAt = new Date(Number(r["at"]));
    const on = dataset ? ` on ${dataset.name}` : job ? ` of ${job.name}` : "";
    const value = firstLine(r["value"] as string | null) || String(r["status"]);
    const where = dataset
      ? `${dataset.namespace}/${dataset.name}`
      : job
        ? `${job.namespace}/${job.name}`
        : "-";
    breaches.push({
      key: `failing_test:test:${where}:${String(r["name"])}:since:${firstAt.toISOString()}`,
      kind: "failing_test",
      subjectType: "test",
      subject: String(r["name"]),
      jobId: num(r["job_id"]),
      datasetId: num(r["dataset_id"]),
      group: r["group_name"] as string | null,
      severity: s.severity,
      summary: `test ${String(r["name"])}${on} ${r["status"] === "error" ? "errors" : "fails"} in prod: ${value} (since ${formatAt(firstAt)})`,
      details: {
        expected: "the test passes in prod",
        actual: `${String(r["status"])} at ${formatAt(latestAt)}: ${value}`,
        failingSince: firstAt.toISOString(),
        ...(s.owner ? { owner: s.owner } : {}),
      },
      channel: s.channel ?? null,
      routingKey: s.routingKey ?? null,
      job,
      dataset,
    });
  }

  breaches.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return breaches;
}
