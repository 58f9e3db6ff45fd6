// Schema changes: how often does the production schema change, which tables changed their
// columns in a period, did the schema of dataset X change — with what was added, removed or
// retyped, and a rate per week.
//
// A change is a dataset update whose schema fingerprint differs from the previous update's
// (dataset_updates.schema_changed, set at ingest). Which environment a change belongs to:
// the producing run's environment, else its job's; when neither is known (supplier
// deliveries, OpenLineage events without an environment facet) the dataset's namespace
// decides if it names one (warehouse_staging, snowflake://…/dev_db); anything else is
// production. The namespace, not the dataset name: "staging.stg_orders" is a dbt layer,
// not an environment. The demo's prod tables live in namespace `warehouse`, its staging and
// dev copies in `warehouse_staging` / `warehouse_dev`, and every update carries its run, so
// both readings agree there.
import { sql } from "drizzle-orm";
import { ts } from "../src/db/sql.ts";
import { plainWords } from "../src/questions/format.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { during, formatDateTime } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";
import { TICKET, when } from "./deploys.ts";
import { canonicalEnv, ENV_WORDS, environmentOf, periodDays, periodOf } from "../src/questions/scope.ts";

interface Field {
  name: string;
  type?: string;
}

interface ChangeRow {
  namespace: string;
  name: string;
  updated_at: string;
  fields: Field[] | null;
  prev_fields: Field[] | null;
  run_env: string | null;
  job_env: string | null;
  job: string | null;
}

const SCHEMA = /\bschemas?\b|\bcolumns?\b|\bfields?\b/;
const CHANGE =
  /\bchang(?:e|es|ed|ing)\b|\bdrift(?:s|ed)?\b|\bevolv(?:e|es|ed)\b|\balter(?:s|ed)?\b|\bmodified\b/;
const COLUMN_EVENT =
  /\bcolumns?\b.*\b(?:added|removed|dropped|renamed|new)\b|\b(?:added|removed|dropped|new)\b.*\bcolumns?\b/;
const ALL_ENVS = /\b(?:all|any|every) environments?\b|\bacross environments\b/;
/** At most this many changes are read: more in one period is itself the answer. */
const LIMIT = 2000;

/** The environment a namespace names, by its tokens: warehouse_staging → staging. */
function namespaceEnv(ns: string): string | undefined {
  for (const tok of ns.toLowerCase().split(/[^a-z0-9]+/)) {
    const env = ENV_WORDS[tok];
    if (env && tok !== "live") return env;
  }
  return undefined;
}

function changeEnv(r: ChangeRow): string {
  return canonicalEnv(r.run_env) ?? canonicalEnv(r.job_env) ?? namespaceEnv(r.namespace) ?? "prod";
}

function fieldList(v: unknown): Field[] {
  if (!Array.isArray(v)) return [];
  return v.filter((f): f is Field => typeof f === "object" && f !== null && typeof f.name === "string");
}

/** "added discount_amount DECIMAL(12,2); removed x; amount DECIMAL → FLOAT". */
function describeDiff(before: Field[], after: Field[]): string {
  if (before.length === 0)
    return after.length ? `${after.length} columns (no earlier schema to compare)` : "";
  const old = new Map(before.map((f) => [f.name, f.type ?? ""]));
  const cur = new Map(after.map((f) => [f.name, f.type ?? ""]));
  const parts: string[] = [];
  const added = after.filter((f) => !old.has(f.name));
  const removed = before.filter((f) => !cur.has(f.name));
  const retyped = after.filter((f) => old.has(f.name) && old.get(f.name) !== (f.type ?? ""));
  if (added.length)
    parts.push(`added ${added.map((f) => `${f.name}${f.type ? ` ${f.type}` : ""}`).join(", ")}`);
  if (removed.length) parts.push(`removed ${removed.map((f) => f.name).join(", ")}`);
  if (retyped.length)
    parts.push(`retyped ${retyped.map((f) => `${f.name} ${old.get(f.name)} → ${f.type}`).join(", ")}`);
  return esc(parts.join("; ") || "column order or metadata changed");
}

