// Schema changes: how often does the production schema change, which tables changed their
// columns in a period, did the schema of dataset X change — with what was added, removed or
// retyped, and a rate per week. The changes are read by src/db/queries/schema-changes.ts.
//
// Which environment a change belongs to: the producing run's environment, else its job's;
// when neither is known (supplier deliveries, OpenLineage events without an environment
// facet) the dataset's namespace decides if it names one (warehouse_staging,
// snowflake://…/dev_db); anything else is production. The namespace, not the dataset name:
// "staging.stg_orders" is a dbt layer, not an environment. The demo's prod tables live in
// namespace `warehouse`, its staging and dev copies in `warehouse_staging` /
// `warehouse_dev`, and every update carries its run, so both readings agree there.
import { schemaChanges, type SchemaChangeRow, type SchemaField } from "../src/db/queries/schema-changes.ts";
import { plainWords } from "../src/questions/format.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { defineMeasure, frameOfWords } from "../src/questions/measure.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { canonicalEnv, ENV_WORDS, environmentOf } from "../src/questions/scope.ts";
import { during, formatDateTime } from "../src/time/index.ts";
import type { AskContext, Question } from "../src/questions/types.ts";
import type { Frame } from "../src/understanding/frame.ts";
import { TICKET, when } from "./deploys.ts";

const SCHEMA = /\bschemas?\b|\bcolumns?\b|\bfields?\b/;
const CHANGE =
  /\bchang(?:e|es|ed|ing)\b|\bdrift(?:s|ed)?\b|\bevolv(?:e|es|ed)\b|\balter(?:s|ed)?\b|\bmodified\b/;
const COLUMN_EVENT =
  /\bcolumns?\b.*\b(?:added|removed|dropped|renamed|new)\b|\b(?:added|removed|dropped|new)\b.*\bcolumns?\b/;
const ALL_ENVS = /\b(?:all|any|every) environments?\b|\bacross environments\b/;
/** At most this many changes are read: more in one period is itself the answer. */
const LIMIT = 2000;
const DAY_MS = 86_400_000;

/** The kinds of column change: added, removed (dropped or renamed away), retyped. */
export type ChangeKind = "added" | "removed" | "retyped";

/** What a schema question asks beyond its frame (the frame has no slot for these yet). */
export interface SchemaChangesAsk {
  /** "in all environments": no environment filter (else production unless one is named). */
  allEnvironments: boolean;
  /** An environment said as "production schema", "staging tables", which the frame may not carry. */
  environment?: string;
  /** The kinds of change asked about ("were columns dropped or renamed"), none for any. */
  kinds: ChangeKind[];
  /** Those kinds as said: "dropped or renamed". */
  kindWords: string;
  /** A yes/no question ("did …", "were …"). */
  yesNo: boolean;
  /** "how often / how many": the rate per week even for one dataset. */
  rate: boolean;
}

/** What one change did to the columns. */
export interface ColumnDiff {
  /** False when no earlier schema was recorded to compare with. */
  comparable: boolean;
  columns: number;
  added: SchemaField[];
  removed: SchemaField[];
  retyped: { name: string; from: string; to: string }[];
}

export interface SchemaChange {
  namespace: string;
  name: string;
  at: Date;
  job: string | null;
  /** The environment it belongs to, by the rule above. */
  environment: string;
  diff: ColumnDiff;
}

export interface SchemaChangesData {
  dataset?: string;
  /** The environment counted; undefined: all of them. */
  environment?: string;
  /** Changes in that environment, newest first; of the kinds asked only, when some were asked and some match. */
  changes: SchemaChange[];
  /** Kinds were asked and none of the changes made them: `changes` are the others then. */
  noneOfKinds: boolean;
  /** Changes read in other environments. */
  elsewhere: number;
  /** Days in the period, for the rate. */
  days: number;
  /** LIMIT changes were read: there may be more. */
  truncated: boolean;
  /** How the question was put, which the answer follows. */
  asked: Pick<SchemaChangesAsk, "yesNo" | "rate" | "kindWords">;
}

/** The environment a namespace names, by its tokens: warehouse_staging → staging. */
function namespaceEnv(ns: string): string | undefined {
  for (const tok of ns.toLowerCase().split(/[^a-z0-9]+/)) {
    const env = ENV_WORDS[tok];
    if (env && tok !== "live") return env;
  }
  return undefined;
}

function changeEnv(r: SchemaChangeRow): string {
  return canonicalEnv(r.runEnv) ?? canonicalEnv(r.jobEnv) ?? namespaceEnv(r.namespace) ?? "prod";
}

