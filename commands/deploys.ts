// Deploys: did the deploy of an artifact work (its latest deploy, the failed attempts before
// it, every environment's latest), what version of it is where, and how many deploys — by
// kind, status and environment — happened in a period, failures first with what fixed them.
// Reads only the deploys table, always through one of its indexes: (artifact, at) for one
// artifact, (project, at) for one project, (at) for a period, and the partial index on
// non-successes for failure questions.
//
// Periods and environments come from src/questions/scope.ts, shared with the sibling
// families (projects, schema-changes, environments).
import { type SQL, sql } from "drizzle-orm";
import type { DeployKind } from "../src/db/schema.ts";
import { json, ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import {
  Period,
  canonicalEnv,
  envIn,
  envRank,
  environmentOf,
  periodDays,
  periodOf,
} from "../src/questions/scope.ts";
import { pct, plainWords, statusIcon } from "../src/questions/format.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { during, formatDateTime } from "../src/time/index.ts";
import type { AskContext, Command, Question } from "../src/questions/types.ts";

export interface DeployRow {
  id: number;
  artifact: string;
  kind: string;
  version: string | null;
  environment: string | null;
  status: string;
  at: string;
  project: string | null;
  tickets: string[];
}

export const DEPLOY_COLUMNS = sql`d.id::float8 AS id, d.artifact, d.kind, d.version, d.environment, d.status,
  d.at::text AS at, d.project, to_json(d.tickets) AS tickets`;

const STATUS_WORD: Record<string, string> = {
  success: "succeeded",
  failed: "failed",
  rolled_back: "rolled back",
};

export const statusWord = (s: string): string => STATUS_WORD[s] ?? s;

/** "on Fri 20 Nov 17:05", "yesterday 17:05", "today 08:10". */
export function when(at: Date, tz: string, now: Date): string {
  const s = formatDateTime(at, tz, now);
  return /^(?:today|yesterday)\b/.test(s) ? s : `on ${s}`;
}

/** ✅ `finance_close` v1.8.1 → prod: succeeded on Fri 20 Nov 17:05 (DATA-1252, DATA-1255) */
export function deployLine(d: DeployRow, tz: string, now: Date, withArtifact = true): string {
  const name = withArtifact ? `${code(d.artifact)} ` : "";
  const version = d.version ? esc(d.version) : "(no version)";
  const env = d.environment ? ` → ${esc(d.environment)}` : "";
  const tickets = d.tickets.length ? ` (${d.tickets.map(esc).join(", ")})` : "";
  return `${statusIcon(d.status)} ${name}${version}${env}: ${statusWord(d.status)} ${when(new Date(d.at), tz, now)}${tickets}`;
}

/** Jira-style ticket keys (DATA-1252): upper case, so that a name like etl-2 stays a name. */
export const TICKET = /^[A-Z][A-Z0-9]*-\d+$/;
/** Semver-like versions (v1.8.0, 2.4): a filter, not a name. A commit sha cannot be told from a name. */
const VERSION = /^v?\d+(?:\.\d+)+(?:[-+][\w.]+)?$/i;

// ---------------------------------------------------------------------------------------
// This family.

const DEPLOY_WORDS =
  /\b(?:re-?)?deploy(?:s|ed|ing|ment|ments)?\b|\bship(?:s|ped)?\b|\broll(?:ed)?[ -]?backs?\b|\bwent live\b|\bgo(?:ne)? live\b/;
const RELEASE_WORDS = /\breleas(?:e|es|ed|ing)\b/;
const VERSION_Q = /\bversions?\b/;
const COUNT_Q = /\bhow (?:many|often|frequently)\b|\bnumber of\b|\bcount\b|\bper (?:day|week)\b/;
/** Plural nouns ask for a list ("failed deploys of X"), not "did the deploy of X work". */
const PLURAL = /\b(?:deploys|deployments|releases|rollbacks)\b/;
const FAILED = /\bfail(?:s|ed|ing|ures?)?\b|\bbroken?\b|\bunsuccessful\b|\bwent wrong\b|\berror(?:s|ed)?\b/;
const ROLLED_BACK = /\broll(?:ed)?[ -]?backs?\b|\breverted\b/;
const SUCCEEDED = /\bsuccessful(?:ly)?\b|\bsucceeded\b|\bsuccess(?:es)?\b|\bworked\b/;
// The schema's deploy kinds (DEPLOY_KINDS) as people say them.
const KIND_WORDS: [RegExp, DeployKind][] = [
  [/\bmodels?\b/, "model"],
  [/\bdashboards?\b/, "dashboard"],
  [/\bcode\b/, "code"],
  [/\bpipelines?\b/, "pipeline"],
  [/\bschemas?\b/, "schema"],
];
/** Nouns an environment may precede: "prod deploys", "staging releases". */
const ENV_NOUNS = ["deploys?", "deployments?", "releases?", "rollbacks?"];

type StatusClass = "failed" | "rolled_back" | "success" | undefined;

interface Filters {
  env: string | undefined;
  artifact: string | undefined;
  project: string | undefined;
  version: string | undefined;
}

function where(f: Filters, p: Period | undefined, kinds: DeployKind[] = []): SQL {
  const parts: SQL[] = [];
  if (f.artifact !== undefined) parts.push(sql`d.artifact = ${f.artifact}`);
  if (f.project !== undefined) parts.push(sql`d.project = ${f.project}`);
  if (p) parts.push(sql`d.at >= ${ts(p.from)} AND d.at < ${ts(p.to)}`);
  if (f.env !== undefined) parts.push(envIn(sql`d.environment`, f.env));
  if (kinds.length) parts.push(sql`d.kind IN (SELECT jsonb_array_elements_text(${json(kinds)}))`);
  if (f.version !== undefined) {
    const v = f.version.replace(/^v/i, "").toLowerCase();
    parts.push(sql`lower(d.version) IN (${v}, ${`v${v}`})`);
  }
  return parts.length ? sql.join(parts, sql` AND `) : sql`true`;
}

function scopeText(f: Filters, kinds: DeployKind[] = []): { noun: (n: number) => string; tail: string } {
  const kind = kinds.length ? `${kinds.join("/")} ` : "";
  const noun = (n: number) => `${kind}deploy${n === 1 ? "" : "s"}`;
  let tail = "";
  if (f.artifact) tail += ` of ${code(f.artifact)}`;
  if (f.version) tail += ` ${esc(f.version)}`;
  if (f.project) tail += ` in ${code(f.project)}`;
  if (f.env) tail += ` to ${esc(f.env)}`;
  return { noun, tail };
}

const command: Command = {
  id: "deploys",
  title: "Deploys",
  summary:
    "whether a deploy worked, which version is in which environment, and how many deploys (by kind, status, environment) in a period",
  examples: [
    "did the deployment of finance_close work?",
    "what version of fct_orders is in which environment?",
    "how many deploys failed this month?",
    "how many model deploys in the last 30 days?",
    "failed deploys in the last 7 days",
  ],
  match(q) {
    // Tickets released are the projects family's; a schema *change* is schema-changes'.
    if (/\btickets?\b|\bjira\b/.test(q.text) || q.names.some((n) => TICKET.test(n))) return 0;
    if (DEPLOY_WORDS.test(q.text)) return 0.9;
    if (VERSION_Q.test(q.text) && !/\bschemas?\b/.test(q.text)) return 0.85;
    if (RELEASE_WORDS.test(q.text)) return 0.7;
    return 0;
  },
  async run(ctx, q) {
    const store = ctx.store;
    const names = q.names.filter((n) => !VERSION.test(n) && !TICKET.test(n));
    const project = await findKnown(store, "project", names);
    const rest = names.filter((n) => n !== project);
    let artifact =
      (await findKnown(store, "artifact", rest)) ??
      (project ? undefined : await findKnown(store, "artifact", plainWords(q)));
    // A name that is neither a project nor an artifact gets "did you mean".
    if (!artifact && rest.length) artifact = await resolveName(store, "artifact", rest[0]!);
    const f: Filters = {
      env: environmentOf(q, ENV_NOUNS),
      artifact,
      project,
      version: q.names.find((n) => VERSION.test(n)),
    };

    const counting = COUNT_Q.test(q.text);
    if (VERSION_Q.test(q.text) && !counting && !f.version) return versions(ctx, q, f);
    if (artifact && !counting && !PLURAL.test(q.text)) return artifactStatus(ctx, q, f);
    return counts(ctx, q, f);
  },
};

/** "Did the deploy of X work?": its latest deploy, failed attempts before it, each environment's latest. */
async function artifactStatus(ctx: AskContext, q: Question, f: Filters) {
  const tz = ctx.timezone;
  const artifact = f.artifact!;
  const period = periodOf(q, ctx.now, 30);
  const inPeriod = period.given ? period : undefined;
  const rows = await ctx.store.query<DeployRow>(
    sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE ${where(f, inPeriod)}
        ORDER BY d.at DESC, d.id DESC LIMIT 200`,
  );
  const b = new AnswerBuilder();
  const scope = `${f.version ? ` ${esc(f.version)}` : ""}${f.env ? ` to ${esc(f.env)}` : ""}${inPeriod ? ` ${during(inPeriod.label)}` : ""}`;
  if (rows.length === 0) {
    b.headline(`No — ${code(artifact)}${scope ? ` has no deploys${scope}` : " has no deploys on record"}.`);
    const before = await ctx.store.query<DeployRow>(
      sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE ${where({ ...f, env: undefined, version: undefined }, undefined)}
          ORDER BY d.at DESC, d.id DESC LIMIT 3`,
    );
    if (before.length)
      b.list(
        "Its latest deploys",
        before.map((d) => deployLine(d, tz, ctx.now, false)),
      );
    return b.from(`from the deploy history of ${artifact}`).build();
  }

  const latest = rows[0]!;
  const sameEnv = rows.filter((r) => r.environment === latest.environment);
  const lead = `the latest deploy of ${code(artifact)}${scope}, ${esc(latest.version ?? "(no version)")}${
    latest.environment && !f.env ? ` to ${esc(latest.environment)}` : ""
  } ${when(new Date(latest.at), tz, ctx.now)}`;
  // "Did it fail?" is answered Yes when it failed; "did it work?" Yes when it worked.
  const asksFailure = FAILED.test(q.text) || ROLLED_BACK.test(q.text);
  if (latest.status === "success") {
    b.headline(`${asksFailure ? "No" : "Yes"} — ${lead}, succeeded.`);
    // Failed attempts right before this success, in the same environment: "it took two tries".
    const attempts: DeployRow[] = [];
    for (const r of sameEnv.slice(1)) {
      if (r.status === "success") break;
      attempts.push(r);
    }
    if (attempts.length) {
      b.list(
        `:warning: Before it, ${attempts.length} failed attempt${attempts.length > 1 ? "s" : ""}${
          latest.environment ? ` in ${esc(latest.environment)}` : ""
        }:`,
        attempts.map((d) => deployLine(d, tz, ctx.now, false)),
        5,
      );
    }
  } else {
    b.headline(`${asksFailure ? "Yes" : "No"} — ${lead}, ${statusWord(latest.status)}.`);
    const good = sameEnv.find((r) => r.status === "success");
    if (latest.environment)
      b.section(
        good
          ? `${esc(latest.environment)} is still on ${esc(good.version ?? "(no version)")}, deployed ${when(new Date(good.at), tz, ctx.now)}.`
          : `There is no successful deploy of it to ${esc(latest.environment)}${inPeriod ? ` ${during(inPeriod.label)}` : " on record"}.`,
      );
  }

  // Every environment's latest deploy (the newest row per environment among those read).
  const perEnv = new Map<string, DeployRow>();
  for (const r of rows) if (!perEnv.has(r.environment ?? "")) perEnv.set(r.environment ?? "", r);
  const envs = [...perEnv.values()].sort((a, b) =>
    envRank(a.environment) < envRank(b.environment) ? -1 : 1,
  );
  if (envs.length > 1 || !f.env) {
    b.fields(
      envs.map((d) => [
        esc(d.environment ?? "(no environment)"),
        `${statusIcon(d.status)} ${esc(d.version ?? "(no version)")} ${statusWord(d.status)} ${formatDateTime(new Date(d.at), tz, ctx.now)}`,
      ]),
    );
    const broken = envs.filter((d) => d !== latest && d.status !== "success");
    for (const d of broken)
      b.section(
        `:x: In ${esc(d.environment ?? "(no environment)")} its latest deploy failed: ${deployLine(d, tz, ctx.now, false)}`,
      );
  }
  if (rows.length > 1)
    b.list(
      "Recent deploys",
      rows.slice(0, 10).map((d) => deployLine(d, tz, ctx.now, false)),
      10,
    );
  return b
    .from(
      `from ${rows.length}${rows.length === 200 ? "+" : ""} deploy${rows.length === 1 ? "" : "s"} of ${artifact}${
        inPeriod ? ` ${during(inPeriod.label)}` : " on record"
      }`,
    )
    .build();
}