/** Which kinds of change a schema change made: added, removed (dropping or renaming), retyped columns. */
function kindsOf(before: Field[], after: Field[]): Set<"added" | "removed" | "retyped"> {
  const out = new Set<"added" | "removed" | "retyped">();
  if (before.length === 0) return out;
  const old = new Map(before.map((f) => [f.name, f.type ?? ""]));
  const cur = new Set(after.map((f) => f.name));
  if (after.some((f) => !old.has(f.name))) out.add("added");
  if (before.some((f) => !cur.has(f.name))) out.add("removed");
  if (after.some((f) => old.has(f.name) && old.get(f.name) !== (f.type ?? ""))) out.add("retyped");
  return out;
}

/** The kinds of change a question asks about ("were any columns dropped or renamed"), none for any. */
function askedKinds(text: string): { kinds: Set<"added" | "removed" | "retyped">; words: string } {
  const kinds = new Set<"added" | "removed" | "retyped">();
  const said: string[] = [];
  for (const [re, kind, word] of [
    [/\b(?:dropped|drop|removed|deleted)\b/, "removed", "dropped"],
    [/\brenamed\b/, "removed", "renamed"],
    [/\b(?:added|new)\b/, "added", "added"],
    [/\b(?:retyped|type changes?|changed types?|types? changed)\b/, "retyped", "retyped"],
  ] as const) {
    if (re.test(text)) {
      kinds.add(kind);
      said.push(word);
    }
  }
  return { kinds, words: said.join(" or ") };
}

function times(n: number): string {
  return n === 1 ? "once" : n === 2 ? "twice" : `${n} times`;
}

