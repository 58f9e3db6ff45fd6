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
import { AnswerBuilder, code, DEFAULT_LIST_LIMIT, esc } from "../src/questions/answer.ts";
import { formatDuration, scopeOf, scopeFilter } from "../src/questions/format.ts";
import { during, formatDateTime, formatTime } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";

const HOUR_MS = 3_600_000;
/** Slot times listed per job before "and N more". */
const SLOTS_SHOWN = 5;
/** Late starts fetched (the list shows DEFAULT_LIST_LIMIT, then "and N more" of these). */
const LATE_ROWS = 100;

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

/** A job's missing slots: how many, and the first few (the ones shown). */
interface MissingJob {
  name: string;
  owner: string | null;
  n: number;
  /** Total jobs with a missing slot (the same on every row). */
  jobs: number;
  slots: string[];
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
    const { scopeJ, envJ } = scopeFilter(q, scope);
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
    // Jobs are joined for their names only where names are shown, unless an environment or
    // scope filters the slots by job.
    const jobFilter: SQL =
      q.environment || scope
        ? sql`AND e.job_id IN (SELECT j.id FROM jobs j WHERE true ${envJ} ${scopeJ})`
        : sql``;
    // The window's slots are read once (with the start of each due slot's run, one primary-key
    // probe each) for both the totals and the late starts; the missing ones come from the
    // partial index on unmatched slots, grouped by job in SQL so only the jobs shown (and
    // their first slots) leave the database. JIT off: see fleetRead.
    const { t, late, missing } = await fleetRead(ctx.store, async (read) => {
      const [res] = await read<{ totals: Totals | string; late: SlotRow[] | string | null }>(
        sql`WITH w AS MATERIALIZED (
              SELECT e.job_id, e.slot_at, e.due_at, e.run_id,
                CASE WHEN e.run_id IS NOT NULL AND e.due_at <= ${ts(now)} THEN
                  (SELECT coalesce(r.started_at, r.run_at) FROM runs r WHERE r.id = e.run_id) END AS started
              FROM expected_runs e
              WHERE ${win} ${jobFilter}
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
                SELECT j.name, j.owner, w.slot_at::text AS slot_at, w.due_at::text AS due_at,
                  w.started::text AS started_at
                FROM w JOIN jobs j ON j.id = w.job_id WHERE w.due_at <= ${ts(now)} AND w.started > w.due_at
                ORDER BY w.slot_at, j.name LIMIT ${LATE_ROWS}) l) AS late`,
      );
      // One row per job name (a name in two namespaces is one line, as it reads), most
      // missed first; names tie-break in code-point order, as the list always sorted them.
      const missing = await read<MissingJob>(
        sql`SELECT m.name, m.owner, m.n::int AS n, m.jobs::int AS jobs, to_json(m.slots) AS slots
            FROM (
              SELECT j.name, (array_agg(j.owner ORDER BY e.slot_at))[1] AS owner, count(*) AS n,
                (array_agg(e.slot_at::text ORDER BY e.slot_at))[1:${SLOTS_SHOWN}] AS slots,
                count(*) OVER () AS jobs
              FROM expected_runs e JOIN jobs j ON j.id = e.job_id
              WHERE e.run_id IS NULL AND e.due_at >= ${ts(w.from)} AND e.due_at <= ${ts(now)} AND ${win}
                ${envJ} ${scopeJ}
              GROUP BY j.name
            ) m
            ORDER BY m.n DESC, m.name COLLATE "C" LIMIT ${DEFAULT_LIST_LIMIT}`,
      );
      const parse = <V>(v: V | string | null): V | null => (typeof v === "string" ? (JSON.parse(v) as V) : v);
      return {
        t: parse(res!.totals)!,
        late: parse(res!.late) ?? [],
        missing: missing.map((m) => ({ ...m, slots: parse(m.slots) ?? [] })),
      };
    });

    const n = (x: number) => x.toLocaleString("en-US");
    const lateText = t.late ? `${n(t.late)} ${t.late === 1 ? "run" : "runs"} started late` : "";
    if (t.expected === 0) {
      b.headline(`No runs were expected ${where}.`);
    } else {
      // Yes/No answers the question as asked: "any missed runs?" is Yes when some are
      // missing; "did everything run?" is Yes when none are.
      const askedMissing = q.polarity === "present";
      if (t.missing === 0) {
        b.headline(
          `${askedMissing ? "No — none missed:" : "Yes —"} all ${n(t.expected)} expected run${t.expected === 1 ? "" : "s"} ran ${where}${lateText ? ` (though ${lateText})` : ""}.`,
        );
      } else {
        b.headline(
          `${askedMissing ? "Yes" : "No"} — ${n(t.missing)} of ${n(t.expected)} expected runs are missing ${where}` +
            `${lateText ? `, and ${lateText}` : ""}.`,
        );
      }
    }

    // One line per job: a job that misses every hour is one problem, not 24. Only the jobs
    // shown were fetched; the list counts the rest for its "and N more".
    const when = (d: Date) => formatDateTime(d, tz, now);
    const jobCount = missing[0]?.jobs ?? 0;
    const lines = missing.map(({ name, owner, n: count, slots }) => {
      const shown = slots.map((x) => when(new Date(x))).join(", ");
      const more = count > SLOTS_SHOWN ? ` and ${n(count - SLOTS_SHOWN)} more` : "";
      return `${code(name)}${owner ? ` (${esc(owner)})` : ""} — ${count === 1 ? "expected" : `${n(count)} expected runs:`} ${shown}${more}`;
    });
    b.list(`Missing (${n(jobCount)} job${jobCount === 1 ? "" : "s"})`, [
      ...lines,
      ...new Array<string>(jobCount - lines.length).fill(""),
    ]);
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
