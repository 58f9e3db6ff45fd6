// Freshness: is dataset X fresh, how old is it, which datasets are stale; and for a job,
// dashboard or pipeline, is the data behind it fresh.
//
// A dataset is judged against its freshness SLA (datasets.max_age_seconds) when it has
// one, else against its own pace: stale when older than 1.5× the median gap between its
// last 15 updates (14 gaps). Each dataset costs two short index scans on
// dataset_updates (dataset_id, updated_at DESC).
//
// Lineage rule for a job or dashboard (Houston stores no read lineage): the data behind
// job J is what J writes plus what the other jobs of J's group, in J's environment, wrote
// when they ran earlier on the day of J's latest run (the day in J's schedule time zone).
// "Writes" means: J is the job of the run behind the dataset's latest update.
import { sql } from "drizzle-orm";
import { json, ts } from "../src/db/sql.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { formatDateTime, formatDay, formatTime, localDay } from "../src/time/index.ts";
import type { AskContext, Command, Question } from "../src/questions/types.ts";

/** Without an SLA, a dataset is stale past this many times its usual gap between updates. */
const USUAL_FACTOR = 1.5;
/** Updates read for the usual pace: 15 updates give 14 gaps. */
const PACE_UPDATES = 15;

const FRESH =
  /\b(?:fresh|freshness|stale|staleness|up to date|up-to-date|out of date|out-of-date|outdated)\b/;
const OLD = /\bhow (?:old|fresh|stale|recent)\b|\bage of\b|\bdata age\b/;
const UPDATED =
  /\b(?:last|latest|recently)\s+(?:updated|refreshed|loaded|written|modified)\b|\bwhen (?:was|were|did)\b.*\b(?:update[ds]?|refresh(?:ed)?|loaded|written)\b/;
// Supplier deliveries ("did X arrive fresh") belong to the arrivals family.
const NOT_MINE = /\b(?:deliver\w*|arriv\w*)\b/;

interface DatasetRow {
  id: number;
  namespace: string;
  name: string;
  owner: string | null;
  max_age_seconds: number | null;
  /** updated_at as text, newest first. */
  recent: string[] | null;
  writer: string | null;
  writer_env: string | null;
}

