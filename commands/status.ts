// Status: the fleet at a glance (`/houston status`, "how are things?"). Jobs failing now
// (their latest run failed), runs in progress, late jobs (expected slots past due with no
// run in the last 24 hours), stale datasets (last update older than their freshness SLA),
// and how many jobs are healthy.
//
// Every part is read from a small index: failing = the partial index on failed runs over
// the last few days, then each candidate's latest run (runs_job_run_at_idx); running = the
// partial index on running runs; late = the partial index on unmatched slots by due_at;
// stale = each SLA'd dataset's latest update (dataset_updates_dataset_time_idx).
// Open incidents will join this overview once incidents are recorded; until then the
// section is absent rather than empty.
import { type SQL, sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration, scopeFilter } from "../src/questions/format.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { AskContext, Command, Question } from "../src/questions/types.ts";

const HOUR_MS = 3_600_000;
/** A job whose latest run failed longer ago than this is not "failing now" but silent. */
const FAILING_LOOKBACK_H = 72;
/** A run "running" for longer than this lost its end event; it is not running now. */
const RUNNING_LOOKBACK_H = 7 * 24;
const LATE_LOOKBACK_H = 24;

const STATUS =
  /^(?:\/?houston )?(?:(?:fleet|overall|system|pipeline|pipelines) )?status\b|\bstatus (?:of|for) (?:the )?(?:fleet|everything|pipelines|things)\b|\bfleet status\b/;
