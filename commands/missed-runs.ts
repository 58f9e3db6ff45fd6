// Missed runs: did every job that was supposed to run actually run? Expected slots (from
// job schedules) whose due time (slot + grace) has passed without a matching run, grouped by
// job with their slot times and owners; plus, counted apart, runs that did happen but
// started after their slot's grace period (late starts).
//
// The window is about when runs were supposed to happen: slots with slot_at in the window
// (default: the last 24 hours) that are already due. Missing slots are read through the
// partial index on due_at WHERE run_id IS NULL (due_at ≥ slot_at ≥ window start bounds it),
// so its cost is the number of unmatched slots, not of all slots; the totals and the late
// starts read the window's slots through expected_runs_slot_idx.
import { type SQL, sql } from "drizzle-orm";
import { fleetRead } from "../src/db/queries.ts";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration, scopeOf } from "../src/questions/format.ts";
import { during, formatDateTime, formatTime } from "../src/questions/time.ts";
import type { Command } from "../src/questions/types.ts";

const HOUR_MS = 3_600_000;

const MISSED =
  /\b(?:missed|missing|skipped)\b(?: \w+)? (?:runs?|jobs?|slots?|schedules?|executions?)\b|\b(?:runs?|slots?) (?:were |was |are |is )?(?:missed|missing)\b|\bexpected runs?\b.*\b(?:missing|miss|happen|ran|run)\b/;
const SUPPOSED = /\b(?:supposed|meant|due) to run\b|\b(?:was|were) (?:scheduled|expected) to run\b/;
const EVERY =
  /\b(?:did|have|has)\b.*\b(?:every|each|all)(?: the| of the| our)? (?:jobs?|pipelines?|schedules?|scheduled jobs?)\b.*\b(?:run|ran)\b/;
