// Troublesome: which jobs (or pipelines) failed the most over a window, and which flap
// between success and failure. Failure counts come from the daily rollup (run_daily), so a
// 30-day fleet-wide ranking never reads raw runs; flips are counted from the raw runs of
// the few top candidates only, each scan bounded by job and run_at.
import { sql } from "drizzle-orm";
import { json, ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct } from "../src/questions/format.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { formatDay } from "../src/time/index.ts";
import type { Command, Question, TimeWindow } from "../src/questions/types.ts";

const DAY_MS = 86_400_000;
/** Failing jobs whose runs are read to count flips: the ranking only ever shows a few. */
const FLIP_CANDIDATES = 25;
/** Switches between success and failure that make a job "flapping" rather than just failing. */
const FLAPPING_FLIPS = 3;

// Other families own questions about tests, supplier deliveries, deploys and single
// incidents ("why did X fail"), even when they say "fail" and "most".
const NOT_MINE = /\b(?:tests?|suppliers?|vendors?|deliver\w*|arriv\w*|deploy\w*|releases?|why)\b/;
const FLAP = /\b(?:flap\w*|flak(?:y|ey|iest|ier|iness)|flip\w*|unstable|intermittent\w*|on and off)\b/;
const MOST =
  /\b(?:fail\w*|broke|break\w*|errors?|erroring|crash\w*)\b.*\b(?:most|often|frequently|top|worst|many times)\b|\b(?:most|top|worst)\b.*\b(?:fail\w*|failures?|troublesome|unreliable|problematic|broken|problems?)\b/;
const TROUBLE = /\b(?:troublesome|unreliable|problematic|problem (?:jobs|pipelines|children))\b/;
const GROUPS = /\b(?:pipelines?|groups?|dags?|workflows?)\b/;

interface JobRow {
  job_id: number | null;
  name: string | null;
  group_name: string | null;
  owner: string | null;
  runs: number | null;
  failures: number | null;
  total_runs: number;
  total_failures: number;
  total_jobs: number;
}

interface FlipRow {
  job_id: number;
  flips: number;
  recent: string[];
}

interface Ranked {
  id: number;
  name: string;
  group: string | null;
  owner: string | null;
  runs: number;
  failures: number;
  flips: number;
  /** Latest statuses, newest first. */
  recent: string[];
}

