// Root cause: why was X late (did it start late, or run long?), why did it fail, and where
// did a problem start: the earliest failing, late or long run among the jobs that ran
// before (or alongside) X in its group that day.
//
// Rules, kept simple enough to say in the answer:
// - Late start: started after its slot (runs.scheduled_for, else the matched expected_runs
//   slot) plus the schedule's grace (job_schedules.grace_seconds, else DEFAULT_GRACE).
// - Ran long: took more than LONG_FACTOR× its usual duration (median of the daily p50 in
//   run_daily over the 14 days before) and at least LONG_MIN_EXTRA more.
// - Upstream of X: runs of the other jobs of X's group, in X's environment, that started on
//   the same day as X's run (the day in X's schedule time zone) and before X's run ended.
//   Houston stores no read lineage; the group's order stands in for it.
import { upstream } from "../src/db/queries/lineage.ts";
import { type SQL, sql } from "drizzle-orm";
import { json, ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration, statusIcon } from "../src/questions/format.ts";
import { LONG_FACTOR, ranLong, USUAL_DAYS } from "../src/questions/lateness.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { formatDateTime, formatDay, formatTime, localDay } from "../src/time/index.ts";
import type { AskContext, Command, Question, TimeWindow } from "../src/questions/types.ts";
import { deliveriesAnswer } from "./arrivals.ts";

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
const DEFAULT_GRACE_MS = 15 * MINUTE;
const TYPICAL_DAYS = USUAL_DAYS;

