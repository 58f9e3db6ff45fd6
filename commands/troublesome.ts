// Troublesome: which jobs (or pipelines) failed the most over a window, and which flap
// between success and failure. Failure counts come from the daily rollup and flips from the
// raw runs of the few top candidates only (src/db/queries/failing-jobs.ts).
import {
  failingGroups,
  failingJobs,
  type FailureTotals,
  type GroupFailures,
  type JobFailures,
  jobFlips,
} from "../src/db/queries/failing-jobs.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct } from "../src/questions/format.ts";
import { defineMeasure, frameOfWords } from "../src/questions/measure.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { during, formatDay } from "../src/time/index.ts";
import type { AskContext, Question } from "../src/questions/types.ts";
import type { Frame } from "../src/understanding/frame.ts";

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

/** What a troublesome question asks beyond its frame (the frame has no slot for these yet). */
export interface TroublesomeAsk {
  /** "which jobs are flapping": jobs ranked by flips. */
  flapping: boolean;
  /** "which pipelines fail the most": groups ranked (unless one group is the subject). */
  pipelines: boolean;
}

/** A failing job, with its flips when it was among the top candidates. */
export interface RankedJob extends JobFailures {
  flips: number;
  /** Latest statuses, newest first. */
  recent: string[];
}

export interface TroublesomeData {
  view: "jobs" | "flapping" | "groups";
  /** The whole UTC days counted (the rollup's days): [from, to). */
  from: Date;
  to: Date;
  totals: FailureTotals;
  /** Jobs that failed, most failures first; the top FLIP_CANDIDATES with their flips. */
  failing: RankedJob[];
  /** Groups that failed, most failures first (the groups view only). */
  groups: GroupFailures[];
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** ✓✗ oldest → newest, for a glance at the pattern. */
function pattern(recent: string[]): string {
  return [...recent]
    .reverse()
    .map((s) => (s === "failed" ? "✗" : "✓"))
    .join("");
}

function jobLine(r: RankedJob): string {
  const parts = [`${plural(r.failures, "failure")} in ${plural(r.runs, "run")} (${pct(r.failures, r.runs)})`];
  if (r.flips > 0) parts.push(`${r.flips} flip${r.flips === 1 ? "" : "s"} ${pattern(r.recent)}`);
  if (r.owner) parts.push(`owner ${esc(r.owner)}`);
  return `${code(r.name)} — ${parts.join(", ")}`;
}

/** The pipeline the words name ("which jobs in marketing_attribution fail the most?"), else the fleet. */
async function subjectOfWords(ctx: AskContext, q: Question): Promise<Frame["subject"]> {
  const words = q.text.split(/\s+/).filter((x) => x.length > 2);
  const given = q.names.find((n) => /[_.\d]/.test(n));
  const group =
    (await findKnown(ctx.store, "group", q.names)) ??
    (await findKnown(ctx.store, "group", words)) ??
    (given ? await resolveName(ctx.store, "group", given) : undefined);
  return group ? { kind: "group", name: group } : { kind: "fleet" };
}

export default defineMeasure<TroublesomeData, TroublesomeAsk>({
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
  measure: "troublesome",
  subjects: ["group", "fleet"],
  // "Which supplier is troublesome" is about deliveries: the arrivals measure's.
  applies: (frame) => frame.groupBy !== "supplier",
  defaultDays: 7,
  keywords: {
    match(q) {
      if (NOT_MINE.test(q.text)) return 0;
      if (FLAP.test(q.text)) return 0.9;
      if (MOST.test(q.text)) return 0.85;
      if (TROUBLE.test(q.text)) return 0.8;
      return 0;
    },
    async frame(ctx, q) {
      return frameOfWords(q, "troublesome", await subjectOfWords(ctx, q));
    },
  },
  details(q) {
    return { flapping: FLAP.test(q.text), pipelines: GROUPS.test(q.text) };
  },
  async compute(ctx, frame, window, ask) {
    // run_daily is per UTC day: the window widens to the whole UTC days it touches.
    const fromDay = utcDay(window.from);
    const toDay = utcDay(new Date(Math.max(window.from.getTime(), window.to.getTime() - 1)));
    const from = new Date(`${fromDay}T00:00:00Z`);
    const to = new Date(new Date(`${toDay}T00:00:00Z`).getTime() + DAY_MS);
    const group = frame.subject.kind === "group" ? frame.subject.name : undefined;
    const scope = {
      ...(frame.environment ? { environment: frame.environment } : {}),
      ...(group ? { group } : {}),
    };
    const view = ask.flapping ? "flapping" : ask.pipelines && !group ? "groups" : "jobs";
    const { totals, jobs } = await failingJobs(ctx.store, scope, fromDay, toDay);
    const failing: RankedJob[] = jobs.map((j) => ({ ...j, flips: 0, recent: [] }));
    const data: TroublesomeData = { view, from, to, totals, failing, groups: [] };
    if (failing.length === 0) return data;
    // Flips from the raw runs of the top candidates only; the groups, when asked, beside them.
    const candidates = failing.slice(0, FLIP_CANDIDATES);
    const [flips, groups] = await Promise.all([
      jobFlips(
        ctx.store,
        candidates.map((c) => c.id),
        from,
        to,
      ),
      view === "groups" ? failingGroups(ctx.store, scope, fromDay, toDay) : [],
    ]);
    for (const f of flips) {
      const c = candidates.find((x) => x.id === f.jobId);
      if (c) {
        c.flips = f.flips;
        c.recent = f.recent;
      }
    }
    data.groups = groups;
    return data;
  },
  render(d, frame, _ctx, window) {
    const b = new AnswerBuilder();
    const group = frame.subject.kind === "group" ? frame.subject.name : undefined;
    const where = `${group ? ` in ${code(group)}` : ""}${frame.environment ? ` in ${frame.environment}` : ""}`;
    const when = during(window.label);
    const { totals } = d;
    const source = `from ${plural(totals.runs, "run")} of ${plural(totals.jobs, "job")}${where.replace(/`/g, "")} in the daily rollup, ${formatDay(d.from, "UTC")} – ${formatDay(new Date(d.to.getTime() - DAY_MS), "UTC")} (whole UTC days)`;
    if (totals.runs === 0) {
      b.headline(`No runs${where} ${when}, so nothing to rank.`);
      return b.from(source);
    }
    if (d.failing.length === 0) {
      b.headline(
        `Nothing failed${where} ${when}: none of the ${plural(totals.runs, "run")} of ${plural(totals.jobs, "job")} failed.`,
      );
      return b.from(source);
    }
    const candidates = d.failing.slice(0, FLIP_CANDIDATES);

    if (d.view === "flapping") {
      const flappers = candidates
        .filter((c) => c.flips >= FLAPPING_FLIPS)
        .sort((a, b2) => b2.flips - a.flips || b2.failures - a.failures || (a.name < b2.name ? -1 : 1));
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
      return b.from(source);
    }

    // Failing jobs without a group fall through to the job ranking.
    if (d.view === "groups" && d.groups.length) {
      const top = d.groups[0]!;
      const worst = d.failing.filter((f) => f.group === top.group);
      const culprit =
        worst.length === 1
          ? `, all from ${code(worst[0]!.name)}`
          : worst[0]
            ? `, most from ${code(worst[0].name)} (${worst[0].failures})`
            : "";
      b.headline(
        `Pipeline ${code(top.group)} failed the most${where} ${when}: ${plural(top.failures, "failure")} in ${plural(top.runs, "run")} (${pct(top.failures, top.runs)})${culprit}.`,
      );
      b.list(
        "Pipelines by failures",
        d.groups.map((g) => {
          const owners = [
            ...new Set(d.failing.filter((f) => f.group === g.group && f.owner).map((f) => f.owner!)),
          ];
          return `${code(g.group)} — ${plural(g.failures, "failure")} in ${plural(g.runs, "run")} (${pct(g.failures, g.runs)}) across ${g.jobs} jobs${owners.length ? `, owner ${owners.map(esc).join(", ")}` : ""}`;
        }),
      );
      b.list("Jobs by failures (✓✗ = last 14 runs, oldest → newest)", candidates.map(jobLine), 5);
      return b.from(source);
    }

    const top = candidates[0]!;
    const flapNote = top.flips >= FLAPPING_FLIPS ? `, flapping (${top.flips} flips)` : "";
    b.headline(
      `${code(top.name)} failed the most${where} ${when}: ${top.failures} of ${plural(top.runs, "run")} (${pct(top.failures, top.runs)})${flapNote}.`,
    );
    b.list("Jobs by failures (✓✗ = last 14 runs, oldest → newest)", candidates.map(jobLine));
    b.section(
      `${totals.failures} failure${totals.failures === 1 ? "" : "s"} in ${totals.runs.toLocaleString("en-US")} runs${group ? "" : " fleet-wide"}${where} (${pct(totals.failures, totals.runs)}).`,
    );
    return b.from(source);
  },
});