/** "What version of X is in which environment?": the latest successful deploy per environment. */
async function versions(ctx: AskContext, q: Question, f: Filters) {
  const tz = ctx.timezone;
  const b = new AnswerBuilder();
  if (!f.artifact) {
    // No artifact named: what is deployed, for everything deployed in the period.
    const period = periodOf(q, ctx.now, 30);
    const rows = await ctx.store.query<DeployRow>(
      sql`SELECT DISTINCT ON (d.artifact, coalesce(d.environment, '')) ${DEPLOY_COLUMNS}
          FROM deploys d WHERE ${where(f, period)} AND d.status = 'success'
          ORDER BY d.artifact, coalesce(d.environment, ''), d.at DESC, d.id DESC`,
    );
    const byArtifact = new Map<string, DeployRow[]>();
    for (const r of rows) byArtifact.set(r.artifact, [...(byArtifact.get(r.artifact) ?? []), r]);
    const env = f.env ? ` to ${esc(f.env)}` : "";
    if (byArtifact.size === 0) {
      b.headline(`Nothing was deployed successfully${env} ${during(period.label)}.`);
      return b.from(`from the deploys ${during(period.label)}`).build();
    }
    b.headline(
      `${byArtifact.size} artifact${byArtifact.size === 1 ? " was" : "s were"} deployed${env} ${during(period.label)}; their latest versions:`,
    );
    b.list(
      "",
      [...byArtifact].map(
        ([a, ds]) =>
          `${code(a)} (${esc(ds[0]!.kind)}): ${ds
            .sort((x, y) => (envRank(x.environment) < envRank(y.environment) ? -1 : 1))
            .map((d) => `${esc(d.version ?? "?")} in ${esc(d.environment ?? "(no environment)")}`)
            .join(", ")}`,
      ),
      20,
    );
    b.section("Name one for its whole history: _what version of fct_orders is in prod?_");
    return b.from(`from ${rows.length} latest successful deploys ${during(period.label)}`).build();
  }

  const artifact = f.artifact;
  const [ok, latest] = await Promise.all(
    ["success", undefined].map((status) =>
      ctx.store.query<DeployRow>(
        sql`SELECT DISTINCT ON (coalesce(d.environment, '')) ${DEPLOY_COLUMNS}
            FROM deploys d WHERE ${where(f, undefined)} ${status ? sql`AND d.status = ${status}` : sql``}
            ORDER BY coalesce(d.environment, ''), d.at DESC, d.id DESC`,
      ),
    ),
  );
  const byRank = (a: DeployRow, b: DeployRow) => (envRank(a.environment) < envRank(b.environment) ? -1 : 1);
  ok!.sort(byRank);
  const where_ = f.env ? ` in ${esc(f.env)}` : "";
  if (ok!.length === 0) {
    b.headline(`${code(artifact)} has no successful deploy${where_} on record.`);
  } else if (ok!.length === 1) {
    const d = ok![0]!;
    b.headline(
      `${code(artifact)} is at ${esc(d.version ?? "(no version)")} in ${esc(d.environment ?? "(no environment)")}, deployed ${when(new Date(d.at), tz, ctx.now)}.`,
    );
  } else {
    const versionsSeen = new Set(ok!.map((d) => d.version));
    b.headline(
      versionsSeen.size === 1
        ? `${code(artifact)} is at ${esc(ok![0]!.version ?? "(no version)")} in every environment it is deployed to (${ok!
            .map((d) => esc(d.environment ?? "(none)"))
            .join(", ")}).`
        : `${code(artifact)}: ${ok!.map((d) => `${esc(d.version ?? "?")} in ${esc(d.environment ?? "(no environment)")}`).join(", ")}.`,
    );
  }
  if (ok!.length)
    b.fields(
      ok!.map((d) => [
        esc(d.environment ?? "(no environment)"),
        `${esc(d.version ?? "(no version)")} since ${formatDateTime(new Date(d.at), tz, ctx.now)}${
          d.tickets.length ? ` (${d.tickets.map(esc).join(", ")})` : ""
        }`,
      ]),
    );
  // A newer attempt that did not succeed means the environment is behind what was intended.
  for (const l of latest!.sort(byRank)) {
    if (l.status === "success") continue;
    const running = ok!.find((d) => d.environment === l.environment);
    b.section(
      `:warning: A newer deploy to ${esc(l.environment ?? "(no environment)")} ${statusWord(l.status)}: ${deployLine(l, tz, ctx.now, false)}${
        running ? ` — it is still on ${esc(running.version ?? "(no version)")}` : ""
      }.`,
    );
  }
  return b.from(`from the latest deploy of ${artifact} to each environment`).build();
}