function defaultWindow(now: Date): TimeWindow {
  return { from: new Date(now.getTime() - 7 * DAY_MS), to: now, label: "the last 7 days", phrase: "" };
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
/** "in the last 7 days", "yesterday (Sat 21 Nov)": window labels read as a time phrase. */
const during = (label: string) => (label.startsWith("the ") ? `in ${label}` : label);
const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** ✓✗ oldest → newest, for a glance at the pattern. */
function pattern(recent: string[]): string {
  return [...recent]
    .reverse()
    .map((s) => (s === "failed" ? "✗" : "✓"))
    .join("");
}

function jobLine(r: Ranked): string {
  const parts = [`${plural(r.failures, "failure")} in ${plural(r.runs, "run")} (${pct(r.failures, r.runs)})`];
  if (r.flips > 0) parts.push(`${r.flips} flip${r.flips === 1 ? "" : "s"} ${pattern(r.recent)}`);
  if (r.owner) parts.push(`owner ${esc(r.owner)}`);
  return `${code(r.name)} — ${parts.join(", ")}`;
}

const command: Command = {
  id: "troublesome",
  title: "Troublesome jobs",
  summary: "which jobs or pipelines failed the most over a period, and which are flapping",
  examples: [
    "which pipelines fail the most?",
    "which jobs are flapping?",
    "most troublesome pipelines this week",
    "what failed the most in the last 30 days in prod?",
    "which jobs in ingest_suppliers fail the most?",
  ],
  match(q: Question) {
    if (NOT_MINE.test(q.text)) return 0;
    if (FLAP.test(q.text)) return 0.9;
    if (MOST.test(q.text)) return 0.85;
    if (TROUBLE.test(q.text)) return 0.8;
    return 0;
  },
  async run(ctx, q) {
    const w = q.window ?? defaultWindow(ctx.now);
    // run_daily is per UTC day: the window widens to the whole UTC days it touches.
    const fromDay = utcDay(w.from);
    const toDay = utcDay(
      new Date(Math.max(w.from.getTime(), Math.min(w.to.getTime(), ctx.now.getTime()) - 1)),
    );
    const dayFrom = new Date(`${fromDay}T00:00:00Z`);
    const dayTo = new Date(new Date(`${toDay}T00:00:00Z`).getTime() + DAY_MS);
    // "which jobs in marketing_attribution fail the most?": the ranking within one pipeline.
    const words = q.text.split(/\s+/).filter((x) => x.length > 2);
    const given = q.names.find((n) => /[_.\d]/.test(n));
    const group =
      (await findKnown(ctx.store, "group", q.names)) ??
      (await findKnown(ctx.store, "group", words)) ??
      (given ? await resolveName(ctx.store, "group", given) : undefined);
    const env = sql`${q.environment ? sql`AND j.environment = ${q.environment}` : sql``} ${group ? sql`AND j.group_name = ${group}` : sql``}`;
    const where = `${group ? ` in ${code(group)}` : ""}${q.environment ? ` in ${q.environment}` : ""}`;
    const flapping = FLAP.test(q.text);
    const byGroup = GROUPS.test(q.text) && !flapping && !group;
    const when = during(w.label);

    // One pass over the window's rollup rows: totals for the source line, and the failing jobs.
    const rows = await ctx.store.query<JobRow>(
      // Joined to jobs only when a group or environment narrows the ranking: unfiltered, the
      // window's rollup rows (5,000 a day) are summed per job before any join.
      sql`WITH per AS (
            SELECT d.job_id, sum(d.runs)::int AS runs, sum(d.failures)::int AS failures
            FROM run_daily d ${q.environment || group ? sql`JOIN jobs j ON j.id = d.job_id` : sql``}
            WHERE d.day >= ${fromDay}::date AND d.day <= ${toDay}::date ${env}
            GROUP BY d.job_id
          ),
          tot AS (
            SELECT coalesce(sum(runs), 0)::int AS total_runs, coalesce(sum(failures), 0)::int AS total_failures,
              count(*)::int AS total_jobs
            FROM per
          )
          SELECT tot.total_runs, tot.total_failures, tot.total_jobs, f.job_id, f.name, f.group_name, f.owner,
            f.runs, f.failures
          FROM tot LEFT JOIN LATERAL (
            SELECT per.job_id, j.name, j.group_name, j.owner, per.runs, per.failures
            FROM per JOIN jobs j ON j.id = per.job_id
            WHERE per.failures > 0
          ) f ON true
          ORDER BY f.failures DESC NULLS LAST, f.failures::float8 / greatest(f.runs, 1) DESC, f.name`,
    );
    const totals = rows[0] ?? { total_runs: 0, total_failures: 0, total_jobs: 0 };
    const failing: Ranked[] = rows
      .filter((r) => r.job_id !== null)
      .map((r) => ({
        id: r.job_id!,
        name: r.name!,
        group: r.group_name,
        owner: r.owner,
        runs: r.runs ?? 0,
        failures: r.failures ?? 0,
        flips: 0,
        recent: [],
      }));
    const source = `from ${plural(totals.total_runs, "run")} of ${plural(totals.total_jobs, "job")}${where.replace(/`/g, "")} in the daily rollup, ${formatDay(dayFrom, "UTC")} – ${formatDay(new Date(dayTo.getTime() - DAY_MS), "UTC")} (whole UTC days)`;
    const b = new AnswerBuilder();

    if (totals.total_runs === 0) {
      b.headline(`No runs${where} ${when}, so nothing to rank.`);
      return b.from(source).build();
    }
    if (failing.length === 0) {
      b.headline(
        `Nothing failed${where} ${when}: none of the ${plural(totals.total_runs, "run")} of ${plural(totals.total_jobs, "job")} failed.`,
      );
      return b.from(source).build();
    }

    // Flips (success ↔ failure switches) from the raw runs of the top candidates only.
    const candidates = failing.slice(0, FLIP_CANDIDATES);
    const flipsQuery = ctx.store.query<FlipRow>(
      sql`SELECT s.job_id, count(*) FILTER (WHERE s.prev IS NOT NULL AND s.prev <> s.status)::int AS flips,
            (array_agg(s.status ORDER BY s.run_at DESC, s.id DESC))[1:14] AS recent
          FROM (
            SELECT r.job_id, r.id, r.run_at, r.status,
              lag(r.status) OVER (PARTITION BY r.job_id ORDER BY r.run_at, r.id) AS prev
            FROM runs r
            WHERE r.job_id IN (SELECT (jsonb_array_elements_text(${json(candidates.map((c) => c.id))}))::int)
              AND r.run_at >= ${ts(dayFrom)} AND r.run_at < ${ts(dayTo)}
              AND r.status IN ('success', 'failed')
          ) s
          GROUP BY s.job_id`,
    );
    // Pipelines (only when asked by group): per job first, then per group, so "jobs" is a
    // plain count and both steps hash instead of sorting the window's rows by group name.
    // Asked alongside the flips: the two reads are independent.
    const groupsQuery = byGroup
      ? ctx.store.query<{
          group_name: string;
          runs: number;
          failures: number;
          jobs: number;
        }>(
          sql`SELECT j.group_name, sum(p.runs)::int AS runs, sum(p.failures)::int AS failures,
                count(*)::int AS jobs
              FROM (SELECT d.job_id, sum(d.runs)::int AS runs, sum(d.failures)::int AS failures
                    FROM run_daily d
                    WHERE d.day >= ${fromDay}::date AND d.day <= ${toDay}::date
                    GROUP BY d.job_id) p
              JOIN jobs j ON j.id = p.job_id
              WHERE j.group_name IS NOT NULL ${env}
              GROUP BY j.group_name
              HAVING sum(p.failures) > 0
              ORDER BY sum(p.failures) DESC, sum(p.failures)::float8 / greatest(sum(p.runs), 1) DESC, j.group_name`,
        )
      : Promise.resolve([]);
    const [flips, groups] = await Promise.all([flipsQuery, groupsQuery]);
    for (const f of flips) {
      const c = candidates.find((x) => x.id === Number(f.job_id));
      if (c) {
        c.flips = Number(f.flips);
        c.recent = f.recent ?? [];
      }
    }

    if (flapping) {
      const flappers = candidates
        .filter((c) => c.flips >= FLAPPING_FLIPS)
        .sort((a, b) => b.flips - a.flips || b.failures - a.failures || (a.name < b.name ? -1 : 1));
      if (flappers.length === 0) {
        b.headline(
          `No job is flapping${where} ${when}: none switched between success and failure ${FLAPPING_FLIPS} or more times.`,
        );
        b.list("Jobs with failures", candidates.map(jobLine), 5);
      } else {
        const top = flappers[0]!;
        b.headline(
          `${flappers.length === 1 ? "One job is" : `${flappers.length} jobs are`} flapping${where} ${when}; ` +
            `${code(top.name)} the most: it switched between success and failure ${top.flips} times (${top.failures} failures in ${top.runs} runs).`,
        );
        b.list("Flapping (most flips first; ✓✗ = last 14 runs, oldest → newest)", flappers.map(jobLine));
      }
      b.section(
        `_A flip is a run whose status differs from the job's previous run (success ↔ failed); flapping = ${FLAPPING_FLIPS}+ flips._`,
      );
      return b.from(source).build();
    }

    if (byGroup) {
      if (groups.length) {
        const top = groups[0]!;
        const worst = failing.filter((f) => f.group === top.group_name);
        const culprit =
          worst.length === 1
            ? `, all from ${code(worst[0]!.name)}`
            : worst[0]
              ? `, most from ${code(worst[0].name)} (${worst[0].failures})`
              : "";
        b.headline(
          `Pipeline ${code(top.group_name)} failed the most${where} ${when}: ${plural(top.failures, "failure")} in ${plural(top.runs, "run")} (${pct(top.failures, top.runs)})${culprit}.`,
        );
        b.list(
          "Pipelines by failures",
          groups.map((g) => {
            const owners = [
              ...new Set(failing.filter((f) => f.group === g.group_name && f.owner).map((f) => f.owner!)),
            ];
            return `${code(g.group_name)} — ${plural(g.failures, "failure")} in ${plural(g.runs, "run")} (${pct(g.failures, g.runs)}) across ${g.jobs} jobs${owners.length ? `, owner ${owners.map(esc).join(", ")}` : ""}`;
          }),
        );
        b.list("Jobs by failures (✓✗ = last 14 runs, oldest → newest)", candidates.map(jobLine), 5);
        return b.from(source).build();
      }
      // Failing jobs without a group: fall through to the job ranking.
    }

    const top = candidates[0]!;
    const flapNote = top.flips >= FLAPPING_FLIPS ? `, flapping (${top.flips} flips)` : "";
    b.headline(
      `${code(top.name)} failed the most${where} ${when}: ${top.failures} of ${plural(top.runs, "run")} (${pct(top.failures, top.runs)})${flapNote}.`,
    );
    b.list("Jobs by failures (✓✗ = last 14 runs, oldest → newest)", candidates.map(jobLine));
    b.section(
      `${totals.total_failures} failure${totals.total_failures === 1 ? "" : "s"} in ${totals.total_runs.toLocaleString("en-US")} runs${group ? "" : " fleet-wide"}${where} (${pct(totals.total_failures, totals.total_runs)}).`,
    );
    return b.from(source).build();
  },
};

export default command;
