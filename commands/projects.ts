// Projects and tickets: which tickets were released (in project P, per project, in a
// period), where ticket T is, and what is happening in project P — its deploys, artifacts,
// tickets, and the pipelines and tests related to it.
//
// "Released" means carried by a successful deploy to prod (or to the environment asked
// for). Related to project P: jobs in a group named like one of P's artifacts, or whose
// name (last segment) is the artifact — also with a trailing _dashboard/_model/_pipeline
// dropped (exec_kpis_dashboard → exec_kpis); datasets whose name (last segment) is such an
// artifact; and the tests of those jobs or on those datasets.
import { type SQL, sql } from "drizzle-orm";
import { json, ts } from "../src/db/sql.ts";
import { during } from "../src/time/index.ts";
import { plainWords } from "../src/questions/format.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { statusIcon } from "../src/questions/format.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import type { AskContext, Command, Question } from "../src/questions/types.ts";
import { DEPLOY_COLUMNS, type DeployRow } from "../src/db/queries/deploys.ts";
import { deployLine, statusWord, TICKET, when } from "./deploys.ts";
import { envIn, environmentOf, envRank, envValues, periodOf } from "../src/questions/scope.ts";

const TICKET_WORDS = /\btickets?\b|\bjira\b|\bissues?\b|\bstories\b/;
const PROJECT_WORDS = /\bprojects?\b/;
const PROJECT_NAME = /^prj[-_]/i;
const ENV_NOUNS = ["deploys?", "deployments?", "releases?"];
/** Tickets are looked up this far back unless the question names a period. */
const TICKET_LOOKBACK_DAYS = 90;

/** The names a related job or dataset may have for an artifact. */
function artifactKeys(artifacts: string[]): string[] {
  const keys = new Set<string>();
  for (const a of artifacts) {
    keys.add(a);
    const stripped = a.replace(/[_-](?:dashboard|model|pipeline)$/, "");
    if (stripped) keys.add(stripped);
  }
  return [...keys];
}

const inList = (values: string[]): SQL => sql`(SELECT jsonb_array_elements_text(${json(values)}))`;

const command: Command = {
  id: "projects",
  title: "Projects and tickets",
  summary:
    "which tickets were released (per project, in a period), where a ticket is, and what is happening in a project",
  examples: [
    "which tickets were released in PRJ-FINANCE?",
    "which tickets were released this week, per project?",
    "what's happening in project PRJ-CHECKOUT?",
    "was DATA-1252 released?",
  ],
  match(q) {
    if (TICKET_WORDS.test(q.text)) return 0.92;
    if (q.names.some((n) => TICKET.test(n) && !PROJECT_NAME.test(n))) return 0.92;
    if (PROJECT_WORDS.test(q.text)) return 0.88;
    if (q.names.some((n) => PROJECT_NAME.test(n))) return 0.88;
    return 0;
  },
  async run(ctx, q) {
    const store = ctx.store;
    const project = await findKnown(store, "project", q.names);
    const tickets = q.names.filter((n) => n !== project && TICKET.test(n) && !PROJECT_NAME.test(n));
    if (tickets.length && !project) return ticketStatus(ctx, q, tickets[0]!.toUpperCase());
    // Any other name must be a project or an artifact; else "did you mean" a project.
    const others = q.names.filter((n) => n !== project && !TICKET.test(n));
    const artifact = others.length ? await findKnown(store, "artifact", others) : undefined;
    let p = project;
    if (!p && !artifact && others.length) p = await resolveName(store, "project", others[0]!);
    p ??= await findKnown(store, "project", plainWords(q));
    if (TICKET_WORDS.test(q.text)) return released(ctx, q, p, artifact);
    // "Which project does finance_close belong to?": the project of its latest deploy.
    let note: string | undefined;
    if (!p && artifact) {
      const owner = await store.query<{ project: string }>(
        sql`SELECT d.project FROM deploys d WHERE d.artifact = ${artifact} AND d.project IS NOT NULL
            ORDER BY d.at DESC LIMIT 1`,
      );
      p = owner[0]?.project;
      note = p
        ? `${code(artifact)} belongs to ${code(p)} (its latest deploy says so).`
        : `${code(artifact)}'s deploys name no project.`;
    }
    return overview(ctx, q, p, note);
  },
};