/** "How many deploys …", "failed deploys …": counts by status, kind and environment, and the list. */
async function counts(ctx: AskContext, q: Question, f: Filters) {
  const tz = ctx.timezone;
  const period = periodOf(q, ctx.now, 30);
  const kinds = KIND_WORDS.filter(([re]) => re.test(q.text)).map(([, k]) => k);
  const status: StatusClass = ROLLED_BACK.test(q.text)
    ? "rolled_back"
    : FAILED.test(q.text)
      ? "failed"
      : SUCCEEDED.test(q.text)
        ? "success"
        : undefined;
  const cond = where(f, period, kinds);
  const groups = await ctx.store.query<{
    kind: string;
    status: string;
    environment: string | null;
    n: number;
  }>(
    sql`SELECT d.kind, d.status, d.environment, count(*)::int AS n
        FROM deploys d WHERE ${cond} GROUP BY 1, 2, 3`,
  );
  const total = groups.reduce((s, g) => s + g.n, 0);
  const inStatus = (s: string) =>
    status === "failed" ? s !== "success" : status === undefined ? true : s === status;
  const matching = groups.filter((g) => inStatus(g.status)).reduce((s, g) => s + g.n, 0);
  const by = (key: "kind" | "environment") => {
    const m = new Map<string, { n: number; bad: number }>();
    for (const g of groups) {
      if (!inStatus(g.status)) continue;
      const k = key === "environment" ? (canonicalEnv(g.environment) ?? "(no environment)") : g[key];
      const e = m.get(k) ?? { n: 0, bad: 0 };
      e.n += g.n;
      if (g.status !== "success") e.bad += g.n;
      m.set(k, e);
    }
    // Environments in their usual order (prod first), kinds by how many.
    return [...m].sort((a, b) =>
      key === "environment"
        ? envRank(a[0]) < envRank(b[0])
          ? -1
          : 1
        : b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1),
    );
  };

  const { noun, tail } = scopeText(f, kinds);
  const span = during(period.label);
  const b = new AnswerBuilder();
  const rate = COUNT_Q.test(q.text) && /\bhow (?:often|frequently)\b/.test(q.text);
  const perWeek = (n: number) => `about ${(n / (periodDays(period) / 7)).toFixed(1)} a week`;
  const statusCount = (s: string) => groups.filter((g) => g.status === s).reduce((a, g) => a + g.n, 0);

  if (status === "failed" || status === "rolled_back") {
    const word = status === "rolled_back" ? "rolled back" : "failed";
    if (matching === 0) {
      b.headline(
        `No ${noun(2)}${tail} ${word} ${span}${total ? ` — all ${total} ${total === 1 ? "was" : "were"} fine` : ""}.`,
      );
    } else {
      const rb = status === "failed" ? statusCount("rolled_back") : 0;
      b.headline(
        `${matching} ${noun(matching)}${tail} ${word}${rb ? " or were rolled back" : ""} ${span} — ${pct(matching, total)} of ${total}.`,
      );
    }
  } else if (status === "success") {
    b.headline(
      `${matching} successful ${noun(matching)}${tail} ${span}${total > matching ? ` (of ${total})` : ""}.`,
    );
  } else if (total === 0) {
    b.headline(`No ${noun(2)}${tail} ${span}.`);
  } else {
    const parts = ["success", "failed", "rolled_back"]
      .map((s) => [s, statusCount(s)] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${statusWord(s)}`);
    b.headline(
      `${total} ${noun(total)}${tail} ${span}${rate ? ` (${perWeek(total)})` : ""}: ${
        parts.length === 1 && statusCount("success") === total ? "all succeeded" : parts.join(", ")
      }.`,
    );
  }

  if (matching > 0) {
    const line = (rows: [string, { n: number; bad: number }][]) =>
      rows
        .map(
          ([k, v]) => `${esc(k)} ${v.n}${status === undefined && v.bad ? ` (${v.bad} not successful)` : ""}`,
        )
        .join(" · ");
    const details: string[] = [];
    if (kinds.length !== 1) details.push(`*By kind:* ${line(by("kind"))}`);
    if (!f.env) details.push(`*By environment:* ${line(by("environment"))}`);
    if (details.length) b.section(details.join("\n"));
  }

  // The failures themselves (partial index deploys_failed_idx: the predicate is the index's),
  // each with the first later success of the same artifact in the same environment.
  if (status !== "success") {
    const bad = await ctx.store.query<DeployRow & { fix_version: string | null; fix_at: string | null }>(
      sql`SELECT ${DEPLOY_COLUMNS}, fix.version AS fix_version, fix.at::text AS fix_at
          FROM deploys d
          LEFT JOIN LATERAL (
            SELECT x.version, x.at FROM deploys x
            WHERE x.artifact = d.artifact AND x.environment IS NOT DISTINCT FROM d.environment
              AND x.status = 'success' AND x.at > d.at
            ORDER BY x.at LIMIT 1) fix ON true
          WHERE d.status <> 'success' AND ${cond}
            ${status === "rolled_back" ? sql`AND d.status = 'rolled_back'` : sql``}
          ORDER BY d.at DESC, d.id DESC LIMIT 50`,
    );
    b.list(
      status ? "" : "Not successful",
      bad.map(
        (d) =>
          `${deployLine(d, tz, ctx.now)} — ${
            d.fix_at
              ? `fixed by ${esc(d.fix_version ?? "(no version)")} ${when(new Date(d.fix_at), tz, ctx.now)}`
              : "no successful deploy since"
          }`,
      ),
    );
  }
  if (status !== "failed" && status !== "rolled_back" && matching > 0) {
    const recent = await ctx.store.query<DeployRow>(
      sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE ${cond}
            ${status === "success" ? sql`AND d.status = 'success'` : sql``}
          ORDER BY d.at DESC, d.id DESC LIMIT 10`,
    );
    b.list(
      `Latest ${Math.min(recent.length, matching)} of ${matching}`,
      recent.map((d) => deployLine(d, tz, ctx.now)),
    );
  }
  return b.from(`from ${total} deploy record${total === 1 ? "" : "s"} ${span}`).build();
}

export default command;