const command: Command = {
  id: "schema-changes",
  title: "Schema changes",
  summary: "how often table schemas change (production by default), which tables changed and how",
  examples: [
    "how often does the production schema change?",
    "which tables changed schema in the last 30 days?",
    "did the schema of analytics.fct_orders change this week?",
    "were columns added or removed in staging this month?",
  ],
  match(q) {
    // "schema deploys" are deploys (kind schema), not observed changes.
    if (/\bdeploy/.test(q.text)) return 0;
    if (SCHEMA.test(q.text) && CHANGE.test(q.text)) return 0.9;
    if (COLUMN_EVENT.test(q.text)) return 0.85;
    return 0;
  },
  async run(ctx, q) {
    const tz = ctx.timezone;
    const period = periodOf(q, ctx.now, 30);
    const allEnvs = ALL_ENVS.test(q.text);
    const env = allEnvs ? undefined : (environmentOf(q, ["schemas?", "tables?", "datasets?"]) ?? "prod");
    const names = q.names.filter((n) => !TICKET.test(n));
    let dataset = await findKnown(ctx.store, "dataset", names);
    if (!dataset && names.length) dataset = await resolveName(ctx.store, "dataset", names[0]!);
    dataset ??= await findKnown(ctx.store, "dataset", plainWords(q));

    // Per dataset, an index range scan of its updates in the period (dataset_updates_dataset_time_idx);
    // the producing run by primary key; the previous schema by the same index, one row.
    const rows = await ctx.store.query<ChangeRow>(
      sql`SELECT d.namespace, d.name, u.updated_at::text AS updated_at, u.schema_fields AS fields,
            prev.schema_fields AS prev_fields, r.environment AS run_env, j.environment AS job_env, j.name AS job
          FROM datasets d
          CROSS JOIN LATERAL (
            SELECT x.updated_at, x.schema_fields, x.run_id FROM dataset_updates x
            WHERE x.dataset_id = d.id AND x.updated_at >= ${ts(period.from)} AND x.updated_at < ${ts(period.to)}
              AND x.schema_changed) u
          LEFT JOIN runs r ON r.id = u.run_id
          LEFT JOIN jobs j ON j.id = r.job_id
          LEFT JOIN LATERAL (
            SELECT p.schema_fields FROM dataset_updates p
            WHERE p.dataset_id = d.id AND p.updated_at < u.updated_at AND p.schema_fingerprint IS NOT NULL
            ORDER BY p.updated_at DESC LIMIT 1) prev ON true
          ${dataset ? sql`WHERE d.name = ${dataset}` : sql``}
          ORDER BY u.updated_at DESC, d.namespace, d.name
          LIMIT ${LIMIT}`,
    );
    const changes = env ? rows.filter((r) => changeEnv(r) === env) : rows;
    const elsewhere = rows.length - changes.length;

    const envName = env === "prod" ? "production" : env ? esc(env) : undefined;
    const subject = dataset
      ? `the schema of ${code(dataset)}${envName ? ` in ${envName}` : ""}`
      : envName
        ? `the ${envName} schema`
        : "schemas in all environments";
    const span = during(period.label);
    const weeks = periodDays(period) / 7;
    const yesNo = /^(?:did|has|have|was|were|is|are)\b/.test(q.text);
    const b = new AnswerBuilder();
    // "were any columns dropped or renamed": only changes of those kinds answer Yes.
    const asked = askedKinds(q.text);
    if (asked.kinds.size && changes.length) {
      const matching = changes.filter((c) => {
        const k = kindsOf(fieldList(c.prev_fields), fieldList(c.fields));
        return [...asked.kinds].some((x) => k.has(x));
      });
      if (matching.length === 0) {
        const others = changes
          .slice(0, 3)
          .map(
            (c) =>
              `${code(c.name)} ${when(new Date(c.updated_at), tz, ctx.now)} (${describeDiff(fieldList(c.prev_fields), fieldList(c.fields))})`,
          )
          .join(", ");
        const text = `no column was ${asked.words} ${span}; ${subject} changed ${times(changes.length)}, otherwise: ${others}.`;
        b.headline(yesNo ? `No — ${text}` : `${text[0]!.toUpperCase()}${text.slice(1)}`);
        return b.build();
      }
      changes.splice(0, changes.length, ...matching);
    }
    const tables = new Set(changes.map((c) => `${c.namespace}/${c.name}`));
    if (changes.length === 0) {
      const text = `${subject} did not change ${span}.`;
      b.headline(yesNo ? `No — ${text}` : `${text[0]!.toUpperCase()}${text.slice(1)}`);
    } else {
      // A rate answers "how often"; for "did X change?" the when and what matter.
      const rate = changes.length / weeks;
      const every = rate < 1 ? ` (about one every ${Math.round(1 / rate)} weeks)` : "";
      const showRate = !dataset || /\bhow (?:often|many|frequently)\b/.test(q.text);
      const head = changes
        .slice(0, 3)
        .map((c) =>
          dataset
            ? `${when(new Date(c.updated_at), tz, ctx.now)} (${describeDiff(fieldList(c.prev_fields), fieldList(c.fields))})`
            : `${code(c.name)} ${when(new Date(c.updated_at), tz, ctx.now)}`,
        )
        .join(", ");
      const text = `${subject} changed ${times(changes.length)} ${span}${
        dataset ? "" : ` in ${tables.size} table${tables.size === 1 ? "" : "s"}`
      }${showRate ? ` — ${rate.toFixed(1)} a week${every}` : ""}: ${head}${changes.length > 3 ? ", …" : ""}.`;
      b.headline(yesNo ? `Yes — ${text}` : `${text[0]!.toUpperCase()}${text.slice(1)}`);
      b.list(
        "Changes",
        changes.map((c) => {
          const diff = describeDiff(fieldList(c.prev_fields), fieldList(c.fields));
          const by = c.job ? ` by ${code(c.job)}` : "";
          return `${code(c.name)} (${esc(c.namespace)}) ${formatDateTime(new Date(c.updated_at), tz, ctx.now)}${by}${
            diff ? `: ${diff}` : ""
          }`;
        }),
      );
    }
    if (elsewhere > 0)
      b.section(
        `Not counted: ${elsewhere} change${elsewhere === 1 ? "" : "s"} in other environments (ask _in all environments_).`,
      );
    if (env)
      b.section(
        `_${envName![0]!.toUpperCase()}${envName!.slice(1)} means: the producing run (else its job) ran there; without one, the dataset's namespace decides (\`warehouse_staging\` is staging), and anything else counts as production._`,
      );
    return b
      .from(
        `from schema fingerprints of dataset updates ${span}${rows.length === LIMIT ? ` (first ${LIMIT} changes)` : ""}`,
      )
      .build();
  },
};

export default command;
