// Freshness: is dataset X fresh, how old is it, which datasets are stale; and for a job,
// dashboard or pipeline, is the data behind it fresh.
//
// A dataset is judged against its freshness SLA (datasets.max_age_seconds) when it has
// one, else against its own pace: stale when older than 1.5× the median gap between its
// last 15 updates (14 gaps). The updates are read by src/db/queries/freshness.ts.
//
// Lineage rule for a job or dashboard (Houston stores no read lineage): the data behind
// job J is what J writes plus what the other jobs of J's group, in J's environment, wrote
// when they ran earlier on the day of J's latest run (the day in J's schedule time zone).
// "Writes" means: J is the job of the run behind the dataset's latest update.
import { impact } from "../src/db/queries/lineage.ts";
import {
  type DatasetUpdates,
  datasetUpdates,
  groupJobsRanBetween,
  lastRunAt,
  lineageJob,
  PACE_UPDATES,
} from "../src/db/queries/freshness.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import { defineMeasure, frameOfWords } from "../src/questions/measure.ts";
import { closest, findKnown, knownNames, UnknownNameError } from "../src/questions/resolve.ts";
import { formatDateTime, formatDay, formatTime, localDay } from "../src/time/index.ts";
import type { AskContext, Question } from "../src/questions/types.ts";
import type { Frame } from "../src/understanding/frame.ts";

/** Without an SLA, a dataset is stale past this many times its usual gap between updates. */
const USUAL_FACTOR = 1.5;

const FRESH =
  /\b(?:fresh|freshness|stale|staleness|up to date|up-to-date|out of date|out-of-date|outdated)\b/;
const OLD = /\bhow (?:old|fresh|stale|recent)\b|\bage of\b|\bdata age\b/;
const UPDATED =
  /\b(?:last|latest|recently)\s+(?:updated|refreshed|loaded|written|modified)\b|\bwhen (?:was|were|did)\b.*\b(?:update[ds]?|refresh(?:ed)?|loaded|written)\b/;
// Supplier deliveries ("did X arrive fresh") belong to the arrivals family.
const NOT_MINE = /\b(?:deliver\w*|arriv\w*)\b/;

/** What the headline leads with: the verdict ("is X fresh"), the age ("how old"), or the last update ("when was X last updated"). */
export type FreshnessLead = "verdict" | "age" | "update";

/** One dataset judged as of an instant. */
export interface DatasetVerdict {
  namespace: string;
  name: string;
  owner: string | null;
  writer: string | null;
  writerEnv: string | null;
  /** Updates its pace was read from (at most 15). */
  updates: number;
  last: Date | null;
  ageMs: number | null;
  /** The age past which it is stale, and where that limit comes from. */
  limitMs: number | null;
  basis: "sla" | "usual" | "unknown";
  /** The median gap between its latest updates, with 3 or more of them. */
  usualMs: number | null;
  /** null: cannot tell. */
  stale: boolean | null;
}

export type FreshnessData =
  | {
      kind: "dataset";
      lead: FreshnessLead;
      name: string;
      asOf: Date;
      /** The copies in the environment asked (every copy when none was): the one people mean first. */
      copies: DatasetVerdict[];
      /** Every copy of that name, in any environment (where it exists when none is in the one asked). */
      everywhere: { namespace: string; writerEnv: string | null }[];
      /** When the copy people mean is stale: what reads it downstream (the lineage graph). */
      impact?: { known: boolean; jobs: string[]; datasets: number };
    }
  | {
      kind: "set";
      lead: FreshnessLead;
      asOf: Date;
      /** The datasets judged, by name then namespace. */
      verdicts: DatasetVerdict[];
      /** For a job: how the data behind it was found. */
      behind?: {
        job: string;
        /** Its last run at or before asOf, if any. */
        lastRunAt: Date | null;
        group: string | null;
        environment: string | null;
        /** The zone of the day its group's earlier runs are counted on. */
        timezone: string;
        /** Jobs of its group that ran before it that day. */
        upstream: number;
      };
    };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A dataset against its SLA, else its usual pace, as of `asOf`. */
