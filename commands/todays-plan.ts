// Today's plan: how many jobs will run today, when, and how long will they take? Read from
// the expected slots (job schedules expanded into expected_runs) of the asker's local day:
// how many runs and jobs are expected, how many are done, running, missed or still to
// come, the next ones with their start time and typical duration, and when the last one
// should finish.
//
// A job's typical duration is the median of its daily median durations (run_daily p50) over
// the 14 UTC days before today: robust to one slow day, and read from the rollup, never
// from raw runs. Fleet-wide that is one range scan of run_daily_day_idx (~70k rows at 5,000
// jobs): per-job primary-key probes were slower, since a job's days sit on different heap
// pages. The day's slots are read through expected_runs_slot_idx.
import { type SQL, sql } from "drizzle-orm";
import { fleetRead } from "../src/db/queries.ts";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code } from "../src/questions/answer.ts";
import { formatDuration, scopeOf, scopeFilter } from "../src/questions/format.ts";
import { during, formatDateTime, formatDay, formatTime, localDay } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";

const DAY_MS = 86_400_000;
/** Days of history behind a job's typical duration. */
const TYPICAL_DAYS = 14;

const HOW_MANY_WILL =
  /\bhow many (?:jobs|runs|pipelines|tasks|dags)\b.*\b(?:will|going to|should|are (?:expected|scheduled|planned|due)|left|still to)\b/;