/** "Which tickets were released …": tickets of successful deploys to prod, per project. */
async function released(
  ctx: AskContext,
  q: Question,
  project: string | undefined,
  artifact: string | undefined,
) {
  const tz = ctx.timezone;
  const period = periodOf(q, ctx.now, 30);
  const env = environmentOf(q, ENV_NOUNS) ?? "prod";
  const scope: SQL[] = [sql`d.at >= ${ts(period.from)} AND d.at < ${ts(period.to)}`];
  if (project) scope.push(sql`d.project = ${project}`);
  if (artifact) scope.push(sql`d.artifact = ${artifact}`);
  const rows = await ctx.store.query<DeployRow>(
    sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE ${sql.join(scope, sql` AND `)}
        ORDER BY d.at, d.id LIMIT 5000`,
  );
  const inEnv = (d: DeployRow) => sameEnv(d.environment, env);
  // Ticket → its first successful deploy to the environment in the period.
  const releasedBy = new Map<string, DeployRow>();
  for (const d of rows)
    if (inEnv(d) && d.status === "success")
      for (const t of d.tickets) if (!releasedBy.has(t)) releasedBy.set(t, d);
  // Failed attempts before the release, for "(after v1.8.0 failed)".
  const failedBefore = (t: string, by: DeployRow) =>
    rows.find((d) => inEnv(d) && d.status !== "success" && d.tickets.includes(t) && d.at < by.at);
  const failedOnly = new Map<string, DeployRow>();
  for (const d of rows)
    if (inEnv(d) && d.status !== "success")
      for (const t of d.tickets) if (!releasedBy.has(t) && !failedOnly.has(t)) failedOnly.set(t, d);

  const envName = env === "prod" ? "prod" : esc(env);
  const span = during(period.label);
  const scopeName = `${project ? ` in ${code(project)}` : ""}${artifact ? ` with ${code(artifact)}` : ""}`;
  const b = new AnswerBuilder();
  const byProject = new Map<string, [string, DeployRow][]>();
  for (const [t, d] of releasedBy) {
    const key = d.project ?? "(no project)";
    byProject.set(key, [...(byProject.get(key) ?? []), [t, d]]);
  }
  if (releasedBy.size === 0) {
    b.headline(`No tickets were released to ${envName}${scopeName} ${span}.`);
  } else {
    const perProject =
      !project && byProject.size > 1
        ? ` across ${byProject.size} projects: ${[...byProject]
            .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))
            .map(([p, ts_]) => `${esc(p)} ${ts_.length}`)
            .join(", ")}`
        : "";
    b.headline(
      `${releasedBy.size} ticket${releasedBy.size === 1 ? " was" : "s were"} released to ${envName}${scopeName} ${span}${perProject}.`,
    );
    for (const [p, list] of [...byProject].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      b.list(
        project ? "" : p,
        list
          .sort((a, b) => (a[0] < b[0] ? -1 : 1))
          .map(([t, d]) => {
            const failed = failedBefore(t, d);
            return `${esc(t)} — ${code(d.artifact)} ${esc(d.version ?? "(no version)")} ${when(new Date(d.at), tz, ctx.now)}${
              failed
                ? ` (after ${esc(failed.version ?? "an attempt")} failed ${when(new Date(failed.at), tz, ctx.now)})`
                : ""
            }`;
          }),
        15,
      );
    }
  }
  if (failedOnly.size)
    b.list(
      `:x: Deploy to ${envName} failed, not released yet`,
      [...failedOnly].map(([t, d]) => `${esc(t)} — ${deployLine(d, tz, ctx.now)}`),
    );
  // In flight: reached another environment in the period but never released (checked over
  // each such artifact's whole history, so a ticket released before the period is not listed).
  const lower = rows.filter((d) => d.status === "success" && !inEnv(d));
  const candidates = new Map<string, DeployRow>();
  for (const d of lower)
    for (const t of d.tickets) if (!releasedBy.has(t) && !failedOnly.has(t)) candidates.set(t, d);
  if (candidates.size) {
    const artifacts = [...new Set([...candidates.values()].map((d) => d.artifact))];
    const done = await ctx.store.query<{ ticket: string }>(
      sql`SELECT DISTINCT t.ticket FROM deploys d CROSS JOIN LATERAL unnest(d.tickets) AS t(ticket)
          WHERE d.artifact IN ${inList(artifacts)} AND d.status = 'success' AND ${envIn(sql`d.environment`, env)}
            AND d.at < ${ts(ctx.now)}`,
    );
    for (const { ticket } of done) candidates.delete(ticket);
    if (candidates.size)
      b.list(
        `In flight (deployed, not yet in ${envName})`,
        [...candidates]
          .sort((a, b) => (a[0] < b[0] ? -1 : 1))
          .map(
            ([t, d]) =>
              `${esc(t)} — ${code(d.artifact)} ${esc(d.version ?? "(no version)")} in ${esc(d.environment ?? "(no environment)")} ${when(new Date(d.at), tz, ctx.now)}`,
          ),
      );
  }
  return b
    .from(
      `from ${rows.length} deploy${rows.length === 1 ? "" : "s"}${scopeName ? `${scopeName.replace(/`/g, "")}` : ""} ${span}; released = a successful deploy to ${env}`,
    )
    .build();
}

