// Ordering: did job X run after all jobs in group Y had finished? ("did gl_summary run
// after all jobs in finance_close finished yesterday?", "did exec_kpis start after every
// job in orders_daily completed?"). X's run (its latest, or its latest in the window) is
// compared with the latest run of every other job of Y in the same period: the local day
// of X's run, or the window asked about. A job of Y that ended after X started, is still
// running, failed or did not run is listed: X did not wait for it.
//
// Unless the question names an environment, Y is compared in X's run's environment: a prod
// job does not wait for the dev copy of a sibling, and counting it would make every answer
// "No". Jobs left out that way are named, so nothing is hidden.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../src/db/client.ts";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration, subject } from "../src/questions/format.ts";
import { findKnown, resolveName, UnknownNameError } from "../src/questions/resolve.ts";
import { during, formatDateTime, formatDay, localDay } from "../src/time/index.ts";
import type { Command, Question } from "../src/questions/types.ts";

const AFTER_ALL =
  /\b(?:after|before|until|wait(?:ed|s)? for)\b.*\b(?:all|every|each|the rest of|the other)\b.*\b(?:jobs?|tasks?|steps?|models?|in|of)\b/;
const AFTER_GROUP_DONE =
  /\b(?:run|ran|start|started|begin|began|kick(?:ed)? off)\b.*\b(?:after|before)\b.*\b(?:finished|completed|done|ended|was done|were done|had finished)\b/;
const WAIT_FOR =
  /\bwait(?:ed|s)? for\b.*\b(?:to (?:finish|complete|be done|end)|finish(?:ed)?|complete[d]?)\b/;
const ORDER_WORDS =
  /\b(?:run|ran|start|started|begin|began|wait|waited)\b.*\b(?:in (?:the )?right order|in order|out of order)\b/;