export function judge(ds: DatasetUpdates, asOf: Date): DatasetVerdict {
  const times = ds.recent.map((t) => t.getTime());
  const v: DatasetVerdict = {
    namespace: ds.namespace,
    name: ds.name,
    owner: ds.owner,
    writer: ds.writer,
    writerEnv: ds.writerEnv,
    updates: times.length,
    last: null,
    ageMs: null,
    limitMs: null,
    basis: "unknown",
    usualMs: null,
    stale: null,
  };
  if (times.length >= 3) v.usualMs = median(times.slice(1).map((t, i) => times[i]! - t));
  if (ds.maxAgeSeconds !== null && ds.maxAgeSeconds > 0) {
    v.basis = "sla";
    v.limitMs = ds.maxAgeSeconds * 1000;
  } else if (v.usualMs !== null && v.usualMs > 0) {
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
  if (v.limitMs !== null) v.stale = v.ageMs > v.limitMs;
  return v;
}

/** 26 h, 30 min, 2 d: limits read better round. */
function limitText(ms: number): string {
  const h = ms / 3_600_000;
  if (Number.isInteger(h) && h > 0) return h % 24 === 0 && h >= 48 ? `${h / 24} d` : `${h} h`;
  return formatDuration(ms);
}

function fullName(v: DatasetVerdict, showNamespace: boolean): string {
  return code(showNamespace ? `${v.namespace}/${v.name}` : v.name);
}

function limitPhrase(v: DatasetVerdict): string {
  if (v.basis === "sla") return `SLA ${limitText(v.limitMs!)}`;
  if (v.basis === "usual") return `usually updated every ${formatDuration(v.usualMs!)}, no SLA`;
  return "no SLA, too few updates to know its pace";
}

/** One dataset's line; its update time is told relative to `asOf`, the moment judged. */
function itemLine(v: DatasetVerdict, timezone: string, asOf: Date, showNamespace: boolean): string {
  const icon = v.stale === true ? ":x:" : v.stale === false ? ":white_check_mark:" : ":white_circle:";
  const age =
    v.ageMs !== null
      ? `${formatDuration(v.ageMs)} old (updated ${formatDateTime(v.last!, timezone, asOf)})`
      : "never updated";
  const by = v.writer ? `, written by ${code(v.writer)}` : "";
  return `${icon} ${fullName(v, showNamespace)} — ${age}, ${limitPhrase(v)}${by}`;
}

/** Hyphen/slash words ("up-to-date", "pass/fail") are not names unless Houston knows them. */
const looksLikeName = (n: string) => /[_.\d]/.test(n);

/** The subject the words name, as the family always found it: a dataset, else a job, else a group. */
async function subjectOfWords(ctx: AskContext, q: Question): Promise<Frame["subject"]> {
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
  return { kind: "fleet" };
}

/** The copy people mean: production's, else the one with an SLA, else one with updates. */
const copyRank = (d: DatasetUpdates) =>
  (d.writerEnv === "prod" ? 4 : 0) + (d.maxAgeSeconds ? 2 : 0) + (d.recent.length ? 1 : 0);

export default defineMeasure<FreshnessData, FreshnessLead>({
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
  measure: "freshness",
  subjects: ["dataset", "job", "group", "fleet"],
  // Judged as of now, or as of the end of the window asked ("was X fresh on the 18th").
  defaultDays: null,
  byDefault: "now",
  openingWindow: "asked",
  keywords: {
    match(q) {
      if (NOT_MINE.test(q.text)) return 0;
      if (FRESH.test(q.text) || OLD.test(q.text)) return 0.9;
      // Above did-it-run's "when was … last …" (0.8): updates are about data, not runs.
      if (UPDATED.test(q.text)) return 0.85;
      return 0;
    },
    async frame(ctx, q) {
      return frameOfWords(q, "freshness", await subjectOfWords(ctx, q));
    },
  },
  // The frame has no slot for how the question is put: "how old" leads with the age.
  details(q) {
    if (OLD.test(q.text)) return "age";
    return !FRESH.test(q.text) && UPDATED.test(q.text) ? "update" : "verdict";
  },
  async compute(ctx, frame, window, lead = "verdict") {
    const asOf = window.to;
    const env = frame.environment;
    const inEnv = (d: DatasetUpdates) => !env || d.writerEnv === env;
    const { kind, name } = frame.subject;
    if (kind === "dataset") {
      const rows = await datasetUpdates(ctx.store, { name: name! }, asOf);
      const copies = rows.filter(inEnv).sort((a, b) => copyRank(b) - copyRank(a));
      const judged = copies.map((d) => judge(d, asOf));
      const data: FreshnessData = {
        kind: "dataset",
        lead,
        name: name!,
        asOf,
        copies: judged,
        everywhere: rows.map((r) => ({ namespace: r.namespace, writerEnv: r.writerEnv })),
      };
      // A stale table's answer says what it holds up: its readers downstream.
      const top = judged[0];
      if (top?.stale) {
        const i = await impact(ctx.store, { namespace: top.namespace, name: top.name });
        data.impact = {
          known: i.startEdges.read + i.startEdges.write > 0,
          jobs: i.jobs.map((n) => n.name),
          datasets: i.datasets.length,
        };
      }
      return data;
    }
    if (kind === "job") {
      const job = await lineageJob(ctx.store, name!, env);
      if (!job) throw new UnknownNameError("job", name!, []);
      const last = await lastRunAt(ctx.store, job.id, asOf);
      const ids = [job.id];
      const timezone = job.timezone ?? "UTC";
      let upstream = 0;
      if (last && job.group) {
        const before = await groupJobsRanBetween(
          ctx.store,
          { ...job, group: job.group },
          localDay(last, timezone).from,
          last,
        );
        ids.push(...before);
        upstream = before.length;
      }
      const rows = await datasetUpdates(ctx.store, { writerIds: ids }, asOf);
      return {
        kind: "set",
        lead,
        asOf,
        verdicts: rows.filter(inEnv).map((d) => judge(d, asOf)),
        behind: {
          job: name!,
          lastRunAt: last ?? null,
          group: job.group,
          environment: job.environment,
          timezone,
          upstream,
        },
      };
    }
    const rows = await datasetUpdates(ctx.store, kind === "group" ? { writerGroup: name! } : {}, asOf);
    return { kind: "set", lead, asOf, verdicts: rows.filter(inEnv).map((d) => judge(d, asOf)) };
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const tz = ctx.timezone;
    const asOfNote = window.given ? ` as of ${formatDateTime(d.asOf, tz, ctx.now)}` : "";
    const envNote = frame.environment ? ` in ${frame.environment}` : "";
    if (d.kind === "dataset") {
      if (d.copies.length === 0) {
        b.headline(`No copy of ${code(d.name)} is written${envNote}.`);
        const where = d.everywhere.map(
          (r) => `${code(r.namespace)}${r.writerEnv ? ` (${esc(r.writerEnv)})` : ""}`,
        );
        if (where.length) b.section(`It exists in ${where.join(", ")}.`);
        return b.from(`from the datasets named ${d.name}`);
      }
      const v = d.copies[0]!;
      const many = d.everywhere.length > 1;
      const name = fullName(v, many);
      const when = v.last ? formatDateTime(v.last, tz, ctx.now) : "";
      const age = v.ageMs !== null ? formatDuration(v.ageMs) : "";
      if (!v.last) {
        b.headline(
          `${v.stale ? "No — " : ""}${name} has never been updated${asOfNote}${v.basis === "sla" ? ` (SLA ${limitText(v.limitMs!)})` : ""}.`,
        );
      } else if (v.stale === null) {
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
        const verdict = v.stale ? "stale" : "fresh";
        b.headline(
          d.lead === "age"
            ? `${name} is ${age} old${asOfNote} (last updated ${when}) — ${verdict}: ${limit}.`
            : d.lead === "update"
              ? `${name} was last updated ${when}, ${age} ago${asOfNote} — ${verdict}: ${limit}.`
              : `${v.stale ? "No" : "Yes"} — ${name} is ${verdict}${asOfNote}: last updated ${when}, ${age} ago${over}.`,
        );
      }
      const fields: [string, string][] = [];
      if (v.last) fields.push(["Last update", `${formatDay(v.last, tz)} ${formatTime(v.last, tz)} (${tz})`]);
      if (v.basis === "sla") fields.push(["Freshness SLA", limitText(v.limitMs!)]);
      if (v.usualMs !== null)
        fields.push(["Usual interval", `${formatDuration(v.usualMs)} (median of the last gaps)`]);
      if (v.writer)
        fields.push(["Written by", `${code(v.writer)}${v.writerEnv ? ` (${esc(v.writerEnv)})` : ""}`]);
      if (v.owner) fields.push(["Owner", esc(v.owner)]);
      if (many) fields.push(["Where", code(v.namespace)]);
      if (fields.length) b.fields(fields);
      if (d.impact)
        b.section(
          d.impact.jobs.length
            ? `Downstream: ${d.impact.jobs.length} job${d.impact.jobs.length === 1 ? "" : "s"} read${d.impact.jobs.length === 1 ? "s" : ""} it or what is built from it (${d.impact.jobs
                .slice(0, 5)
                .map(code)
                .join(
                  ", ",
                )}${d.impact.jobs.length > 5 ? ", …" : ""})${d.impact.datasets ? `, ${d.impact.datasets} dataset${d.impact.datasets === 1 ? "" : "s"} built from it` : ""}.`
            : "Downstream: no known readers (no run has reported reading it).",
        );
      const others = d.copies.slice(1).map((c) => itemLine(c, tz, d.asOf, true));
      if (others.length) b.list("Other copies", others);
      const n = v.updates;
      return b.from(
        `from the last ${n} update${n === 1 ? "" : "s"} of ${v.namespace}/${v.name}${window.given ? `, as of ${formatDateTime(d.asOf, tz, ctx.now)}` : ""}`,
      );
    }

    // A job, a dashboard, a pipeline, or everything: a set of datasets judged.
    const { kind, name } = frame.subject;
    const scope =
      kind === "job" ? ` behind ${code(name!)}` : kind === "group" ? ` of pipeline ${code(name!)}` : "";
    let rule: string | undefined;
    const behind = d.behind;
    if (behind?.lastRunAt && behind.group) {
      const n = behind.upstream;
      rule =
        `_Behind it = what ${code(behind.job)} writes, plus what the ${n} job${n === 1 ? "" : "s"} of ${code(behind.group)}` +
        `${behind.environment ? ` (${esc(behind.environment)})` : ""} that ran before it on ${formatDay(behind.lastRunAt, behind.timezone)} wrote ` +
        `(its last run started ${formatDateTime(behind.lastRunAt, tz, ctx.now)}). Houston has no read lineage, so the group's order stands in for it._`;
    } else if (behind && !behind.lastRunAt) {
      rule = `_${code(behind.job)} has not run${asOfNote}, so only what it wrote before counts._`;
    }
    const verdicts = d.verdicts;
    const stale = verdicts.filter((v) => v.stale === true);
    const fresh = verdicts.filter((v) => v.stale === false);
    const unknown = verdicts.filter((v) => v.stale === null);
    const dup = new Set<string>();
    const seen = new Set<string>();
    for (const v of verdicts) (seen.has(v.name) ? dup : seen).add(v.name);
    const line = (v: DatasetVerdict) => itemLine(v, tz, d.asOf, dup.has(v.name));
    if (verdicts.length === 0) {
      b.headline(
        `Houston knows no datasets${scope || " at all"}${envNote}: nothing has reported writing them.`,
      );
      if (rule) b.section(rule);
      return b;
    }
    const of = `dataset${verdicts.length === 1 ? "" : "s"}${scope}${envNote}`;
    if (stale.length) {
      const names = stale
        .slice(0, 3)
        .map((v) => fullName(v, dup.has(v.name)))
        .join(", ");
      b.headline(
        `No — ${stale.length} of ${verdicts.length} ${of} ${stale.length === 1 ? "is" : "are"} stale${asOfNote}: ${names}${stale.length > 3 ? ` and ${stale.length - 3} more` : ""}.`,
      );
    } else if (fresh.length) {
      b.headline(
        `Yes — ${fresh.length === verdicts.length ? `all ${verdicts.length}` : `${fresh.length} of ${verdicts.length}`} ${of} ${fresh.length === 1 ? "is" : "are"} fresh${asOfNote}.`,
      );
    } else {
      b.headline(
        `Can't tell whether the datasets${scope}${envNote} are fresh: no SLAs and too few updates to know their pace.`,
      );
    }
    if (rule) b.section(rule);
    b.list("Stale", stale.map(line));
    // Fleet-wide, the fresh majority is noise; for one job or pipeline it is the answer.
    if (kind === "job" || kind === "group") b.list("Fresh", fresh.map(line), 8);
    else if (fresh.length) b.section(`${fresh.length} other datasets are fresh.`);
    b.list("Unknown (no SLA, too few updates)", unknown.map(line), 5);
    b.section(
      `_Stale = older than its freshness SLA, or without one, older than ${USUAL_FACTOR}× its usual gap between updates._`,
    );
    return b.from(
      `from the latest ${PACE_UPDATES} updates of ${verdicts.length} dataset${verdicts.length === 1 ? "" : "s"}${window.given ? `, as of ${formatDateTime(d.asOf, tz, ctx.now)}` : ""}`,
    );
  },
});