const NOT_MINE = /\b(?:deliver\w*|arriv\w*|suppliers?|tests?|deploy\w*|releases?)\b/;
const WHY =
  /\bwhy\b.*\b(?:late|later|slow|slower|delayed|fail\w*|long|longer|behind|miss\w*|broke\w*|break\w*|red|errors?|errored|stuck|hang\w*|hung|not (?:run|finish)\w*|didn'?t (?:run|finish))\b/;
const WHERE =
  /\broot[ -]?cause\b|\bwhere did (?:the |this |it |things |that )?(?:problems? |issues? |trouble |failures? |incidents? )?(?:start|begin|go wrong)\b|\bwhat (?:failed|broke|went wrong|was late|started it) first\b|\b(?:failed|broke) first\b|\bfirst (?:failure|to fail|thing to (?:fail|break))\b|\bupstream of\b|\bwhat caused\b/;
const LATE_Q = /\b(?:late|later|slow|slower|delayed|long|longer|behind|stuck|hang\w*|hung)\b/;
const FAIL_Q = /\b(?:fail\w*|broke\w*|break\w*|red|errors?|errored)\b/;

interface RunRow {
  id: number;
  job_id: number;
  name: string;
  status: string;
  scheduled_for: string | null;
  started_at: string | null;
  ended_at: string | null;
  run_at: string;
  duration_ms: number | null;
  error: string | null;
  environment: string | null;
  grace_seconds: number | null;
  slot_tz: string | null;
}

interface JobRow {
  id: number;
  name: string;
  group_name: string | null;
  environment: string | null;
  owner: string | null;
  tz: string | null;
}

interface Judged {
  run: RunRow;
  start?: Date;
  end?: Date;
  slot?: Date;
  graceMs: number;
  /** start − slot. */
  delayMs?: number;
  lateStart: boolean;
  /** Duration, or time running so far for a run still going. */
  durMs?: number;
  running: boolean;
  typicalMs?: number;
  longRun: boolean;
  failed: boolean;
}

const RUN_COLS = sql`r.id::float8 AS id, r.job_id, j.name, r.status, r.scheduled_for::text, r.started_at::text,
  r.ended_at::text, r.run_at::text, r.duration_ms::float8 AS duration_ms, r.error, r.environment,
  s.grace_seconds, s.timezone AS slot_tz`;

const during = (label: string) => (label.startsWith("the ") ? `in ${label}` : label);
const utcDay = (d: Date) => d.toISOString().slice(0, 10);

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Usual duration per job and UTC day: the median of the job's daily p50 over the 14 days before. */
async function typicalDurations(
  ctx: AskContext,
  jobIds: number[],
  from: Date,
  to: Date,
): Promise<(jobId: number, at: Date) => number | undefined> {
  const rows = await ctx.store.query<{ job_id: number; day: string; p50: number }>(
    // LATERAL per job: a range of run_daily's primary key (job_id, day) each. Written as
    // IN (…), the planner misjudges the id list and scans the day index for every job;
    // OFFSET 0 keeps it from flattening the LATERAL back into that join.
    sql`SELECT d.job_id, d.day::text AS day, d.duration_p50_ms::float8 AS p50
        FROM (SELECT (jsonb_array_elements_text(${json(jobIds)}))::int AS job_id) k
        CROSS JOIN LATERAL (
          SELECT d.job_id, d.day, d.duration_p50_ms FROM run_daily d
          WHERE d.job_id = k.job_id
            AND d.day >= ${utcDay(new Date(from.getTime() - TYPICAL_DAYS * DAY_MS))}::date
            AND d.day <= ${utcDay(to)}::date AND d.duration_p50_ms IS NOT NULL
          OFFSET 0) d`,
  );
  const byJob = new Map<number, { day: number; p50: number }[]>();
  for (const r of rows) {
    const list = byJob.get(Number(r.job_id)) ?? [];
    list.push({ day: Date.parse(`${r.day}T00:00:00Z`), p50: Number(r.p50) });
    byJob.set(Number(r.job_id), list);
  }
  return (jobId, at) => {
    const day = Date.parse(`${utcDay(at)}T00:00:00Z`);
    const xs = (byJob.get(jobId) ?? [])
      .filter((x) => x.day < day && x.day >= day - TYPICAL_DAYS * DAY_MS)
      .map((x) => x.p50);
    return median(xs);
  };
}

function judge(
  run: RunRow,
  typical: (jobId: number, at: Date) => number | undefined,
  now: Date,
  slotAt?: Date,
): Judged {
  const start = run.started_at ? new Date(run.started_at) : undefined;
  const end = run.ended_at ? new Date(run.ended_at) : undefined;
  const slot = run.scheduled_for ? new Date(run.scheduled_for) : slotAt;
  const graceMs = run.grace_seconds !== null ? run.grace_seconds * 1000 : DEFAULT_GRACE_MS;
  const running = run.status === "running";
  const j: Judged = {
    run,
    graceMs,
    lateStart: false,
    longRun: false,
    running,
    failed: run.status === "failed",
  };
  if (start) j.start = start;
  if (end) j.end = end;
  if (slot) j.slot = slot;
  if (slot && start) {
    j.delayMs = start.getTime() - slot.getTime();
    j.lateStart = j.delayMs > graceMs;
  }
  const typ = typical(run.job_id, new Date(run.run_at));
  if (typ !== undefined) j.typicalMs = typ;
  // A run still going is judged on how long it has been running so far.
  const dur = run.duration_ms ?? (running && start ? now.getTime() - start.getTime() : null);
  if (dur !== null) j.durMs = dur;
  if (dur !== null && typ !== undefined) j.longRun = ranLong(dur, typ);
  return j;
}

/** "ran 2h 18m, 4.1× its usual 34 min" / "has been running 1h 10m, …". */
function longText(j: Judged): string {
  return `${j.running ? "has been running" : "ran"} ${formatDuration(j.durMs!)}, ${(j.durMs! / j.typicalMs!).toFixed(1)}× its usual ${formatDuration(j.typicalMs!)}`;
}

const problem = (j: Judged) => j.failed || j.lateStart || j.longRun;

function problemText(j: Judged, tz: string, now: Date): string {
  const parts: string[] = [];
  if (j.failed) {
    const ran = j.start && j.end ? ` (ran ${formatTime(j.start, tz)}–${formatTime(j.end, tz)})` : "";
    parts.push(
      `failed ${formatDateTime(j.end ?? j.start ?? new Date(j.run.run_at), tz, now)}${ran}${j.run.error ? ` — ${esc(j.run.error.slice(0, 180))}` : ""}`,
    );
  }
  if (j.lateStart)
    parts.push(
      `started ${formatDuration(j.delayMs!)} late (scheduled ${formatTime(j.slot!, tz)}, started ${formatTime(j.start!, tz)})`,
    );
  if (j.longRun) parts.push(longText(j));
  return parts.join("; ");
}

function defaultWindow(now: Date): TimeWindow {
  return { from: new Date(now.getTime() - 7 * DAY_MS), to: now, label: "the last 7 days", phrase: "" };
}

/** Start of the day (in the job's schedule zone) that a run belongs to. */
const cycleStart = (j: Judged, tz: string) => localDay(j.start ?? new Date(j.run.run_at), tz).from;

/** Group runs upstream of `target`: same group and environment, same day, started before it ended. */
function upstreamOf(target: Judged, group: Judged[], tz: string): Judged[] {
  const from = cycleStart(target, tz).getTime();
  const until = (target.end ?? target.start ?? new Date(target.run.run_at)).getTime();
  return group
    .filter((g) => {
      const t = (g.start ?? new Date(g.run.run_at)).getTime();
      return t >= from && t <= until && g.run.id !== target.run.id;
    })
    .sort((a, b) => new Date(a.run.run_at).getTime() - new Date(b.run.run_at).getTime());
}

async function jobRuns(
  ctx: AskContext,
  ids: number[],
  from: Date,
  to: Date,
  env?: string,
): Promise<RunRow[]> {
  const envCond: SQL = env ? sql`AND r.environment = ${env}` : sql``;
  return ctx.store.query<RunRow>(
    sql`SELECT ${RUN_COLS}
        FROM runs r JOIN jobs j ON j.id = r.job_id LEFT JOIN job_schedules s ON s.job_id = r.job_id
        WHERE r.job_id IN (SELECT (jsonb_array_elements_text(${json(ids)}))::int)
          AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)} ${envCond}
        ORDER BY r.run_at DESC, r.id DESC
        LIMIT 2000`,
  );
}

async function explainJob(ctx: AskContext, q: Question, jobName: string): Promise<AnswerBuilder> {
  const tz = ctx.timezone;
  const job = (
    await ctx.store.query<JobRow>(
      sql`SELECT j.id, j.name, j.group_name, j.environment, j.owner, s.timezone AS tz
          FROM jobs j LEFT JOIN job_schedules s ON s.job_id = j.id
          WHERE j.name = ${jobName}
          ORDER BY (j.environment = ${q.environment ?? "prod"}) DESC NULLS LAST, j.id LIMIT 1`,
    )
  )[0]!;
  const w = q.window ?? defaultWindow(ctx.now);
  const when = during(w.label);
  const b = new AnswerBuilder();
  const runs = await jobRuns(ctx, [job.id], w.from, w.to, q.environment);
  if (runs.length === 0) {
    const missed = await ctx.store.query<{ slot_at: string }>(
      sql`SELECT e.slot_at::text FROM expected_runs e
          WHERE e.job_id = ${job.id} AND e.run_id IS NULL AND e.slot_at >= ${ts(w.from)} AND e.slot_at < ${ts(w.to)}
            AND e.opens_at >= ${ts(new Date(w.from.getTime() - DAY_MS))} AND e.opens_at < ${ts(w.to)}
            AND e.due_at <= ${ts(ctx.now)}
          ORDER BY e.slot_at DESC LIMIT 10`,
    );
    b.headline(
      missed.length
        ? `${code(jobName)} did not run ${when}: ${missed.length} expected run${missed.length === 1 ? "" : "s"} never started (${missed
            .slice(0, 3)
            .map((m) => formatDateTime(new Date(m.slot_at), tz, ctx.now))
            .join(", ")}).`
        : `${code(jobName)} has no runs${q.environment ? ` in ${q.environment}` : ""} ${when}, so there is nothing to explain.`,
    );
    return b.from(`from the run history and schedule of ${jobName} ${when}`);
  }

  // Upstream: the jobs whose outputs it reads, and theirs (the lineage graph, up to 5
  // steps) when Houston has been told; else the job's group in its environment.
  const lineage = await upstream(ctx.store, { job: jobName });
  const lineageJobs = [...new Set(lineage.nodes.filter((n) => n.kind === "job").map((n) => n.name))];
  const byLineage = lineageJobs.length > 0;
  const groupJobs = byLineage
    ? (
        await ctx.store.query<{ id: number }>(
          sql`SELECT id FROM jobs WHERE name IN (SELECT jsonb_array_elements_text(${json(lineageJobs)}))
                AND environment IS NOT DISTINCT FROM ${job.environment} AND id <> ${job.id}`,
        )
      ).map((r) => Number(r.id))
    : job.group_name
      ? (
          await ctx.store.query<{ id: number }>(
            sql`SELECT id FROM jobs WHERE group_name = ${job.group_name}
                AND environment IS NOT DISTINCT FROM ${job.environment} AND id <> ${job.id}`,
          )
        ).map((r) => Number(r.id))
      : [];
  const upstreamMeans = byLineage
    ? `the jobs whose outputs ${code(jobName)} reads, and theirs (lineage, ${lineageJobs.length} job${lineageJobs.length === 1 ? "" : "s"})`
    : `the other jobs of ${code(job.group_name ?? "")}${job.environment ? ` (${esc(job.environment)})` : ""}`;
  const jobTz = job.tz ?? "UTC";
  const groupFrom = localDay(
    new Date(Math.min(...runs.map((r) => new Date(r.run_at).getTime()))),
    jobTz,
  ).from;
  const groupRuns = groupJobs.length ? await jobRuns(ctx, groupJobs, groupFrom, w.to) : [];
  const typical = await typicalDurations(ctx, [job.id, ...groupJobs], groupFrom, w.to);
  // Runs reported without a nominal time get their slot from the schedule's matched slots.
  const slots = new Map<number, Date>();
  const unslotted = runs.filter((r) => !r.scheduled_for).map((r) => r.id);
  if (unslotted.length) {
    const rows = await ctx.store.query<{ run_id: number; slot_at: string }>(
      sql`SELECT e.run_id::float8 AS run_id, e.slot_at::text FROM expected_runs e
          WHERE e.job_id = ${job.id} AND e.opens_at >= ${ts(new Date(w.from.getTime() - DAY_MS))} AND e.opens_at < ${ts(w.to)}
            AND e.run_id IN (SELECT (jsonb_array_elements_text(${json(unslotted)}))::bigint)`,
    );
    for (const r of rows) slots.set(Number(r.run_id), new Date(r.slot_at));
  }
  const mine = runs.map((r) => judge(r, typical, ctx.now, slots.get(Number(r.id))));
  const group = groupRuns.map((r) => judge(r, typical, ctx.now));
  const owner = job.owner ? ` Owner: ${esc(job.owner)}.` : "";

  if (WHERE.test(q.text)) {
    // Newest cycle first: the most recent day on which something upstream went wrong.
    for (const target of mine) {
      const up = upstreamOf(target, group, jobTz).filter(problem);
      if (up.length === 0) continue;
      const first = up[0]!;
      const day = formatDay(target.start ?? new Date(target.run.run_at), jobTz);
      b.headline(
        `${code(first.run.name)} went wrong first upstream of ${code(jobName)} on ${day}: it ${problemText(first, tz, ctx.now)}.`,
      );
      b.section(
        `${code(jobName)} that day: ${statusIcon(target.run.status)} ${target.run.status}${target.start ? `, started ${formatTime(target.start, tz)}` : ""}${problem(target) ? ` — it ${problemText(target, tz, ctx.now)}` : ""}.`,
      );
      if (up.length > 1)
        b.list(
          "Then, upstream",
          up.slice(1).map((u) => `${code(u.run.name)} ${problemText(u, tz, ctx.now)}`),
        );
      if (target !== mine[0])
        b.section(
          `_Its latest run (${formatDateTime(mine[0]!.start ?? new Date(mine[0]!.run.run_at), tz, ctx.now)}) had nothing failing or late upstream._`,
        );
      b.section(
        `_Upstream = ${upstreamMeans} that started that day before ${code(jobName)} finished._${owner}`,
      );
      return b.from(
        `from ${mine.length + group.length} runs of ${byLineage ? `${code(jobName)} and its upstream` : job.group_name} ${when}`,
      );
    }
    const self = mine.find(problem);
    b.headline(
      self
        ? `Nothing upstream of ${code(jobName)} failed or ran late ${when}; the problem started with ${code(jobName)} itself: it ${problemText(self, tz, ctx.now)}.`
        : `Nothing failed or ran late upstream of ${code(jobName)} ${when}, and ${code(jobName)} itself was fine.`,
    );
    b.section(
      byLineage || job.group_name
        ? `_Upstream = ${upstreamMeans} that started on the same day before it finished._`
        : `_${code(jobName)} has no known inputs and belongs to no group, so Houston can't tell what is upstream of it._`,
    );
    return b.from(`from ${mine.length + group.length} runs ${when}`);
  }

  // Why was it late / slow / failing: pick the run the question is about.
  const wantLate = LATE_Q.test(q.text);
  const wantFail = FAIL_Q.test(q.text);
  const target =
    (wantLate && mine.find((j) => j.lateStart || j.longRun)) ||
    (wantFail && mine.find((j) => j.failed)) ||
    mine.find(problem) ||
    mine[0]!;
  const t = target;
  const startTxt = t.start ? formatTime(t.start, tz) : "?";
  const slotTxt = t.slot ? formatTime(t.slot, tz) : undefined;
  const durTxt = t.durMs !== undefined ? formatDuration(t.durMs) : undefined;
  const usual = t.typicalMs !== undefined ? formatDuration(t.typicalMs) : undefined;
  const day = formatDay(t.start ?? new Date(t.run.run_at), tz);
  const durVerb = t.running ? "it has been running" : "its duration";
  const normalDur =
    durTxt && !t.longRun
      ? `${durVerb} ${durTxt} ${t.running ? "is" : "was"} normal${usual ? ` (usually ${usual})` : ""}`
      : "";
  // Without a slot there is nothing to be late against: say so rather than "on time".
  const startPart = t.slot
    ? t.lateStart
      ? `it started ${formatDuration(t.delayMs!)} late (scheduled ${slotTxt}, started ${startTxt})`
      : `it started on time (scheduled ${slotTxt}, started ${startTxt})`
    : `it started at ${startTxt} (no schedule known, so Houston can't tell whether that was late)`;
  let because: string;
  if (!t.slot)
    because = t.longRun
      ? `it ${longText(t)} (it started at ${startTxt}; no schedule is known to judge the start)`
      : `${startPart}${normalDur ? ` and ${normalDur}` : ""}`;
  else if (t.lateStart && t.longRun) because = `${startPart} and then ${longText(t)}`;
  else if (t.lateStart) because = `${startPart}${normalDur ? `; ${normalDur}` : ""}`;
  else if (t.longRun) because = `${startPart} but ${longText(t)}`;
  else because = `${startPart}${normalDur ? ` and ${normalDur}` : ""}`;
  if (t.failed && !(wantLate && (t.lateStart || t.longRun))) {
    b.headline(
      `${code(jobName)} failed on ${day}${t.end ? ` at ${formatTime(t.end, tz)}` : ""}${t.run.error ? `: ${esc(t.run.error.slice(0, 200))}` : "."}`,
    );
    b.section(`Timing: ${because}.`);
  } else if (t.lateStart || t.longRun) {
    b.headline(`${code(jobName)} ${t.running ? "is" : "was"} late on ${day} because ${because}.`);
  } else if (wantLate) {
    b.headline(`${code(jobName)} was not late ${when}: on ${day} ${because}.`);
  } else {
    b.headline(`${code(jobName)} on ${day}: ${because}.`);
  }
  if (t.failed && (t.lateStart || t.longRun) && wantLate)
    b.section(
      `${statusIcon("failed")} It also failed${t.end ? ` at ${formatTime(t.end, tz)}` : ""}${t.run.error ? `: ${esc(t.run.error.slice(0, 400))}` : "."}`,
    );
  const fields: [string, string][] = [];
  if (t.slot)
    fields.push(["Scheduled", `${formatDateTime(t.slot, tz, ctx.now)} (grace ${formatDuration(t.graceMs)})`]);
  if (t.start) fields.push(["Started", formatDateTime(t.start, tz, ctx.now)]);
  if (t.end) fields.push(["Ended", formatDateTime(t.end, tz, ctx.now)]);
  if (durTxt)
    fields.push([t.running ? "Running for" : "Duration", `${durTxt}${usual ? ` (usual ${usual})` : ""}`]);
  b.fields(fields);

  // Upstream context: what in the group went wrong first, and what it waited for.
  const up = upstreamOf(t, group, jobTz);
  const bad = up.filter(problem);
  if (bad.length) {
    b.section(
      `Upstream, ${code(bad[0]!.run.name)} went wrong first: it ${problemText(bad[0]!, tz, ctx.now)}.`,
    );
  } else if (t.lateStart && t.start) {
    const waited = up
      .filter((g) => g.end && g.end.getTime() <= t.start!.getTime() + MINUTE)
      .sort((a, b2) => b2.end!.getTime() - a.end!.getTime())[0];
    b.section(
      waited && t.start.getTime() - waited.end!.getTime() < 5 * MINUTE
        ? `It started right after ${code(waited.run.name)} finished (${formatTime(waited.end!, tz)}), which was on time — so the wait was in between.`
        : `Nothing upstream ${byLineage ? "(by lineage)" : `in ${code(job.group_name ?? "its group")}`} failed or ran late${waited ? `, and the last upstream run (${code(waited.run.name)}) ended at ${formatTime(waited.end!, tz)}` : ""}: it was not waiting on data, so the delay was in scheduling (orchestrator, queue or workers).`,
    );
  } else if (up.length) {
    b.section(
      `Nothing upstream ${byLineage ? "(by lineage)" : `in ${code(job.group_name ?? "")}`} failed or ran late that day.`,
    );
  }
  b.section(
    `_Late start = after the slot + grace; ran long = over ${LONG_FACTOR}× the median daily p50 of the ${TYPICAL_DAYS} days before.${owner}_`,
  );
  return b.from(`from the run history of ${jobName} and ${job.group_name ?? "its group"} ${when}`);
}

interface FailRow {
  name: string;
  group_name: string | null;
  run_at: string;
  error: string | null;
  environment: string | null;
}

/** No job named: the first failures (and missed runs) in the window, per pipeline. */
async function whereItStarted(ctx: AskContext, q: Question, group?: string): Promise<AnswerBuilder> {
  const tz = ctx.timezone;
  const yesterday = new Date(localDay(ctx.now, tz).from.getTime() - 1);
  const w: TimeWindow = q.window ?? {
    from: localDay(yesterday, tz).from,
    to: ctx.now,
    label: `since yesterday (${formatDay(yesterday, tz)})`,
    phrase: "",
  };
  const when = during(w.label);
  const env = q.environment ? sql`AND r.environment = ${q.environment}` : sql``;
  const grp = group ? sql`AND j.group_name = ${group}` : sql``;
  // The partial index on failed runs serves this: failures are the minority.
  const failed = await ctx.store.query<FailRow>(
    sql`SELECT j.name, j.group_name, r.run_at::text, r.error, r.environment
        FROM runs r JOIN jobs j ON j.id = r.job_id
        WHERE r.status = 'failed' AND r.run_at >= ${ts(w.from)} AND r.run_at < ${ts(w.to)} ${env} ${grp}
        ORDER BY r.run_at, r.id LIMIT 500`,
  );
  const missed = await ctx.store.query<{ name: string; group_name: string | null; slot_at: string }>(
    sql`SELECT j.name, j.group_name, e.slot_at::text
        FROM expected_runs e JOIN jobs j ON j.id = e.job_id
        WHERE e.run_id IS NULL AND e.due_at >= ${ts(w.from)} AND e.due_at <= ${ts(new Date(Math.min(w.to.getTime(), ctx.now.getTime())))}
          ${q.environment ? sql`AND j.environment = ${q.environment}` : sql``} ${grp}
        ORDER BY e.due_at LIMIT 500`,
  );
  // Within one pipeline the runs are few enough to judge all of them: late starts and
  // long runs count as problems too, not only failures.
  const slow: Judged[] = [];
  if (group) {
    const ids = (
      await ctx.store.query<{ id: number }>(
        sql`SELECT id FROM jobs WHERE group_name = ${group} ${q.environment ? sql`AND environment = ${q.environment}` : sql``}`,
      )
    ).map((r) => Number(r.id));
    if (ids.length) {
      const runs = await jobRuns(ctx, ids, w.from, w.to, q.environment);
      const typical = await typicalDurations(ctx, ids, w.from, w.to);
      slow.push(
        ...runs.map((r) => judge(r, typical, ctx.now)).filter((j) => !j.failed && (j.lateStart || j.longRun)),
      );
    }
  }
  interface Problem {
    at: Date;
    name: string;
    group: string | null;
    /** "failed at …", "did not run at …", "started 2h 15m late (…) on …" */
    what: string;
    error?: string;
  }
  const at = (d: Date) => formatDateTime(d, tz, ctx.now);
  const events: Problem[] = [
    ...failed.map((f) => ({
      at: new Date(f.run_at),
      name: f.name,
      group: f.group_name,
      what: `failed (its run of ${at(new Date(f.run_at))})`,
      ...(f.error ? { error: f.error } : {}),
    })),
    ...slow.map((j) => ({
      at: j.start ?? new Date(j.run.run_at),
      name: j.run.name,
      group: group ?? null,
      what: `${problemText(j, tz, ctx.now)} on ${formatDay(j.start ?? new Date(j.run.run_at), tz)}`,
    })),
    ...missed.map((m) => ({
      at: new Date(m.slot_at),
      name: m.name,
      group: m.group_name,
      what: `did not run at ${at(new Date(m.slot_at))}`,
    })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  const b = new AnswerBuilder();
  const scope = `${group ? ` in ${code(group)}` : ""}${q.environment ? ` in ${q.environment}` : ""}`;
  const plainScope = scope.replace(/`/g, "");
  if (events.length === 0) {
    b.headline(`Nothing failed${group ? ", ran late" : ""} or missed a run${scope} ${when}.`);
    if (!group)
      b.section(
        "_Late starts and long runs are judged per job or pipeline: ask e.g. “why was gl_summary late yesterday?” or “where did the problem start in finance_close?”._",
      );
    return b.from(`from failed runs and missed schedule slots${plainScope} ${when}`);
  }
  const first = events[0]!;
  b.headline(`It started with ${code(first.name)}${scope}: it ${first.what}, the first problem ${when}.`);
  if (first.error) b.section(`${statusIcon("failed")} ${esc(first.error.slice(0, 400))}`);
  const byGroup = new Map<string, Problem[]>();
  for (const e of events) {
    const k = e.group ?? "(no group)";
    byGroup.set(k, [...(byGroup.get(k) ?? []), e]);
  }
  b.list(
    group ? "Problems in order" : "First problem per pipeline",
    group
      ? events.map((e) => `${code(e.name)} ${e.what}`)
      : [...byGroup].map(([g, es]) => {
          const more = es.length - 1;
          return `${code(g)}: ${code(es[0]!.name)} ${es[0]!.what}${more ? ` (then ${more} more)` : ""}`;
        }),
  );
  return b.from(
    `from ${failed.length} failed run${failed.length === 1 ? "" : "s"}${group ? `, ${slow.length} late or long run${slow.length === 1 ? "" : "s"}` : ""} and ${missed.length} missed slot${missed.length === 1 ? "" : "s"}${plainScope} ${when}`,
  );
}

const command: Command = {
  id: "root-cause",
  title: "Root cause",
  summary: "why a job was late or failed (late start vs long run), and where a problem started upstream",
  examples: [
    "why was gl_summary late yesterday?",
    "why did train_churn_model take so long yesterday?",
    "what failed first upstream of campaign_performance?",
    "where did the problem start?",
  ],
  match(q) {
    if (NOT_MINE.test(q.text)) return 0;
    if (WHY.test(q.text) || WHERE.test(q.text)) return 0.9;
    if (/\bwhat (?:happened|went wrong) (?:to|with)\b/.test(q.text)) return 0.6;
    return 0;
  },
  async run(ctx, q) {
    const words = q.text.split(/\s+/).filter((w) => w.length > 2);
    const job = (await findKnown(ctx.store, "job", q.names)) ?? (await findKnown(ctx.store, "job", words));
    if (job) return (await explainJob(ctx, q, job)).build();
    // "why was shipfast_logistics late?" is about a delivery, not a run.
    if ((await findKnown(ctx.store, "supplier", q.names)) ?? (await findKnown(ctx.store, "supplier", words)))
      return deliveriesAnswer(ctx, q);
    const group =
      (await findKnown(ctx.store, "group", q.names)) ?? (await findKnown(ctx.store, "group", words));
    if (group) return (await whereItStarted(ctx, q, group)).build();
    // A name Houston doesn't know: "did you mean"; no name at all: the whole fleet.
    const given = q.names.find((n) => /[_.\d]/.test(n));
    if (given) return (await explainJob(ctx, q, await resolveName(ctx.store, "job", given))).build();
    return (await whereItStarted(ctx, q)).build();
  },
};

export default command;