export function diffColumns(before: SchemaField[], after: SchemaField[]): ColumnDiff {
  const diff: ColumnDiff = {
    comparable: before.length > 0,
    columns: after.length,
    added: [],
    removed: [],
    retyped: [],
  };
  if (!diff.comparable) return diff;
  const old = new Map(before.map((f) => [f.name, f.type ?? ""]));
  const cur = new Set(after.map((f) => f.name));
  diff.added = after.filter((f) => !old.has(f.name));
  diff.removed = before.filter((f) => !cur.has(f.name));
  diff.retyped = after
    .filter((f) => old.has(f.name) && old.get(f.name) !== (f.type ?? ""))
    .map((f) => ({ name: f.name, from: old.get(f.name)!, to: f.type ?? "" }));
  return diff;
}

function kindsOf(d: ColumnDiff): Set<ChangeKind> {
  const out = new Set<ChangeKind>();
  if (d.added.length) out.add("added");
  if (d.removed.length) out.add("removed");
  if (d.retyped.length) out.add("retyped");
  return out;
}

/** "added discount_amount DECIMAL(12,2); removed x; retyped amount DECIMAL → FLOAT". */
function describeDiff(d: ColumnDiff): string {
  if (!d.comparable) return d.columns ? `${d.columns} columns (no earlier schema to compare)` : "";
  const parts: string[] = [];
  if (d.added.length)
    parts.push(`added ${d.added.map((f) => `${f.name}${f.type ? ` ${f.type}` : ""}`).join(", ")}`);
  if (d.removed.length) parts.push(`removed ${d.removed.map((f) => f.name).join(", ")}`);
  if (d.retyped.length)
    parts.push(`retyped ${d.retyped.map((f) => `${f.name} ${f.from} → ${f.to}`).join(", ")}`);
  return esc(parts.join("; ") || "column order or metadata changed");
}

/** The kinds of change a question asks about ("were any columns dropped or renamed"), none for any. */
function askedKinds(text: string): { kinds: ChangeKind[]; words: string } {
  const kinds = new Set<ChangeKind>();
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
  return { kinds: [...kinds], words: said.join(" or ") };
}

function times(n: number): string {
  return n === 1 ? "once" : n === 2 ? "twice" : `${n} times`;
}

/** The dataset the words name, as the family always found it; none for every table. */
async function subjectOfWords(ctx: AskContext, q: Question): Promise<Frame["subject"]> {
  const names = q.names.filter((n) => !TICKET.test(n));
  let dataset = await findKnown(ctx.store, "dataset", names);
  if (!dataset && names.length) dataset = await resolveName(ctx.store, "dataset", names[0]!);
  dataset ??= await findKnown(ctx.store, "dataset", plainWords(q));
  return dataset ? { kind: "dataset", name: dataset } : { kind: "fleet" };
}

const ENV_NOUNS = ["schemas?", "tables?", "datasets?"];

