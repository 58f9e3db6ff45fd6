// Environments: how many pipelines and jobs are in production vs development (or staging,
// qa), and which. The rule, stated in every answer: a job's environment is the one its
// runs last reported (jobs.environment; jobs that never said are "unknown"); a pipeline is
// a job group, counted in every environment it has jobs in (orders_daily has prod jobs and
// a staging copy, so it counts in both); "active" means it ran in the period (run_daily).
// Deploys add the release view: which pipeline artifacts reached each environment.
import { sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { during } from "../src/time/index.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import type { Command } from "../src/questions/types.ts";
import { canonicalEnv, ENV_WORDS, envRank, periodOf } from "../src/questions/scope.ts";

const COUNTABLE = /\b(?:pipelines?|jobs?|dags?|workflows?|groups?)\b/;
const HOW_MANY = /\bhow many\b|\bnumber of\b|\bcount\b|\bwhich\b|\bwhat\b|\blist\b|\bshow\b/;
const COMPARE = /\bvs\.?\b|\bversus\b|\bcompared?\b|\b(?:per|by|each|every|across)\s+env(?:ironment)?s?\b/;
/** Questions about what happened (failures, lateness, runs) belong to other families. */
const HAPPENED =
  /\bfail\w*|\bran\b|\bruns\b|\blate\b|\bmissed\b|\bstale\b|\bslow\w*\b|\bsucceed\w*|\bsuccess\w*|\bdeploy\w*|\bcost\w*|\berrors?\b|\brunning\b|\bscheduled\b|\bdue\b|\bexpected\b|\bplanned\b/;
const ENV_MENTION = /\b(prod|production|prd|staging|stage|stg|dev|development|qa|uat)\b/g;

const NICE: Record<string, string> = { prod: "production", dev: "development" };
const nice = (env: string) => NICE[env] ?? env;

interface Row {
  environment: string | null;
  group_name: string | null;
  jobs: number;
  active: number;
}

interface EnvStats {
  env: string;
  jobs: number;
  active: number;
  groups: Map<string, number>;
  ungrouped: number;
}

/** Environments the question names, canonical, in the order it names them. */
function mentioned(raw: string): string[] {
  const out: string[] = [];
  for (const m of raw.toLowerCase().matchAll(ENV_MENTION)) {
    const env = ENV_WORDS[m[1]!]!;
    if (!out.includes(env)) out.push(env);
  }
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

const command: Command = {
  id: "environments",
  title: "Environments",
  summary: "how many pipelines and jobs are in production vs development (or staging, qa), and which",
  examples: [
    "how many pipelines are in production vs development?",
    "how many jobs are in staging?",
    "pipelines per environment",
    "which pipelines are in dev?",
  ],
  match(q) {
    if (HAPPENED.test(q.text) || !COUNTABLE.test(q.text)) return 0;
    const envs = mentioned(q.raw);
    if (COMPARE.test(q.text) || /\benvironments?\b/.test(q.text)) return 0.85;
    if (HOW_MANY.test(q.text) && envs.length > 0) return 0.8;
    return 0;
  },
  async run(ctx, q) {
    const period = periodOf(q, ctx.now, 30);
    const fromDay = period.from.toISOString().slice(0, 10);
    const toDay = period.to.toISOString().slice(0, 10);
    // The jobs table is one row per job (thousands at most); activity is a primary-key probe
    // of run_daily per job, never the runs.
    const rows = await ctx.store.query<Row>(
      sql`SELECT j.environment, j.group_name, count(*)::int AS jobs,
            count(*) FILTER (WHERE EXISTS (
              SELECT 1 FROM run_daily d WHERE d.job_id = j.id AND d.day >= ${fromDay} AND d.day <= ${toDay}
                AND d.runs > 0))::int AS active
          FROM jobs j GROUP BY 1, 2`,
    );
    const stats = new Map<string, EnvStats>();
    for (const r of rows) {
      const env = canonicalEnv(r.environment) ?? "unknown";
      const s = stats.get(env) ?? { env, jobs: 0, active: 0, groups: new Map(), ungrouped: 0 };
      s.jobs += r.jobs;
      s.active += r.active;
      if (r.group_name === null) s.ungrouped += r.jobs;
      else s.groups.set(r.group_name, (s.groups.get(r.group_name) ?? 0) + r.jobs);
      stats.set(env, s);
    }
    const all = [...stats.values()].sort((a, b) => (envRank(a.env) < envRank(b.env) ? -1 : 1));
    const b = new AnswerBuilder();
    if (all.length === 0) {
      b.headline("No jobs have reported to Houston yet, so there is nothing to count.");
      return b.build();
    }
    const asked = mentioned(q.raw);
    const shown = asked.length ? asked : all.map((s) => s.env);
    const say = (env: string) => {
      const s = stats.get(env);
      if (!s) return `${nice(env)}: no jobs`;
      return `${nice(env)}: ${plural(s.jobs, "job")} in ${plural(s.groups.size, "pipeline")}${
        s.ungrouped ? ` (+${s.ungrouped} without a group)` : ""
      }`;
    };
    const head = shown.map(say).join("; ");
    b.headline(`${head[0]!.toUpperCase()}${head.slice(1)}.`);

    for (const env of shown) {
      const s = stats.get(env);
      if (!s) continue;
      const groups = [...s.groups].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      b.list(
        `${nice(env)[0]!.toUpperCase()}${nice(env).slice(1)} — ${s.active} of ${plural(s.jobs, "job")} ran ${during(period.label)}`,
        groups.map(([g, n]) => `${code(g)}: ${plural(n, "job")}`),
        12,
      );
    }
    const others = all.filter((s) => !shown.includes(s.env));
    if (others.length) b.section(`Other environments: ${others.map((s) => say(s.env)).join("; ")}.`);

    // The release view: pipeline artifacts with a successful deploy per environment in the period.
    const deployed = await ctx.store.query<{ environment: string | null; artifact: string }>(
      sql`SELECT DISTINCT d.environment, d.artifact FROM deploys d
          WHERE d.at >= ${ts(period.from)} AND d.at < ${ts(period.to)} AND d.kind = 'pipeline' AND d.status = 'success'`,
    );
    if (deployed.length) {
      const byEnv = new Map<string, string[]>();
      for (const d of deployed) {
        const env = canonicalEnv(d.environment) ?? "unknown";
        byEnv.set(env, [...(byEnv.get(env) ?? []), d.artifact].sort());
      }
      b.section(
        `*Pipeline deploys ${during(period.label)}:* ${[...byEnv]
          .sort((a, b) => (envRank(a[0]) < envRank(b[0]) ? -1 : 1))
          .map(([env, as]) => `${esc(nice(env))} ${as.map(code).join(", ")}`)
          .join(" · ")}`,
      );
    }
    b.section(
      "_How I count: a job is in the environment its runs last reported; a pipeline is a job group, counted in every environment it has jobs in._",
    );
    const total = all.reduce((n, s) => n + s.jobs, 0);
    return b.from(`from ${plural(total, "job")} on record and run_daily ${during(period.label)}`).build();
  },
};

export default command;