const ANY = /\bany (?:missed|missing|skipped|late)\b/;
const DIDNT =
  /\b(?:what|which|jobs?|anything)\b.*\b(?:didn'?t|did not|failed to|never) (?:run|start|kick off|fire)\b/;
const LATE = /\b(?:late (?:runs?|starts?|jobs?)|started late|ran late|start(?:ed)? on time)\b/;

interface Totals {
  expected: number;
  missing: number;
  late: number;
  pending: number;
  jobs: number;
}

interface SlotRow {
  name: string;
  owner: string | null;
  slot_at: string;
  due_at: string;
  started_at?: string;
}

const command: Command = {
  id: "missed-runs",
  title: "Missed runs",
  summary: "expected runs (from schedules) that never happened, by job and owner, and runs that started late",
  examples: [
    "did every job that was supposed to run actually run?",
    "which expected runs are missing?",
    "any missed runs yesterday?",
    "missed runs in finance_close this week",
    "did every job run in the last 24 hours in prod?",
  ],
  match(q) {
    if (/\b(?:after|before)\b/.test(q.text) && /\b(?:all|every|each)\b/.test(q.text)) return 0;
    if (MISSED.test(q.text) || SUPPOSED.test(q.text)) return 0.9;
    if (EVERY.test(q.text)) return 0.9;
    if (ANY.test(q.text)) return 0.85;
    if (DIDNT.test(q.text)) return 0.85;
    if (LATE.test(q.text)) return 0.75;
    return 0;
  },
  async run(ctx, q) {
    const tz = ctx.timezone;
    const now = ctx.now;
    const w = q.window ?? {
      from: new Date(now.getTime() - 24 * HOUR_MS),
      to: now,
      label: "the last 24 hours",
    };
    const to = new Date(Math.min(w.to.getTime(), now.getTime()));
    const scope = await scopeOf(ctx, q);
    const envJ: SQL = q.environment ? sql`AND j.environment = ${q.environment}` : sql``;
    const scopeJ: SQL = scope
      ? scope.kind === "group"
        ? sql`AND j.group_name = ${scope.name}`
        : sql`AND j.name = ${scope.name}`
      : sql``;
    let where = during(w.label);
    if (q.environment) where += ` in ${q.environment}`;
    if (scope) where += ` ${scope.kind === "group" ? "in" : "for"} ${code(scope.name)}`;
    const b = new AnswerBuilder();

    const schedules = await ctx.store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM job_schedules`);
    if ((schedules[0]?.n ?? 0) === 0) {
      b.headline(
        "I can't tell: no job has a schedule yet, so Houston does not know which runs were expected.",
      );
      b.section("Declare schedules (cron, time zone, grace) for your jobs in houston.yml.");
      return b.build();
    }
    if (to <= w.from) {
      b.headline(`No runs were due ${where} yet.`);
      return b.build();
    }

    const win = sql`e.slot_at >= ${ts(w.from)} AND e.slot_at < ${ts(to)}`;
    // The window's slots are read once (with the start of each due slot's run, one primary-key
    // probe each) for both the totals and the late starts; the missing ones come from the
    // partial index on unmatched slots. JIT off: see fleetRead.
    const { t, late, missing } = await fleetRead(ctx.store, async (read) => {
      const [res] = await read<{ totals: Totals | string; late: SlotRow[] | string | null }>(
        sql`WITH w AS MATERIALIZED (
              SELECT e.job_id, e.slot_at, e.due_at, e.run_id, j.name, j.owner,
                CASE WHEN e.run_id IS NOT NULL AND e.due_at <= ${ts(now)} THEN
                  (SELECT coalesce(r.started_at, r.run_at) FROM runs r WHERE r.id = e.run_id) END AS started
              FROM expected_runs e JOIN jobs j ON j.id = e.job_id
              WHERE ${win} ${envJ} ${scopeJ}
            )
            SELECT
              (SELECT row_to_json(a) FROM (
                SELECT count(*) FILTER (WHERE w.due_at <= ${ts(now)})::int AS expected,
                  count(*) FILTER (WHERE w.due_at <= ${ts(now)} AND w.run_id IS NULL)::int AS missing,
                  count(*) FILTER (WHERE w.due_at <= ${ts(now)} AND w.started > w.due_at)::int AS late,
                  count(*) FILTER (WHERE w.due_at > ${ts(now)} AND w.run_id IS NULL)::int AS pending,
                  count(DISTINCT w.job_id) FILTER (WHERE w.due_at <= ${ts(now)})::int AS jobs
                FROM w) a) AS totals,
              (SELECT json_agg(l) FROM (
                SELECT w.name, w.owner, w.slot_at::text AS slot_at, w.due_at::text AS due_at,
                  w.started::text AS started_at
                FROM w WHERE w.due_at <= ${ts(now)} AND w.started > w.due_at
                ORDER BY w.slot_at, w.name LIMIT 100) l) AS late`,
      );
      const missing = await read<SlotRow>(
        sql`SELECT j.name, j.owner, e.slot_at::text, e.due_at::text
            FROM expected_runs e JOIN jobs j ON j.id = e.job_id
            WHERE e.run_id IS NULL AND e.due_at >= ${ts(w.from)} AND e.due_at <= ${ts(now)} AND ${win}
              ${envJ} ${scopeJ}
            ORDER BY j.name, e.slot_at LIMIT 2000`,
      );
      const parse = <V>(v: V | string | null): V | null => (typeof v === "string" ? (JSON.parse(v) as V) : v);
      return { t: parse(res!.totals)!, late: parse(res!.late) ?? [], missing };
    });

    const n = (x: number) => x.toLocaleString("en-US");
    const lateText = t.late ? `${n(t.late)} ${t.late === 1 ? "run" : "runs"} started late` : "";
    if (t.expected === 0) {
      b.headline(`No runs were expected ${where}.`);
    } else if (t.missing === 0) {
      b.headline(
        `Yes — all ${n(t.expected)} expected run${t.expected === 1 ? "" : "s"} ran ${where}${lateText ? ` (though ${lateText})` : ""}.`,
      );
    } else {
      b.headline(
        `No — ${n(t.missing)} of ${n(t.expected)} expected runs are missing ${where}` +
          `${lateText ? `, and ${lateText}` : ""}.`,
      );
    }

    // One line per job: a job that misses every hour is one problem, not 24.
    const byJob = new Map<string, { owner: string | null; slots: Date[] }>();
    for (const m of missing) {
      const e = byJob.get(m.name) ?? { owner: m.owner, slots: [] };
      e.slots.push(new Date(m.slot_at));
      byJob.set(m.name, e);
    }
    const when = (d: Date) => formatDateTime(d, tz, now);
    b.list(
      `Missing (${n(byJob.size)} job${byJob.size === 1 ? "" : "s"})`,
      [...byJob]
        .sort((a, b) => b[1].slots.length - a[1].slots.length || (a[0] < b[0] ? -1 : 1))
        .map(([name, { owner, slots }]) => {
          const shown = slots.slice(0, 5).map(when).join(", ");
          const more = slots.length > 5 ? ` and ${n(slots.length - 5)} more` : "";
          return `${code(name)}${owner ? ` (${esc(owner)})` : ""} — ${slots.length === 1 ? "expected" : `${n(slots.length)} expected runs:`} ${shown}${more}`;
        }),
    );
    b.list(
      "Started late (after slot + grace)",
      late.map((l) => {
        const slot = new Date(l.slot_at);
        const started = new Date(l.started_at!);
        return `${code(l.name)}${l.owner ? ` (${esc(l.owner)})` : ""} — due ${when(slot)}, started ${formatTime(started, tz)}: ${formatDuration(started.getTime() - slot.getTime())} after its slot`;
      }),
    );
    if (t.pending)
      b.section(
        `${n(t.pending)} more slot${t.pending === 1 ? " has" : "s have"} passed but ${t.pending === 1 ? "is" : "are"} still within ${t.pending === 1 ? "its" : "their"} grace period.`,
      );
    return b.from(`from ${n(t.expected)} expected runs of ${n(t.jobs)} scheduled jobs ${where}`).build();
  },
};

export default command;