/** A stored environment is `env` in any of its spellings (the JS twin of envIn). */
function sameEnv(value: string | null, env: string): boolean {
  return value !== null && envValues(env).includes(value.toLowerCase());
}

/** "Was DATA-1252 released?": every deploy that carried the ticket, and whether it reached prod. */
async function ticketStatus(ctx: AskContext, q: Question, ticket: string) {
  const tz = ctx.timezone;
  const period = periodOf(q, ctx.now, TICKET_LOOKBACK_DAYS);
  const env = environmentOf(q, ENV_NOUNS) ?? "prod";
  const rows = await ctx.store.query<DeployRow>(
    sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d
        WHERE d.at >= ${ts(period.from)} AND d.at < ${ts(period.to)}
          AND ${ticket} = ANY(d.tickets)
        ORDER BY d.at DESC, d.id DESC LIMIT 100`,
  );
  const span = during(period.label);
  const b = new AnswerBuilder();
  if (rows.length === 0) {
    b.headline(`No deploy carried ${esc(ticket)} ${span}.`);
    return b.from(`from the deploys ${span}`).build();
  }
  const good = rows.filter((d) => d.status === "success" && sameEnv(d.environment, env));
  const first = good[good.length - 1];
  if (first) {
    const failed = rows.find((d) => d.status !== "success" && sameEnv(d.environment, env) && d.at < first.at);
    b.headline(
      `Yes — ${esc(ticket)} is in ${esc(env)}: ${code(first.artifact)} ${esc(first.version ?? "(no version)")} was deployed ${when(new Date(first.at), tz, ctx.now)}${
        failed
          ? `, after ${esc(failed.version ?? "an attempt")} failed ${when(new Date(failed.at), tz, ctx.now)}`
          : ""
      }.`,
    );
  } else {
    const furthest = [...rows]
      .filter((d) => d.status === "success")
      .sort((a, b) => (envRank(a.environment) < envRank(b.environment) ? -1 : 1))[0];
    b.headline(
      `No — ${esc(ticket)} has not reached ${esc(env)}${
        furthest
          ? `; it is in ${esc(furthest.environment ?? "(no environment)")} (${code(furthest.artifact)} ${esc(furthest.version ?? "")} ${when(new Date(furthest.at), tz, ctx.now)})`
          : ""
      }.`,
    );
  }
  b.list(
    `Deploys carrying ${esc(ticket)}`,
    rows.map((d) => deployLine(d, tz, ctx.now)),
  );
  return b
    .from(`from ${rows.length} deploy${rows.length === 1 ? "" : "s"} carrying ${ticket} ${span}`)
    .build();
}

interface TestCount {
  status: string;
  n: number;
}

interface TestRow {
  test: string;
  status: string;
  environment: string | null;
  at: string;
  value: string | null;
}

/** "What's happening in project P?" (or in every project when none is named). */
async function overview(ctx: AskContext, q: Question, project: string | undefined, note?: string) {
  const tz = ctx.timezone;
  const period = periodOf(q, ctx.now, 30);
  const env = environmentOf(q, ENV_NOUNS);
  const span = during(period.label);
  const scope: SQL[] = [sql`d.at >= ${ts(period.from)} AND d.at < ${ts(period.to)}`];
  if (project) scope.push(sql`d.project = ${project}`);
  if (env) scope.push(envIn(sql`d.environment`, env));
  const rows = await ctx.store.query<DeployRow>(
    sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE ${sql.join(scope, sql` AND `)}
        ORDER BY d.at DESC, d.id DESC LIMIT 5000`,
  );
  const b = new AnswerBuilder();
  if (note) b.headline(note);
  const envText = env ? ` in ${esc(env)}` : "";
  const isProd = (d: DeployRow) => sameEnv(d.environment, "prod");
  const releasedTickets = (ds: DeployRow[]) =>
    new Set(ds.filter((d) => d.status === "success" && isProd(d)).flatMap((d) => d.tickets));

  if (!project) {
    const byProject = new Map<string, DeployRow[]>();
    for (const d of rows) {
      const k = d.project ?? "(no project)";
      byProject.set(k, [...(byProject.get(k) ?? []), d]);
    }
    if (byProject.size === 0) {
      b.headline(`No project deployed anything${envText} ${span}.`);
      return b.from(`from the deploys ${span}`).build();
    }
    b.headline(`${byProject.size} project${byProject.size === 1 ? "" : "s"} deployed${envText} ${span}:`);
    b.list(
      "",
      [...byProject]
        .sort((a, b) => b[1].length - a[1].length)
        .map(([p, ds]) => {
          const bad = ds.filter((d) => d.status !== "success").length;
          return `${code(p)}: ${ds.length} deploy${ds.length === 1 ? "" : "s"}${bad ? ` (${bad} failed)` : ""}, ${releasedTickets(ds).size} ticket(s) released to prod, latest ${deployLine(ds[0]!, tz, ctx.now)}`;
        }),
    );
    b.section("Ask about one: _what's happening in project PRJ-CHECKOUT?_");
    return b.from(`from ${rows.length} deploys ${span}`).build();
  }

  const failed = rows.filter((d) => d.status !== "success");
  const released = releasedTickets(rows);
  const allTickets = new Set(rows.flatMap((d) => d.tickets));
  const inFlight = [...allTickets].filter((t) => !released.has(t)).sort();
  b.headline(
    `${code(project)} ${span}${envText}: ${rows.length} deploy${rows.length === 1 ? "" : "s"} (${
      failed.length ? `${failed.length} failed` : "none failed"
    }), ${released.size} ticket${released.size === 1 ? "" : "s"} released to prod${
      inFlight.length ? `, ${inFlight.length} not in prod yet` : ""
    }.`,
  );
  if (rows.length === 0) {
    const last = await ctx.store.query<DeployRow>(
      sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE d.project = ${project} ORDER BY d.at DESC, d.id DESC LIMIT 1`,
    );
    if (last[0]) b.section(`Its last deploy: ${deployLine(last[0], tz, ctx.now)}`);
  }

  // Artifacts: each one's latest version per environment in the period.
  const artifacts = new Map<string, { kind: string; envs: Map<string, DeployRow> }>();
  for (const d of rows) {
    const a = artifacts.get(d.artifact) ?? { kind: d.kind, envs: new Map() };
    if (!a.envs.has(d.environment ?? "")) a.envs.set(d.environment ?? "", d);
    artifacts.set(d.artifact, a);
  }
  if (artifacts.size)
    b.list(
      "Artifacts (latest deploy per environment)",
      [...artifacts].map(
        ([name, a]) =>
          `${code(name)} (${esc(a.kind)}): ${[...a.envs.values()]
            .sort((x, y) => (envRank(x.environment) < envRank(y.environment) ? -1 : 1))
            .map(
              (d) =>
                `${d.status === "success" ? "" : `${statusIcon(d.status)} `}${esc(d.version ?? "?")} in ${esc(d.environment ?? "(none)")}${
                  d.status === "success" ? "" : ` ${statusWord(d.status)}`
                }`,
            )
            .join(", ")}`,
      ),
    );
  if (failed.length)
    b.list(
      "Failed deploys",
      failed.map((d) => deployLine(d, tz, ctx.now)),
      5,
    );
  const ticketLines: string[] = [];
  if (released.size) ticketLines.push(`*Released to prod:* ${[...released].sort().map(esc).join(", ")}`);
  if (inFlight.length) ticketLines.push(`*Not in prod yet:* ${inFlight.map(esc).join(", ")}`);
  if (ticketLines.length) b.section(ticketLines.join("\n"));

  // Related pipelines and tests (the rule is in the header comment and said below).
  const keys = artifactKeys([...artifacts.keys()]);
  let jobCount = 0;
  let testTotal = 0;
  if (keys.length) {
    const jobs = await ctx.store.query<{ id: number; name: string; group_name: string | null }>(
      sql`SELECT j.id, j.name, j.group_name FROM jobs j
          WHERE (j.group_name IN ${inList(keys)} OR j.name IN ${inList(keys)}
            OR regexp_replace(j.name, '^.*[./]', '') IN ${inList(keys)})
            ${env ? sql`AND ${envIn(sql`j.environment`, env)}` : sql``}
          ORDER BY j.name`,
    );
    jobCount = jobs.length;
    const ids = jobs.map((j) => j.id);
    const fromDay = period.from.toISOString().slice(0, 10);
    const toDay = period.to.toISOString().slice(0, 10);
    const stats = ids.length
      ? await ctx.store.query<{ name: string; runs: number; failures: number }>(
          sql`SELECT j.name, sum(d.runs)::int AS runs, sum(d.failures)::int AS failures
              FROM run_daily d JOIN jobs j ON j.id = d.job_id
              WHERE d.job_id IN (SELECT (jsonb_array_elements_text(${json(ids)}))::int)
                AND d.day >= ${fromDay}::date AND d.day <= ${toDay}::date
              GROUP BY j.name`,
        )
      : [];
    const runs = stats.reduce((n, s) => n + s.runs, 0);
    const failures = stats.filter((s) => s.failures > 0).sort((a, b) => b.failures - a.failures);
    if (jobs.length) {
      const groups = [...new Set(jobs.map((j) => j.group_name ?? j.name))];
      const title = `Related pipelines: ${jobs.length} job${jobs.length === 1 ? "" : "s"} (${groups.map(esc).join(", ")}), ${runs} runs ${span}`;
      if (failures.length)
        b.list(
          title,
          failures.map(
            (s) => `${statusIcon("failed")} ${code(s.name)}: ${s.failures} of ${s.runs} runs failed`,
          ),
          6,
        );
      else b.section(`*${title}, none failed*`);
    }
    // Tests of those jobs or on datasets named like an artifact; results by (test, at) index.
    const testScope = sql`(t.job_id IN (SELECT (jsonb_array_elements_text(${json(ids)}))::int)
        OR t.dataset_id IN (SELECT x.id FROM datasets x WHERE regexp_replace(x.name, '^.*[./]', '') IN ${inList(keys)}))`;
    const resultScope = sql`r.test_id = t.id AND r.at >= ${ts(period.from)} AND r.at < ${ts(period.to)}
        ${env ? sql`AND ${envIn(sql`r.environment`, env)}` : sql``}`;
    const counts = await ctx.store.query<TestCount>(
      sql`SELECT r.status, count(*)::int AS n FROM tests t JOIN test_results r ON ${resultScope}
          WHERE ${testScope} GROUP BY r.status`,
    );
    testTotal = counts.reduce((n, c) => n + c.n, 0);
    if (testTotal) {
      const bad = await ctx.store.query<TestRow>(
        sql`SELECT t.name AS test, r.status, r.environment, r.at::text AS at, r.value
            FROM tests t JOIN test_results r ON ${resultScope}
            WHERE ${testScope} AND r.status NOT IN ('pass', 'skip')
            ORDER BY r.at DESC LIMIT 20`,
      );
      const order = ["fail", "error", "warn", "pass", "skip"];
      b.list(
        `Related tests: ${testTotal} results ${span} — ${counts
          .sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status))
          .map((c) => `${c.n} ${c.status}`)
          .join(", ")}`,
        bad.map(
          (r) =>
            `${statusIcon(r.status)} ${code(r.test)} ${r.status}${r.environment ? ` in ${esc(r.environment)}` : ""} ${when(new Date(r.at), tz, ctx.now)}${
              r.value ? `: ${esc(r.value.slice(0, 120))}` : ""
            }`,
        ),
        6,
      );
    }
  }
  b.section(
    "_Related = jobs in a group named like one of the project's artifacts or named like one, datasets named like one, and the tests of those jobs and datasets._",
  );
  return b
    .from(
      `from ${rows.length} deploys of ${project}, ${jobCount} related jobs' run_daily and ${testTotal} test results ${span}`,
    )
    .build();
}

export default command;