const HOW_ARE =
  /\bhow(?:'s| is| are)? (?:things|everything|it going|the fleet|the pipelines|we doing|our pipelines|stuff)\b/;
const OVERVIEW = /\b(?:overview|at a glance|sitrep|health ?check|big picture)\b/;
const WRONG =
  /\b(?:is )?(?:anything|something|what'?s|what is) (?:wrong|broken|on fire|failing|red)\b|\ball (?:good|green|ok|okay)\b/;
const RUNNING_NOW =
  /\bwhat(?:'s| is)? (?:running|in progress) (?:now|right now|currently)\b|\bwhat(?:'s| is)? currently running\b/;

interface Failing {
  name: string;
  owner: string | null;
  run_at: string;
  error: string | null;
}
interface Running {
  name: string;
  started_at: string;
}
interface Late {
  name: string;
  owner: string | null;
  slot_at: string;
}
interface Stale {
  name: string;
  namespace: string;
  owner: string | null;
  max_age_seconds: number;
  updated_at: string | null;
}

/** The group or job a fleet question is narrowed to, if it names one; an unknown name raises did-you-mean. */
async function scopeOf(
  ctx: AskContext,
  q: Question,
): Promise<{ kind: "group" | "job"; name: string } | undefined> {
  // "/houston status" typed into `houston ask` or a DM: the command's own name is no subject.
  const names = q.names.filter((x) => !/^\/?houston$/i.test(x));
  if (!names.length) return undefined;
  const group = await findKnown(ctx.store, "group", names);
  if (group) return { kind: "group", name: group };
  const job = await findKnown(ctx.store, "job", names);
  if (job) return { kind: "job", name: job };
  const given = names[0]!;
  const groups = closest(given, await knownNames(ctx.store, "group"));
  if (groups.length) throw new UnknownNameError("group", given, groups);
  throw new UnknownNameError("job", given, closest(given, await knownNames(ctx.store, "job")));
}

const command: Command = {
  id: "status",
  title: "Status",
  summary: "the fleet at a glance: failing jobs, runs in progress, late jobs, stale datasets",
  examples: [
    "status",
    "how are things?",
    "fleet status in prod",
    "status of finance_close",
    "anything broken?",
  ],
  match(q) {
    // A question about one named thing ("how is fct_orders?") belongs to that thing's family.
    const named = q.names.some((x) => !/^\/?houston$/i.test(x));
    if (STATUS.test(q.text)) return 0.9;
    if (RUNNING_NOW.test(q.text) && !named) return 0.85;
    if (HOW_ARE.test(q.text)) return named ? 0.5 : 0.85;
    if (OVERVIEW.test(q.text)) return named ? 0.5 : 0.8;
    if (WRONG.test(q.text)) return named ? 0.4 : 0.75;
    return 0;
  },
  async run(ctx, q) {
    const tz = ctx.timezone;
    const now = ctx.now;
    const scope = await scopeOf(ctx, q);
    const { scopeJ, envJ, envR } = scopeFilter(q, scope);
    const since = (h: number) => ts(new Date(now.getTime() - h * HOUR_MS));
    // A window ("status since Monday") bounds the failing and late parts; running and
    // stale are always as of now.
    const until = ts(q.window && q.window.to < now ? q.window.to : now);
    const failFrom = q.window ? ts(q.window.from) : since(FAILING_LOOKBACK_H);
    const lateFrom = q.window ? ts(q.window.from) : since(LATE_LOOKBACK_H);
    const lateLabel = q.window ? q.window.label : `last ${LATE_LOOKBACK_H} h`;

    // Datasets have no environment of their own: under "in prod" they are judged by the
    // run that last wrote them (supplier deliveries, written by no run, drop out).
    const envD: SQL = q.environment
      ? sql`AND (SELECT r.environment FROM runs r WHERE r.id = u.run_id) = ${q.environment}`
      : sql``;
    // A group or job scope keeps the datasets its jobs wrote last.
    const scopeD: SQL = scope
      ? sql`AND EXISTS (SELECT 1 FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.id = u.run_id ${scopeJ})`
      : sql``;
    const envN: SQL = q.environment ? sql`AND n.environment = ${q.environment}` : sql``;
    // The five parts are independent reads: asked together, they cost the slowest, not the sum.
    const [failing, running, late, stale, totalRows] = await Promise.all([
      // A job is failing when its latest failed run in the window (partial index on failed
      // runs) has no later run (one probe of runs_job_run_at_idx that stops at the first
      // entry), which is "its latest run failed" without sorting each job's runs.
      ctx.store.query<Failing>(
        sql`WITH f AS (
              SELECT DISTINCT ON (r.job_id) r.job_id, r.id, r.run_at, r.error FROM runs r
              WHERE r.status = 'failed' AND r.run_at >= ${failFrom} AND r.run_at <= ${until} ${envR}
              ORDER BY r.job_id, r.run_at DESC, r.id DESC
            )
            SELECT j.name, j.owner, f.run_at::text, f.error
            FROM f JOIN jobs j ON j.id = f.job_id
            -- LATERAL … LIMIT 1, not NOT EXISTS: an anti join lets the planner hash all runs.
            LEFT JOIN LATERAL (
              SELECT 1 AS later FROM runs n
              WHERE n.job_id = f.job_id AND n.run_at >= f.run_at AND n.run_at <= ${until} ${envN}
                AND (n.run_at > f.run_at OR n.id > f.id)
              LIMIT 1) n ON true
            WHERE n.later IS NULL ${scopeJ}
            ORDER BY f.run_at DESC, j.name`,
      ),
      ctx.store.query<Running>(
        sql`SELECT j.name, coalesce(r.started_at, r.run_at)::text AS started_at
            FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.status = 'running' AND r.run_at >= ${since(RUNNING_LOOKBACK_H)} AND r.run_at <= ${ts(now)}
              ${envR} ${scopeJ}
            ORDER BY r.run_at, j.name LIMIT 500`,
      ),
      // MATERIALIZED: read through the partial index on unmatched slots (a few dozen rows);
      // left to itself the planner walks expected_runs_slot_idx for the ORDER BY instead and
      // filters every slot of the horizon.
      ctx.store.query<Late>(
        sql`WITH e AS MATERIALIZED (
              SELECT e.job_id, e.slot_at FROM expected_runs e
              WHERE e.run_id IS NULL AND e.due_at >= ${lateFrom} AND e.due_at <= ${until}
            )
            SELECT j.name, j.owner, e.slot_at::text
            FROM e JOIN jobs j ON j.id = e.job_id
            WHERE true ${envJ} ${scopeJ}
            ORDER BY e.slot_at, j.name LIMIT 2000`,
      ),
      // Stale = no update in (now − max age, now]: one probe that stops at the first recent
      // update, for every dataset with an SLA; the latest update is read only for the stale.
      ctx.store.query<Stale>(
        sql`SELECT d.name, d.namespace, d.owner, d.max_age_seconds, u.updated_at::text
            FROM datasets d
            LEFT JOIN LATERAL (
              SELECT x.updated_at, x.run_id FROM dataset_updates x
              WHERE x.dataset_id = d.id AND x.updated_at <= ${ts(now)}
              ORDER BY x.updated_at DESC, x.id DESC LIMIT 1) u ON true
            WHERE d.max_age_seconds IS NOT NULL
              AND NOT EXISTS (
                SELECT 1 FROM dataset_updates y
                WHERE y.dataset_id = d.id AND y.updated_at <= ${ts(now)}
                  AND y.updated_at >= ${ts(now)} - d.max_age_seconds * interval '1 second')
              ${envD} ${scopeD}
            ORDER BY u.updated_at NULLS FIRST, d.name`,
      ),
      ctx.store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM jobs j WHERE true ${envJ} ${scopeJ}`),
    ]);
    const total = totalRows[0]?.n ?? 0;

    const lateJobs = new Map<string, { owner: string | null; slots: Date[] }>();
    for (const l of late) {
      const e = lateJobs.get(l.name) ?? { owner: l.owner, slots: [] };
      e.slots.push(new Date(l.slot_at));
      lateJobs.set(l.name, e);
    }
    const unhealthy = new Set([...failing.map((f) => f.name), ...lateJobs.keys()]);
    const healthy = Math.max(0, total - unhealthy.size);
    const n = (x: number) => x.toLocaleString("en-US");
    const when = (d: Date) => formatDateTime(d, tz, now);
    const what = `${q.environment ? ` in ${q.environment}` : ""}${scope ? ` ${scope.kind === "group" ? "in" : "for"} ${code(scope.name)}` : ""}`;

    const b = new AnswerBuilder();
    if (total === 0) {
      b.headline(`No jobs${what} have reported to Houston yet.`);
      return b.build();
    }
    const counts = `${n(failing.length)} failing, ${n(lateJobs.size)} late, ${n(stale.length)} stale`;
    b.headline(
      unhealthy.size === 0 && stale.length === 0
        ? `All clear${what} — ${n(total)} of ${n(total)} jobs healthy${running.length ? `, ${n(running.length)} running` : ""}.`
        : `${counts} — ${n(healthy)} of ${n(total)} jobs healthy${what}.`,
    );
    b.fields([
      ["Failing now", n(failing.length)],
      ["Running now", n(running.length)],
      [
        `Late (${lateLabel})`,
        `${n(lateJobs.size)}${late.length > lateJobs.size ? ` (${n(late.length)} missed runs)` : ""}`,
      ],
      ["Stale datasets", n(stale.length)],
    ]);
    b.list(
      "Failing now",
      failing.map(
        (f) =>
          `${code(f.name)}${f.owner ? ` (${esc(f.owner)})` : ""} — failed ${when(new Date(f.run_at))}${f.error ? `: ${esc(f.error.slice(0, 140))}` : ""}`,
      ),
    );
    b.list(
      "Running now",
      running.map((r) => {
        const started = new Date(r.started_at);
        return `${code(r.name)} — since ${when(started)} (${formatDuration(now.getTime() - started.getTime())})`;
      }),
    );
    b.list(
      "Late",
      [...lateJobs].map(
        ([name, { owner, slots }]) =>
          `${code(name)}${owner ? ` (${esc(owner)})` : ""} — no run for ${slots.length === 1 ? "the slot" : `${n(slots.length)} slots`} at ${slots
            .slice(0, 3)
            .map(when)
            .join(", ")}${slots.length > 3 ? "…" : ""}`,
      ),
    );
    b.list(
      "Stale datasets",
      stale.map((s) => {
        const sla = formatDuration(s.max_age_seconds * 1000);
        if (!s.updated_at) return `${code(s.name)} in ${esc(s.namespace)} — never updated (SLA ${sla})`;
        const at = new Date(s.updated_at);
        return `${code(s.name)} in ${esc(s.namespace)}${s.owner ? ` (${esc(s.owner)})` : ""} — last updated ${when(at)}, ${formatDuration(now.getTime() - at.getTime())} ago (SLA ${sla})`;
      }),
    );
    return b
      .from(
        `from the latest runs of ${n(total)} jobs${what}, expected runs due ${q.window ? q.window.label : `in the last ${LATE_LOOKBACK_H} h`} and dataset freshness SLAs` +
          (q.environment ? "; datasets judged by the environment of the run that last wrote them" : ""),
      )
      .build();
  },
};

export default command;