/** "all jobs in finance_close", "every job of the orders_daily group": the group as typed. */
const GROUP_IN =
  /\b(?:all|every|each|the rest of|the other)\s+(?:the\s+)?(?:other\s+)?(?:jobs?|tasks?|steps?|models?)?\s*(?:in|of|from)\s+(?:the\s+)?(?:group\s+|pipeline\s+)?[`"'“]?([A-Za-z0-9_.\-/]+)/i;
/** "after orders_daily finished", "wait for orders_daily to finish". */
const GROUP_DONE =
  /\b(?:after|before|wait(?:ed|s)? for)\s+(?:the\s+)?(?:group\s+|pipeline\s+)?[`"'“]?([A-Za-z0-9_.\-/]+)[`"'”]?\s+(?:group\s+|pipeline\s+)?(?:had\s+|has\s+|was\s+|were\s+|to\s+)?(?:finish|finished|complete|completed|done|be done|end|ended)\b/i;

interface XRun {
  status: string;
  started_at: string | null;
  ended_at: string | null;
  run_at: string;
  duration_ms: number | null;
  environment: string | null;
}

interface YRow {
  name: string;
  job_env: string | null;
  status: string | null;
  started_at: string | null;
  ended_at: string | null;
  run_at: string | null;
}

/** The group the question compares against, and the job it asks about (never the group's own token). */
async function subjects(store: Store, q: Question) {
  const typed = GROUP_IN.exec(q.raw)?.[1] ?? GROUP_DONE.exec(q.raw)?.[1];
  let group: string | undefined;
  if (typed) group = await resolveName(store, "group", typed);
  else group = await findKnown(store, "group", q.names);
  const token = (typed ?? group)?.toLowerCase();
  const rest: Question = {
    ...q,
    names: q.names.filter((n) => n.toLowerCase() !== token),
    text: token
      ? q.text
          .split(" ")
          .filter((w) => w !== token)
          .join(" ")
      : q.text,
  };
  if (!group) {
    // Two names and neither a known group: the second is the group that was mistyped.
    if (rest.names.length >= 2) group = await resolveName(store, "group", rest.names[1]!);
    else throw new UnknownNameError("group", "(none given)", []);
  }
  const job = await subject(store, rest, "job");
  return { job, group };
}

const command: Command = {
  id: "ordering",
  title: "Ordering",
  summary: "whether a job ran after all jobs in a group had finished, and which ones it did not wait for",
  examples: [
    "did finance_close.gl_summary run after all jobs in finance_close finished yesterday?",
    "did exec_kpis start after every job in orders_daily completed yesterday?",
    "did gl_summary run after all jobs in finance_close finished?",
    "did train_churn_model start after every job in ml_features was done yesterday in prod?",
  ],
  match(q) {
    if (AFTER_ALL.test(q.text)) return 0.9;
    if ((AFTER_GROUP_DONE.test(q.text) || WAIT_FOR.test(q.text)) && q.names.length >= 2) return 0.85;
    if (ORDER_WORDS.test(q.text)) return 0.7;
    return 0;
  },
  async run(ctx, q) {
    const tz = ctx.timezone;
    const { job, group } = await subjects(ctx.store, q);
    const b = new AnswerBuilder();
    const envR: SQL = q.environment ? sql`AND r.environment = ${q.environment}` : sql``;
    const win: SQL = q.window
      ? sql`AND r.run_at >= ${ts(q.window.from)} AND r.run_at < ${ts(q.window.to)}`
      : sql``;
    const where = `${q.window ? ` ${during(q.window.label)}` : ""}${q.environment ? ` in ${q.environment}` : ""}`;

    // Index: runs_job_run_at_idx (via jobs_name_idx), newest first, one row.
    const x = (
      await ctx.store.query<XRun>(
        sql`SELECT r.status, r.started_at::text, r.ended_at::text, r.run_at::text,
              r.duration_ms::float8 AS duration_ms, r.environment
            FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE j.name = ${job} ${envR} ${win}
            ORDER BY r.run_at DESC, r.id DESC LIMIT 1`,
      )
    )[0];
    if (!x) {
      const over = q.window && q.window.to <= ctx.now;
      b.headline(
        `No — ${code(job)} ${over ? "did not run" : "has not run"}${where || " at all"}${over || !q.window ? "" : " yet"}, so it cannot have run after ${code(group)}.`,
      );
      return b.from(`from the run history of ${job}`).build();
    }

    const xStart = new Date(x.started_at ?? x.run_at);
    const period = q.window ?? {
      ...localDay(xStart, tz),
      label: `on ${formatDay(xStart, tz)}, the day of its latest run`,
    };
    const env = q.environment ?? x.environment ?? undefined;
    const envY: SQL = env ? sql`AND r.environment = ${env}` : sql``;
    // One row per job of the group; its latest run in the period via runs_job_run_at_idx.
    const ys = await ctx.store.query<YRow>(
      sql`SELECT j.name, j.environment AS job_env, lr.status, lr.started_at::text, lr.ended_at::text,
            lr.run_at::text
          FROM jobs j
          LEFT JOIN LATERAL (
            SELECT r.status, r.started_at, r.ended_at, r.run_at FROM runs r
            WHERE r.job_id = j.id AND r.run_at >= ${ts(period.from)} AND r.run_at < ${ts(period.to)} ${envY}
            ORDER BY r.run_at DESC, r.id DESC LIMIT 1) lr ON true
          WHERE j.group_name = ${group} AND j.name <> ${job}
          ORDER BY j.name`,
    );

    const when = (d: Date) => formatDateTime(d, tz, ctx.now);
    const ignored: YRow[] = [];
    const blockers: string[] = [];
    const finished: { name: string; end: Date }[] = [];
    for (const y of ys) {
      if (y.status === null) {
        if (env && y.job_env && y.job_env !== env) ignored.push(y);
        else blockers.push(`${code(y.name)} — did not run ${during(period.label)}`);
        continue;
      }
      const end = y.ended_at ? new Date(y.ended_at) : null;
      const started = new Date(y.started_at ?? y.run_at!);
      if (y.status === "running") blockers.push(`${code(y.name)} — still running (started ${when(started)})`);
      else if (y.status !== "success")
        blockers.push(
          `${code(y.name)} — ${esc(y.status)}${end ? ` at ${when(end)}` : ""}, so it never completed`,
        );
      else if (!end || end > xStart) {
        const at = end ?? started;
        blockers.push(
          `${code(y.name)} — finished ${when(at)}, ${formatDuration(at.getTime() - xStart.getTime())} after ${code(job)} started`,
        );
      } else finished.push({ name: y.name, end });
    }

    const envText = env ? ` ${env}` : "";
    const compared = ys.length - ignored.length;
    const xDesc = `${code(job)} started ${when(xStart)}${x.status === "running" ? " (still running)" : x.status !== "success" ? ` (and ${esc(x.status)})` : ""}`;
    if (compared === 0) {
      b.headline(
        `${code(job)} is the only${envText} job in ${code(group)}: there is nothing for it to wait for.`,
      );
    } else if (blockers.length === 0) {
      finished.sort((a, b) => b.end.getTime() - a.end.getTime());
      const last = finished[0]!;
      b.headline(
        `Yes — ${xDesc}, after all ${compared} other${envText} job${compared === 1 ? "" : "s"} in ${code(group)} had finished ` +
          `(the last, ${code(last.name)}, at ${when(last.end)}).`,
      );
    } else {
      b.headline(
        `No — ${xDesc}, but ${blockers.length} of ${compared} other${envText} job${compared === 1 ? "" : "s"} in ${code(group)} ` +
          `had not finished by then.`,
      );
      b.list(`Not finished when ${esc(job)} started`, blockers);
    }
    finished.sort((a, b) => b.end.getTime() - a.end.getTime());
    if (blockers.length && finished.length)
      b.list(
        "Finished before it started",
        finished.map((f) => `${code(f.name)} — ${when(f.end)}`),
        5,
      );
    if (ignored.length)
      b.section(
        `Not compared (other environments than ${esc(env ?? "")}): ${ignored
          .map((y) => `${code(y.name)} (${esc(y.job_env ?? "?")})`)
          .join(", ")}`,
      );
    return b
      .from(
        `from the latest runs of ${job} and of the ${ys.length} other jobs in ${group} ${during(period.label)}${env ? ` (${env})` : ""}`,
      )
      .build();
  },
};

export default command;
