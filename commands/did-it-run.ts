// Did it run: did job X run (today / yesterday / on a date)? When did X last run, how
// long, what status? Is X running now?
import { sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration, jobSubject, statusIcon } from "../src/questions/format.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";

interface RunRow {
  status: string;
  started_at: string | null;
  ended_at: string | null;
  run_at: string;
  duration_ms: number | null;
  error: string | null;
  environment: string | null;
}

const RUNNING = /\b(?:is|are)\b.*\b(?:running|still going|in progress)\b|\brunning (?:now|right now)\b/;
const LAST = /\bwhen did\b.*\b(?:run|ran|finish|start)|\blast (?:run|ran|time)\b|\bwhen was\b.*\blast\b/;
const DID =
  /\b(?:did|has|have|was)\b.*\b(?:run|ran|finish|finished|complete|completed|succeed|succeeded|execute|executed)\b/;

const command: Command = {
  id: "did-it-run",
  title: "Did it run",
  summary: "whether a job ran in a period, its last run (status, duration), and whether it is running now",
  examples: [
    "did gl_summary run yesterday?",
    "when did finance_close.gl_summary last run?",
    "is train_churn_model running now?",
    "did load_acme_settlements run on 2026-11-03 in prod?",
  ],
  match(q) {
    // "after all jobs in group Y" is the ordering family's question.
    if (/\bafter (?:all|every)\b/.test(q.text)) return 0;
    // "what is running now?" without a job is the fleet status question.
    if (RUNNING.test(q.text)) return q.names.length ? 0.8 : 0.25;
    // "when was X last updated/refreshed/loaded" is about data, not a run.
    if (LAST.test(q.text) && !/\b(?:updated|refreshed|loaded|delivered|arrived|deployed)\b/.test(q.text))
      return 0.8;
    if (DID.test(q.text)) return q.names.length ? 0.7 : 0.4;
    return 0;
  },
  async run(ctx, q) {
    const job = await jobSubject(ctx.store, q);
    const env = q.environment ? sql`AND r.environment = ${q.environment}` : sql``;
    const base = sql`FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = ${job} ${env}`;
    const cols = sql`SELECT r.status, r.started_at::text, r.ended_at::text, r.run_at::text, r.duration_ms::float8 AS duration_ms,
      r.error, r.environment`;
    const b = new AnswerBuilder();
    const tz = ctx.timezone;
    const describe = (r: RunRow) => {
      const when = formatDateTime(new Date(r.started_at ?? r.run_at), tz, ctx.now);
      const dur = r.duration_ms !== null ? ` in ${formatDuration(r.duration_ms)}` : "";
      const envs = r.environment ? ` (${esc(r.environment)})` : "";
      const err = r.status === "failed" && r.error ? ` — ${esc(r.error.slice(0, 200))}` : "";
      return `${statusIcon(r.status)} ${r.status} ${r.status === "running" ? "since" : "at"} ${when}${r.status === "running" ? "" : dur}${envs}${err}`;
    };

    if (RUNNING.test(q.text)) {
      const running = await ctx.store.query<RunRow>(
        sql`${cols} ${base} AND r.status = 'running' ORDER BY r.run_at DESC LIMIT 20`,
      );
      const last = await ctx.store.query<RunRow>(sql`${cols} ${base} ORDER BY r.run_at DESC LIMIT 1`);
      if (running.length === 0) {
        b.headline(`No — ${code(job)} is not running now.`);
        if (last[0]) b.section(`Last run: ${describe(last[0])}`);
      } else {
        b.headline(
          `Yes — ${code(job)} has ${running.length} run${running.length > 1 ? "s" : ""} in progress.`,
        );
        b.list("", running.map(describe));
      }
      return b.from(`from the run history of ${job}`).build();
    }

    if (q.window && !LAST.test(q.text)) {
      const { from, to, label } = q.window;
      // Counts over the whole window; only the latest few runs are listed.
      const tally = await ctx.store.query<{ status: string; n: number }>(
        sql`SELECT r.status, count(*)::int AS n ${base} AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}
            GROUP BY r.status ORDER BY n DESC`,
      );
      const rows = await ctx.store.query<RunRow>(
        sql`${cols} ${base} AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)} ORDER BY r.run_at DESC LIMIT 10`,
      );
      const total = tally.reduce((a, t) => a + t.n, 0);
      const missed = await ctx.store.query<{ slot_at: string }>(
        sql`SELECT e.slot_at::text FROM expected_runs e JOIN jobs j ON j.id = e.job_id
            WHERE j.name = ${job} AND e.run_id IS NULL AND e.slot_at >= ${ts(from)} AND e.slot_at < ${ts(to)}
              AND e.due_at <= ${ts(ctx.now)}
            ORDER BY e.slot_at`,
      );
      const where = q.environment ? ` in ${q.environment}` : "";
      if (rows.length === 0) {
        b.headline(`No — ${code(job)} did not run ${label}${where}.`);
        const last = await ctx.store.query<RunRow>(
          sql`${cols} ${base} AND r.run_at < ${ts(from)} ORDER BY r.run_at DESC LIMIT 1`,
        );
        b.section(
          last[0] ? `Before that it last ran: ${describe(last[0])}` : "It has no earlier run either.",
        );
      } else {
        const summary = tally.map((t) => `${t.n} ${t.status}`).join(", ");
        const ok = tally.some((t) => t.status === "success");
        const failed = tally.find((t) => t.status === "failed")?.n ?? 0;
        const ran = `${code(job)} ran ${total} time${total > 1 ? "s" : ""} ${label}${where}: ${summary}.`;
        // "did X fail?" is answered about failing, not about running.
        if (q.measure === "failures")
          b.headline(failed ? `Yes — ${code(job)} failed ${failed} of ${total} runs: ${ran}` : `No — ${ran}`);
        else b.headline(`${ok ? "Yes" : "It ran, but did not succeed"} — ${ran}`);
        b.list(total > rows.length ? `Latest ${rows.length} runs` : "Runs", rows.map(describe), 10);
      }
      if (missed.length) {
        b.section(
          `:warning: ${missed.length} expected run${missed.length > 1 ? "s" : ""} missing: ${missed
            .slice(0, 5)
            .map((m) => formatDateTime(new Date(m.slot_at), tz, ctx.now))
            .join(", ")}${missed.length > 5 ? ` and ${missed.length - 5} more` : ""}`,
        );
      }
      return b.from(`from ${total} run${total === 1 ? "" : "s"} of ${job} ${label}`).build();
    }

    const last = await ctx.store.query<RunRow>(sql`${cols} ${base} ORDER BY r.run_at DESC LIMIT 5`);
    if (last.length === 0) {
      b.headline(
        `${code(job)} has no runs${q.environment ? ` in ${q.environment}` : ""} in Houston's history.`,
      );
      return b.build();
    }
    b.headline(`${code(job)} last ran ${describe(last[0]!)}`);
    if (last.length > 1) b.list("Before that", last.slice(1).map(describe));
    return b.from(`from the last ${last.length} runs of ${job}`).build();
  },
};

export default command;