interface Verdict {
  ds: DatasetRow;
  last?: Date;
  ageMs?: number;
  /** The age past which it is stale, and where that limit comes from. */
  limitMs?: number;
  basis: "sla" | "usual" | "unknown";
  usualMs?: number;
  /** undefined: cannot tell. */
  stale?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function judge(ds: DatasetRow, asOf: Date): Verdict {
  const times = (ds.recent ?? []).map((t) => new Date(t).getTime());
  const v: Verdict = { ds, basis: "unknown" };
  if (times.length >= 3) {
    const gaps = times.slice(1).map((t, i) => times[i]! - t);
    v.usualMs = median(gaps);
  }
  if (ds.max_age_seconds !== null && ds.max_age_seconds > 0) {
    v.basis = "sla";
    v.limitMs = ds.max_age_seconds * 1000;
  } else if (v.usualMs !== undefined && v.usualMs > 0) {
    v.basis = "usual";
    v.limitMs = v.usualMs * USUAL_FACTOR;
  }
  if (times.length === 0) {
    // Never written: stale if it has a promise to keep, else unknown.
    if (v.basis === "sla") v.stale = true;
    return v;
  }
  v.last = new Date(times[0]!);
  v.ageMs = asOf.getTime() - times[0]!;
  if (v.limitMs !== undefined) v.stale = v.ageMs > v.limitMs;
  return v;
}

/** 26 h, 30 min, 2 d: limits read better round. */
function limitText(ms: number): string {
  const h = ms / 3_600_000;
  if (Number.isInteger(h) && h > 0) return h % 24 === 0 && h >= 48 ? `${h / 24} d` : `${h} h`;
  return formatDuration(ms);
}

function fullName(v: Verdict, showNamespace: boolean): string {
  return code(showNamespace ? `${v.ds.namespace}/${v.ds.name}` : v.ds.name);
}

function limitPhrase(v: Verdict): string {
  if (v.basis === "sla") return `SLA ${limitText(v.limitMs!)}`;
  if (v.basis === "usual") return `usually updated every ${formatDuration(v.usualMs!)}, no SLA`;
  return "no SLA, too few updates to know its pace";
}

function itemLine(v: Verdict, ctx: AskContext, showNamespace: boolean): string {
  const icon = v.stale === true ? ":x:" : v.stale === false ? ":white_check_mark:" : ":white_circle:";
  const age =
    v.ageMs !== undefined
      ? `${formatDuration(v.ageMs)} old (updated ${formatDateTime(v.last!, ctx.timezone, ctx.now)})`
      : "never updated";
  const by = v.ds.writer ? `, written by ${code(v.ds.writer)}` : "";
  return `${icon} ${fullName(v, showNamespace)} — ${age}, ${limitPhrase(v)}${by}`;
}

const DATASET_COLS = (
  asOf: Date,
) => sql`d.id, d.namespace, d.name, d.owner, d.max_age_seconds::int AS max_age_seconds,
  ARRAY(SELECT u.updated_at::text FROM dataset_updates u
        WHERE u.dataset_id = d.id AND u.updated_at <= ${ts(asOf)}
        ORDER BY u.updated_at DESC LIMIT ${PACE_UPDATES}) AS recent,
  w.writer, w.writer_env`;

// The job behind the dataset's latest update that came from a run.
const WRITER = (asOf: Date) => sql`LEFT JOIN LATERAL (
    SELECT j.id AS writer_id, j.name AS writer, r.environment AS writer_env
    FROM dataset_updates u JOIN runs r ON r.id = u.run_id JOIN jobs j ON j.id = r.job_id
    WHERE u.dataset_id = d.id AND u.run_id IS NOT NULL AND u.updated_at <= ${ts(asOf)}
    ORDER BY u.updated_at DESC LIMIT 1) w ON true`;

/** Hyphen/slash words ("up-to-date", "pass/fail") are not names unless Houston knows them. */
const looksLikeName = (n: string) => /[_.\d]/.test(n);

type Subject =
  | { kind: "dataset"; name: string }
  | { kind: "job"; name: string }
  | { kind: "group"; name: string }
  | { kind: "all" };

async function pickSubject(ctx: AskContext, q: Question): Promise<Subject> {
  const words = q.text.split(/\s+/).filter((w) => w.length > 2);
  for (const cands of [q.names, words]) {
    const ds = await findKnown(ctx.store, "dataset", cands);
    if (ds) return { kind: "dataset", name: ds };
    const job = await findKnown(ctx.store, "job", cands);
    if (job) return { kind: "job", name: job };
    const group = await findKnown(ctx.store, "group", cands);
    if (group) return { kind: "group", name: group };
  }
  const given = q.names.find(looksLikeName);
  if (given) {
    const known = [...(await knownNames(ctx.store, "dataset")), ...(await knownNames(ctx.store, "job"))];
    throw new UnknownNameError("dataset", given, closest(given, known));
  }
  return { kind: "all" };
}

const command: Command = {
  id: "freshness",
  title: "Freshness",
  summary:
    "whether a dataset (or the data behind a job or dashboard) is fresh: last update, age, SLA or usual pace",
  examples: [
    "is analytics.fct_orders fresh?",
    "how old is dim_customers?",
    "is the data in the exec_kpis dashboard fresh?",
    "which datasets are stale?",
    "when was analytics.fct_orders last updated?",
  ],
  match(q) {
    if (NOT_MINE.test(q.text)) return 0;
    if (FRESH.test(q.text) || OLD.test(q.text)) return 0.9;
    // Above did-it-run's "when was … last …" (0.8): updates are about data, not runs.
    if (UPDATED.test(q.text)) return 0.85;
    return 0;
  },
  async run(ctx, q) {
    const asOf = q.window ? new Date(Math.min(q.window.to.getTime(), ctx.now.getTime())) : ctx.now;
    const asOfNote = q.window ? ` as of ${formatDateTime(asOf, ctx.timezone, ctx.now)}` : "";
    const atCtx: AskContext = { ...ctx, now: asOf };
    const subj = await pickSubject(ctx, q);
    const envNote = q.environment ? ` in ${q.environment}` : "";
    const envOk = (d: DatasetRow) => !q.environment || d.writer_env === q.environment;
    const b = new AnswerBuilder();
    const ageFirst = OLD.test(q.text);
    const whenFirst = !ageFirst && !FRESH.test(q.text) && UPDATED.test(q.text);

    if (subj.kind === "dataset") {
      const rows = await ctx.store.query<DatasetRow>(
        sql`SELECT ${DATASET_COLS(asOf)} FROM datasets d ${WRITER(asOf)} WHERE d.name = ${subj.name} ORDER BY d.namespace`,
      );
      const copies = rows.filter(envOk);
      if (copies.length === 0) {
        const where = rows.map((r) => `${code(r.namespace)}${r.writer_env ? ` (${esc(r.writer_env)})` : ""}`);
        b.headline(`No copy of ${code(subj.name)} is written${envNote}.`);
        if (where.length) b.section(`It exists in ${where.join(", ")}.`);
        return b.from(`from the datasets named ${subj.name}`).build();
      }
      // The copy people mean: production's, else the one with an SLA, else the newest.
      const rank = (d: DatasetRow) =>
        (d.writer_env === "prod" ? 4 : 0) + (d.max_age_seconds ? 2 : 0) + (d.recent?.length ? 1 : 0);
      copies.sort((a, b2) => rank(b2) - rank(a));
      const v = judge(copies[0]!, asOf);
      const many = rows.length > 1;
      const name = fullName(v, many);
      const when = v.last ? formatDateTime(v.last, ctx.timezone, ctx.now) : "";
      const age = v.ageMs !== undefined ? formatDuration(v.ageMs) : "";
      if (!v.last) {
        b.headline(
          `${v.stale ? "No — " : ""}${name} has never been updated${asOfNote}${v.basis === "sla" ? ` (SLA ${limitText(v.limitMs!)})` : ""}.`,
        );
      } else if (v.stale === undefined) {
        b.headline(
          `${name} is ${age} old${asOfNote} (last updated ${when}); it has no freshness SLA and too few updates to know its usual pace.`,
        );
      } else {
        const limit =
          v.basis === "sla"
            ? `its SLA is ${limitText(v.limitMs!)}`
            : `it usually updates every ${formatDuration(v.usualMs!)}`;
        const over =
          v.stale && v.basis === "sla"
            ? `, ${formatDuration(v.ageMs! - v.limitMs!)} past its ${limitText(v.limitMs!)} SLA`
            : v.stale
              ? `, ${(v.ageMs! / v.usualMs!).toFixed(1)}× its usual ${formatDuration(v.usualMs!)} between updates`
              : ` (${limit})`;
        b.headline(
          ageFirst
            ? `${name} is ${age} old${asOfNote} (last updated ${when}) — ${v.stale ? "stale" : "fresh"}: ${limit}.`
            : whenFirst
              ? `${name} was last updated ${when}, ${age} ago${asOfNote} — ${v.stale ? "stale" : "fresh"}: ${limit}.`
              : `${v.stale ? "No" : "Yes"} — ${name} is ${v.stale ? "stale" : "fresh"}${asOfNote}: last updated ${when}, ${age} ago${over}.`,
        );
      }
      const fields: [string, string][] = [];
      if (v.last)
        fields.push([
          "Last update",
          `${formatDay(v.last, ctx.timezone)} ${formatTime(v.last, ctx.timezone)} (${ctx.timezone})`,
        ]);
      if (v.basis === "sla") fields.push(["Freshness SLA", limitText(v.limitMs!)]);
      if (v.usualMs !== undefined)
        fields.push(["Usual interval", `${formatDuration(v.usualMs)} (median of the last gaps)`]);
      if (v.ds.writer)
        fields.push([
          "Written by",
          `${code(v.ds.writer)}${v.ds.writer_env ? ` (${esc(v.ds.writer_env)})` : ""}`,
        ]);
      if (v.ds.owner) fields.push(["Owner", esc(v.ds.owner)]);
      if (many) fields.push(["Where", code(v.ds.namespace)]);
      if (fields.length) b.fields(fields);
      const others = copies.slice(1).map((d) => itemLine(judge(d, asOf), atCtx, true));
      if (others.length) b.list("Other copies", others);
      const n = v.ds.recent?.length ?? 0;
      return b
        .from(
          `from the last ${n} update${n === 1 ? "" : "s"} of ${v.ds.namespace}/${v.ds.name}${q.window ? `, as of ${formatDateTime(asOf, ctx.timezone, ctx.now)}` : ""}`,
        )
        .build();
    }

    // A job, a dashboard, a pipeline, or everything: judge a set of datasets.
    let rows: DatasetRow[];
    let scope: string;
    let rule: string | undefined;
    if (subj.kind === "job") {
      const job = (
        await ctx.store.query<{
          id: number;
          group_name: string | null;
          environment: string | null;
          tz: string | null;
        }>(
          sql`SELECT j.id, j.group_name, j.environment, s.timezone AS tz
              FROM jobs j LEFT JOIN job_schedules s ON s.job_id = j.id
              WHERE j.name = ${subj.name}
              ORDER BY (j.environment = ${q.environment ?? "prod"}) DESC NULLS LAST, j.id LIMIT 1`,
        )
      )[0]!;
      const last = (
        await ctx.store.query<{ run_at: string }>(
          sql`SELECT r.run_at::text FROM runs r WHERE r.job_id = ${job.id} AND r.run_at <= ${ts(asOf)}
              ORDER BY r.run_at DESC LIMIT 1`,
        )
      )[0];
      const ids = [job.id];
      if (last && job.group_name) {
        const lastAt = new Date(last.run_at);
        const day = localDay(lastAt, job.tz ?? "UTC");
        const before = await ctx.store.query<{ job_id: number }>(
          sql`SELECT DISTINCT r.job_id FROM runs r
              WHERE r.job_id IN (SELECT j.id FROM jobs j WHERE j.group_name = ${job.group_name}
                                   AND j.environment IS NOT DISTINCT FROM ${job.environment} AND j.id <> ${job.id})
                AND r.run_at >= ${ts(day.from)} AND r.run_at < ${ts(lastAt)}`,
        );
        ids.push(...before.map((r) => Number(r.job_id)));
        rule =
          `_Behind it = what ${code(subj.name)} writes, plus what the ${before.length} job${before.length === 1 ? "" : "s"} of ${code(job.group_name)}` +
          `${job.environment ? ` (${esc(job.environment)})` : ""} that ran before it on ${formatDay(lastAt, job.tz ?? "UTC")} wrote ` +
          `(its last run started ${formatDateTime(lastAt, ctx.timezone, ctx.now)}). Houston has no read lineage, so the group's order stands in for it._`;
      } else if (!last) {
        rule = `_${code(subj.name)} has not run${asOfNote}, so only what it wrote before counts._`;
      }
      rows = await ctx.store.query<DatasetRow>(
        sql`SELECT ${DATASET_COLS(asOf)} FROM datasets d ${WRITER(asOf)}
            WHERE w.writer_id IN (SELECT (jsonb_array_elements_text(${json(ids)}))::int) ORDER BY d.name, d.namespace`,
      );
      scope = ` behind ${code(subj.name)}`;
    } else if (subj.kind === "group") {
      rows = await ctx.store.query<DatasetRow>(
        sql`SELECT ${DATASET_COLS(asOf)} FROM datasets d ${WRITER(asOf)}
            WHERE w.writer_id IN (SELECT j.id FROM jobs j WHERE j.group_name = ${subj.name}) ORDER BY d.name, d.namespace`,
      );
      scope = ` of pipeline ${code(subj.name)}`;
    } else {
      rows = await ctx.store.query<DatasetRow>(
        sql`SELECT ${DATASET_COLS(asOf)} FROM datasets d ${WRITER(asOf)} ORDER BY d.name, d.namespace`,
      );
      scope = "";
    }
    rows = rows.filter(envOk);
    const verdicts = rows.map((d) => judge(d, asOf));
    const stale = verdicts.filter((v) => v.stale === true);
    const fresh = verdicts.filter((v) => v.stale === false);
    const unknown = verdicts.filter((v) => v.stale === undefined);
    const dup = new Set<string>();
    const seen = new Set<string>();
    for (const v of verdicts) (seen.has(v.ds.name) ? dup : seen).add(v.ds.name);
    const line = (v: Verdict) => itemLine(v, atCtx, dup.has(v.ds.name));
    if (verdicts.length === 0) {
      b.headline(
        `Houston knows no datasets${scope || " at all"}${envNote}: nothing has reported writing them.`,
      );
      if (rule) b.section(rule);
      return b.build();
    }
    if (stale.length) {
      const names = stale
        .slice(0, 3)
        .map((v) => fullName(v, dup.has(v.ds.name)))
        .join(", ");
      b.headline(
        `No — ${stale.length} of ${verdicts.length} dataset${verdicts.length === 1 ? "" : "s"}${scope}${envNote} ${stale.length === 1 ? "is" : "are"} stale${asOfNote}: ${names}${stale.length > 3 ? ` and ${stale.length - 3} more` : ""}.`,
      );
    } else if (fresh.length) {
      b.headline(
        `Yes — ${fresh.length === verdicts.length ? `all ${verdicts.length}` : `${fresh.length} of ${verdicts.length}`} dataset${verdicts.length === 1 ? "" : "s"}${scope}${envNote} ${fresh.length === 1 ? "is" : "are"} fresh${asOfNote}.`,
      );
    } else {
      b.headline(
        `Can't tell whether the datasets${scope}${envNote} are fresh: no SLAs and too few updates to know their pace.`,
      );
    }
    if (rule) b.section(rule);
    b.list("Stale", stale.map(line));
    // Fleet-wide, the fresh majority is noise; for one job or pipeline it is the answer.
    if (subj.kind !== "all") b.list("Fresh", fresh.map(line), 8);
    else if (fresh.length) b.section(`${fresh.length} other datasets are fresh.`);
    b.list("Unknown (no SLA, too few updates)", unknown.map(line), 5);
    b.section(
      `_Stale = older than its freshness SLA, or without one, older than ${USUAL_FACTOR}× its usual gap between updates._`,
    );
    return b
      .from(
        `from the latest ${PACE_UPDATES} updates of ${verdicts.length} dataset${verdicts.length === 1 ? "" : "s"}${q.window ? `, as of ${formatDateTime(asOf, ctx.timezone, ctx.now)}` : ""}`,
      )
      .build();
  },
};

export default command;