const SCHEDULED =
  /\bwhat(?:'s| is| are)? (?:scheduled|planned|on the schedule|on the plan|coming up|left(?: to run)?|still to (?:run|come)|due)\b|\b(?:scheduled|planned) (?:for )?(?:the )?rest of\b/;
const PLAN =
  /\b(?:today|tomorrow|the day)'?s (?:plan|schedule|runs|jobs|batch)\b|\b(?:plan|schedule) for (?:today|the day)\b/;
const REST =
  /\b(?:rest of(?: the day)?|left to run|still to (?:run|come)|yet to run|upcoming (?:runs|jobs)|next (?:runs|jobs))\b/;
const WHATS_RUNNING = /\bwhat(?:'s| is| are| will| jobs will)? (?:running|run|be running|going to run)\b/;
const WHEN_DONE =
  /\bwhen will (?:everything|all (?:the )?jobs|the jobs|it all|they|the batch|the pipelines?)\b.*\b(?:finish|be done|complete|end)\b/;

interface Summary {
  expected: number;
  jobs: number;
  done: number;
  failed: number;
  running: number;
  missed: number;
  upcoming: number;
  upcoming_jobs: number;
  upcoming_ms: number | null;
  no_history: number;
}

interface Slot {
  name: string;
  slot_at: string;
  state: string;
  started_at: string | null;
  typical_ms: number | null;
  expected_end: string | null;
}

const command: Command = {
  id: "todays-plan",
  title: "Today's plan",
  summary: "how many jobs will run today, when, how long they usually take, and when the last should finish",
  examples: [
    "how many jobs will run today?",
    "what is scheduled for the rest of today?",
    "today's plan",
    "what's running today in prod?",
    "what's left to run today in finance_close?",
  ],
  match(q) {
    const raw = q.raw.toLowerCase();
    const pastOnly = q.window !== undefined && !/\btoday\b|\bthis morning\b/.test(raw);
    if (HOW_MANY_WILL.test(q.text)) return 0.9;
    if (PLAN.test(raw)) return 0.9;
    if (SCHEDULED.test(q.text)) return pastOnly ? 0.5 : 0.9;
    if (REST.test(q.text)) return 0.85;
    if (WHEN_DONE.test(q.text)) return 0.8;
    // "what's running today?" is the plan; "what's running now?" is the fleet status.
    if (WHATS_RUNNING.test(q.text) && !/\b(?:now|right now|currently)\b/.test(q.text) && !pastOnly)
      return 0.8;
    return 0;
  },
  async run(ctx, q) {
    const tz = ctx.timezone;
    const now = ctx.now;
    const today = localDay(now, tz);
    // "tomorrow" is no window the parser knows; slots are expanded two days ahead.
    const tomorrow = localDay(new Date(today.to.getTime() + 3_600_000), tz);
    // "the rest of today" is today's plan: what is done and what is still to come.
    const restOfToday = q.window && /\brest\s+of\b|\blater\s+today\b/.test(q.window.phrase);
    const w =
      (restOfToday ? undefined : q.window) ??
      (/\btomorrow\b/.test(q.text)
        ? { ...tomorrow, label: `tomorrow (${formatDay(tomorrow.from, tz)})` }
        : { ...today, label: `today (${formatDay(today.from, tz)})` });
    const scope = await scopeOf(ctx, q);
    const { scopeJ, envJ } = scopeFilter(q, scope);
    let where = during(w.label);
    if (q.environment) where += ` in ${q.environment}`;
    if (scope) where += ` ${scope.kind === "group" ? "in" : "for"} ${code(scope.name)}`;

    const utcToday = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
    const histFrom = new Date(utcToday - TYPICAL_DAYS * DAY_MS).toISOString().slice(0, 10);
    const histTo = new Date(utcToday).toISOString().slice(0, 10);
    // The window's slots with their state (s), reduced to one row per job (g) before each
    // job's typical duration (t) is joined: the totals, "still to come" and the last to
    // finish need only per-job figures (a job's latest upcoming slot ends last), so the
    // per-slot rows are read again only for the next ten. Jobs are joined by name only for
    // the rows shown. Fleet-wide, every job's typical duration comes from one range scan of
    // run_daily_day_idx (joined afterwards); with an environment or scope, the slots are
    // filtered by job id first and only their jobs' history is read.
    const jobFilter: SQL =
      q.environment || scope
        ? sql`AND e.job_id IN (SELECT j.id FROM jobs j WHERE true ${envJ} ${scopeJ})`
        : sql``;
    const endOf = (slot: SQL) =>
      sql`greatest(${slot}, ${ts(now)}) + coalesce(t.typical_ms, 0) * interval '1 millisecond'`;
    // One statement, read-only, JIT off (see fleetRead).
    const [res] = await fleetRead(ctx.store, (read) =>
      read<{ summary: Summary; next: Slot[] | null; last: Slot | null }>(
        sql`WITH s AS MATERIALIZED (
              SELECT e.job_id, e.slot_at, r.started_at, r.status,
                CASE WHEN e.run_id IS NOT NULL AND r.status = 'running' THEN 'running'
                     WHEN e.run_id IS NOT NULL THEN 'done'
                     WHEN e.due_at <= ${ts(now)} THEN 'missed'
                     ELSE 'upcoming' END AS state
              FROM expected_runs e LEFT JOIN runs r ON r.id = e.run_id
              WHERE e.slot_at >= ${ts(w.from)} AND e.slot_at < ${ts(w.to)} ${jobFilter}
            ),
            g AS MATERIALIZED (
              SELECT job_id, count(*) AS n,
                count(*) FILTER (WHERE state = 'done') AS done,
                count(*) FILTER (WHERE state = 'done' AND status = 'failed') AS failed,
                count(*) FILTER (WHERE state = 'running') AS running,
                count(*) FILTER (WHERE state = 'missed') AS missed,
                count(*) FILTER (WHERE state = 'upcoming') AS upcoming,
                max(slot_at) FILTER (WHERE state = 'upcoming') AS last_slot,
                max(started_at) FILTER (WHERE state = 'running') AS last_start
              FROM s GROUP BY job_id
            ),
            t AS MATERIALIZED (
              SELECT d.job_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY d.duration_p50_ms) AS typical_ms
              FROM run_daily d
              WHERE ${q.environment || scope ? sql`d.job_id IN (SELECT job_id FROM g) AND` : sql``} d.day >= ${histFrom}::date AND d.day < ${histTo}::date AND d.duration_p50_ms IS NOT NULL
              GROUP BY d.job_id
            ),
            gt AS MATERIALIZED (SELECT g.*, t.typical_ms FROM g LEFT JOIN t ON t.job_id = g.job_id),
            -- Each job's expected end: its latest upcoming slot, or its latest running start.
            c AS (
              SELECT t.job_id, 'upcoming' AS state, ${endOf(sql`t.last_slot`)} AS expected_end
              FROM gt t WHERE t.upcoming > 0
              UNION ALL
              SELECT job_id, 'running',
                greatest(last_start + coalesce(typical_ms, 0) * interval '1 millisecond', ${ts(now)})
              FROM gt WHERE running > 0
            )
            SELECT
              (SELECT row_to_json(a) FROM (
                SELECT coalesce(sum(n), 0)::int AS expected, count(*)::int AS jobs,
                  coalesce(sum(done), 0)::int AS done, coalesce(sum(failed), 0)::int AS failed,
                  coalesce(sum(running), 0)::int AS running, coalesce(sum(missed), 0)::int AS missed,
                  coalesce(sum(upcoming), 0)::int AS upcoming,
                  count(*) FILTER (WHERE upcoming > 0)::int AS upcoming_jobs,
                  sum(typical_ms * upcoming) FILTER (WHERE upcoming > 0)::float8 AS upcoming_ms,
                  coalesce(sum(upcoming) FILTER (WHERE typical_ms IS NULL), 0)::int AS no_history
                FROM gt) a) AS summary,
              (SELECT json_agg(n) FROM (
                SELECT j.name, u.slot_at::text AS slot_at, u.state, NULL::text AS started_at,
                  t.typical_ms::float8 AS typical_ms, (${endOf(sql`u.slot_at`)})::text AS expected_end
                FROM s u JOIN jobs j ON j.id = u.job_id LEFT JOIN t ON t.job_id = u.job_id
                -- the tenth upcoming start bounds the rows that need a name for the tie-break
                WHERE u.state = 'upcoming' AND u.slot_at <= coalesce(
                  (SELECT slot_at FROM s WHERE state = 'upcoming' ORDER BY slot_at OFFSET 9 LIMIT 1), 'infinity')
                ORDER BY u.slot_at, j.name LIMIT 10) n) AS next,
              (SELECT row_to_json(l) FROM (
                SELECT j.name, c.state, c.expected_end::text AS expected_end
                FROM c JOIN jobs j ON j.id = c.job_id
                -- only the latest end needs a name (for the tie-break)
                WHERE c.expected_end = (SELECT max(expected_end) FROM c)
                ORDER BY c.expected_end DESC, j.name LIMIT 1) l) AS last`,
      ),
    );
    const parse = <V>(v: V | string | null): V | null => (typeof v === "string" ? (JSON.parse(v) as V) : v);
    const sum = parse(res!.summary)!;
    const next = parse(res!.next) ?? [];
    const last = parse(res!.last) ?? undefined;

    const b = new AnswerBuilder();
    const n = (x: number) => x.toLocaleString("en-US");
    // Times on the window's own (first) day read as "14:05"; others carry their day.
    const base = localDay(w.from, tz).from.getTime();
    const sameDay = (d: Date) => localDay(d, tz).from.getTime() === base;
    const at = (d: Date) => (sameDay(d) ? formatTime(d, tz) : formatDateTime(d, tz, now));
    if (sum.expected === 0) {
      b.headline(`No runs are scheduled ${where}.`);
      b.section("Only jobs with a schedule (cron, time zone, grace in houston.yml) have a plan.");
      return b.from("from the job schedules").build();
    }

    const parts = [
      `${n(sum.done)} done${sum.failed ? ` (${n(sum.failed)} failed)` : ""}`,
      ...(sum.running ? [`${n(sum.running)} running`] : []),
      ...(sum.missed ? [`${n(sum.missed)} missed`] : []),
      `${n(sum.upcoming)} still to come`,
    ];
    b.headline(
      `${n(sum.expected)} run${sum.expected === 1 ? "" : "s"} of ${n(sum.jobs)} job${sum.jobs === 1 ? "" : "s"} ` +
        `${sum.expected === 1 ? "is" : "are"} scheduled ${where}: ${parts.join(", ")}.`,
    );
    if (last?.expected_end) {
      b.section(
        `The last should finish around *${at(new Date(last.expected_end))}* (${code(last.name)}${last.state === "running" ? ", running now" : ""}).`,
      );
    } else if (sum.upcoming === 0 && sum.running === 0) {
      b.section(`Nothing is left to run ${where}.`);
    }
    b.fields([
      ["Expected runs", n(sum.expected)],
      ["Jobs", n(sum.jobs)],
      ["Done", `${n(sum.done)}${sum.failed ? ` (${n(sum.failed)} failed)` : ""}`],
      ["Running", n(sum.running)],
      [
        "Still to come",
        `${n(sum.upcoming)} (${n(sum.upcoming_jobs)} job${sum.upcoming_jobs === 1 ? "" : "s"})`,
      ],
      ["Missed", n(sum.missed)],
      ...(sum.upcoming_ms
        ? ([["Run time still to come", `~${formatDuration(sum.upcoming_ms)}`]] as [string, string][])
        : []),
    ]);
    b.list(
      "Next up",
      next.map((s) => {
        const start = new Date(s.slot_at);
        const late = start < now ? " (due now)" : "";
        const dur =
          s.typical_ms === null
            ? "no history yet"
            : `usually ${formatDuration(s.typical_ms)}, done by ~${at(new Date(s.expected_end!))}`;
        return `${at(start)}${late} ${code(s.name)} — ${dur}`;
      }),
    );
    if (sum.upcoming > next.length)
      b.section(`_and ${n(sum.upcoming - next.length)} more still to come ${where}_`);
    if (sum.missed)
      b.section(
        `${n(sum.missed)} slot${sum.missed === 1 ? " is" : "s are"} past due with no run: ask _which expected runs are missing?_`,
      );
    return b
      .from(
        `from ${n(sum.expected)} expected runs ${where} (job schedules); typical durations are each job's median over the last ${TYPICAL_DAYS} days` +
          (sum.no_history ? ` (${n(sum.no_history)} without history)` : ""),
      )
      .build();
  },
};

export default command;