export default defineMeasure<SchemaChangesData, SchemaChangesAsk>({
  id: "schema-changes",
  title: "Schema changes",
  summary: "how often table schemas change (production by default), which tables changed and how",
  examples: [
    "how often does the production schema change?",
    "which tables changed schema in the last 30 days?",
    "did the schema of analytics.fct_orders change this week?",
    "were columns added or removed in staging this month?",
  ],
  measure: "schema_changes",
  subjects: ["dataset", "environment", "fleet"],
  defaultDays: 30,
  // The answer names its default period itself.
  openingWindow: "asked",
  keywords: {
    match(q) {
      // "schema deploys" are deploys (kind schema), not observed changes.
      if (/\bdeploy/.test(q.text)) return 0;
      if (SCHEMA.test(q.text) && CHANGE.test(q.text)) return 0.9;
      if (COLUMN_EVENT.test(q.text)) return 0.85;
      return 0;
    },
    async frame(ctx, q) {
      return frameOfWords(q, "schema_changes", await subjectOfWords(ctx, q));
    },
  },
  details(q) {
    const { kinds, words } = askedKinds(q.text);
    const environment = environmentOf(q, ENV_NOUNS);
    return {
      allEnvironments: ALL_ENVS.test(q.text),
      ...(environment ? { environment } : {}),
      kinds,
      kindWords: words,
      yesNo: /^(?:did|has|have|was|were|is|are)\b/.test(q.text),
      rate: /\bhow (?:often|many|frequently)\b/.test(q.text),
    };
  },
  async compute(ctx, frame, window, ask) {
    const { kind, name } = frame.subject;
    const dataset = kind === "dataset" ? name : undefined;
    const environment = ask.allEnvironments
      ? undefined
      : (frame.environment ??
        ask.environment ??
        (kind === "environment" ? (canonicalEnv(name!) ?? undefined) : undefined) ??
        "prod");
    const rows = await schemaChanges(ctx.store, {
      from: window.from,
      to: window.to,
      ...(dataset ? { dataset } : {}),
      limit: LIMIT,
    });
    const all: SchemaChange[] = rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      at: r.at,
      job: r.job,
      environment: changeEnv(r),
      diff: diffColumns(r.before, r.fields),
    }));
    let changes = environment ? all.filter((c) => c.environment === environment) : all;
    const elsewhere = all.length - changes.length;
    // "were any columns dropped or renamed": only changes of those kinds answer Yes.
    let noneOfKinds = false;
    if (ask.kinds.length && changes.length) {
      const matching = changes.filter((c) => ask.kinds.some((k) => kindsOf(c.diff).has(k)));
      if (matching.length) changes = matching;
      else noneOfKinds = true;
    }
    // A rate over the part of the period that has passed: "this month" so far.
    const to = window.to;
    return {
      ...(dataset ? { dataset } : {}),
      ...(environment ? { environment } : {}),
      changes,
      noneOfKinds,
      elsewhere,
      days: Math.max((to.getTime() - window.from.getTime()) / DAY_MS, 1 / 24),
      truncated: rows.length === LIMIT,
      asked: { yesNo: ask.yesNo, rate: ask.rate, kindWords: ask.kindWords },
    };
  },
  render(d, _frame, ctx, window) {
    const tz = ctx.timezone;
    const b = new AnswerBuilder();
    const envName = d.environment === "prod" ? "production" : d.environment ? esc(d.environment) : undefined;
    const subject = d.dataset
      ? `the schema of ${code(d.dataset)}${envName ? ` in ${envName}` : ""}`
      : envName
        ? `the ${envName} schema`
        : "schemas in all environments";
    const span = during(window.label);
    // Yes/no questions answer Yes or No first; the others start with the subject.
    const ask = d.asked;
    const lead = (text: string, yes: boolean) =>
      ask.yesNo ? `${yes ? "Yes" : "No"} — ${text}` : `${text[0]!.toUpperCase()}${text.slice(1)}`;
    const { changes } = d;
    if (d.noneOfKinds) {
      const others = changes
        .slice(0, 3)
        .map((c) => `${code(c.name)} ${when(c.at, tz, ctx.now)} (${describeDiff(c.diff)})`)
        .join(", ");
      b.headline(
        lead(
          `no column was ${ask.kindWords} ${span}; ${subject} changed ${times(changes.length)}, otherwise: ${others}.`,
          false,
        ),
      );
      return b;
    }
    const tables = new Set(changes.map((c) => `${c.namespace}/${c.name}`));
    if (changes.length === 0) {
      b.headline(lead(`${subject} did not change ${span}.`, false));
    } else {
      // A rate answers "how often"; for "did X change?" the when and what matter.
      const rate = changes.length / (d.days / 7);
      const every = rate < 1 ? ` (about one every ${Math.round(1 / rate)} weeks)` : "";
      const showRate = !d.dataset || ask.rate;
      const head = changes
        .slice(0, 3)
        .map((c) =>
          d.dataset
            ? `${when(c.at, tz, ctx.now)} (${describeDiff(c.diff)})`
            : `${code(c.name)} ${when(c.at, tz, ctx.now)}`,
        )
        .join(", ");
      b.headline(
        lead(
          `${subject} changed ${times(changes.length)} ${span}${
            d.dataset ? "" : ` in ${tables.size} table${tables.size === 1 ? "" : "s"}`
          }${showRate ? ` — ${rate.toFixed(1)} a week${every}` : ""}: ${head}${changes.length > 3 ? ", …" : ""}.`,
          true,
        ),
      );
      b.list(
        "Changes",
        changes.map((c) => {
          const diff = describeDiff(c.diff);
          const by = c.job ? ` by ${code(c.job)}` : "";
          return `${code(c.name)} (${esc(c.namespace)}) ${formatDateTime(c.at, tz, ctx.now)}${by}${diff ? `: ${diff}` : ""}`;
        }),
      );
    }
    if (d.elsewhere > 0)
      b.section(
        `Not counted: ${d.elsewhere} change${d.elsewhere === 1 ? "" : "s"} in other environments (ask _in all environments_).`,
      );
    if (envName)
      b.section(
        `_${envName[0]!.toUpperCase()}${envName.slice(1)} means: the producing run (else its job) ran there; without one, the dataset's namespace decides (\`warehouse_staging\` is staging), and anything else counts as production._`,
      );
    return b.from(
      `from schema fingerprints of dataset updates ${span}${d.truncated ? ` (first ${LIMIT} changes)` : ""}`,
    );
  },
});
