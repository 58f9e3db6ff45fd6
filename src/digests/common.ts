// Pieces every digest shares: the job scope (environment, group) as SQL, the local days of
// a period as a parameter, numbers as the drivers return them, headline comparisons
// ("▲ 3 vs yesterday, ▼ vs 7-day avg") and the one-line empty digest.
import type { KnownBlock } from "@slack/types";
import { type SQL, sql } from "drizzle-orm";
import { type AnswerBuilder, esc, fallback, MAX_BLOCKS, plain, toTerminal } from "../questions/answer.ts";
import { json, ts } from "../db/sql.ts";
import { type DigestPeriods, type Period, daysOf, periodLabel } from "./period.ts";
import type { Digest, DigestRequest, ReportName } from "./types.ts";

export const DAY_MS = 86_400_000;

/** A driver value (number, numeric string, bigint, null) as a number or null. */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export const num0 = (v: unknown): number => num(v) ?? 0;

/** Jobs in the request's scope, as a condition on the alias `j` (jobs). */
export function jobScope(req: Pick<DigestRequest, "environment" | "group">, alias = "j"): SQL {
  const a = sql.raw(alias);
  const env = req.environment !== undefined ? sql` AND ${a}.environment = ${req.environment}` : sql``;
  const grp = req.group !== undefined ? sql` AND ${a}.group_name = ${req.group}` : sql``;
  return sql`TRUE${env}${grp}`;
}

/**
 * `JOIN jobs j ON j.id = <column>` when the request has a scope, else nothing: counting
 * queries over a whole fleet skip a join of every row they count.
 */
export function scopeJoin(req: Pick<DigestRequest, "environment" | "group">, jobIdColumn: string): SQL {
  return req.environment === undefined && req.group === undefined
    ? sql``
    : sql`JOIN jobs j ON j.id = ${sql.raw(jobIdColumn)}`;
}

/** "in prod, group finance_close" or "". */
export function scopeText(req: Pick<DigestRequest, "environment" | "group">): string {
  const parts: string[] = [];
  if (req.environment) parts.push(esc(req.environment));
  if (req.group) parts.push(`group ${esc(req.group)}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/**
 * The local days of a span as a jsonb parameter: [{i, from, to}] with epoch-ms bounds, so SQL
 * can bucket instants into local days (a DST day is 23 or 25 h) with a range join.
 */
export function dayBuckets(span: Period, tz: string): { days: Period[]; param: SQL } {
  const days = daysOf(span, tz);
  return {
    days,
    param: json(days.map((d, i) => ({ i, from: d.from.getTime(), to: d.to.getTime() }))),
  };
}

/** SQL rows of the day list: d.i, d.f (timestamptz), d.t (timestamptz). */
export const dayRows = (param: SQL): SQL =>
  sql`(SELECT x.i, to_timestamp(x."from" / 1000.0) AS f, to_timestamp(x."to" / 1000.0) AS t
       FROM jsonb_to_recordset(${param}) AS x(i int, "from" float8, "to" float8))`;

/** Sums per period: the period itself, the previous one, and the baseline's average. */
export interface Compared {
  value: number;
  previous: number;
  /** Average over the baseline periods. */
  average: number;
}

/**
 * Folds a per-day series (index 0 = the span's first day) into the period, the previous
 * period and the baseline average. `fold` combines the days of one period (sum by default).
 */
export function compare(
  perDay: number[],
  periods: DigestPeriods,
  fold: (xs: number[]) => number = (xs) => xs.reduce((a, b) => a + b, 0),
): Compared {
  const len = periods.period.days;
  const total = perDay.length;
  const slice = (k: number) => perDay.slice(total - len * (k + 1), total - len * k);
  const base = periods.baseline.map((_, k) => fold(slice(k + 1)));
  return {
    value: fold(slice(0)),
    previous: fold(slice(1)),
    average: base.length ? base.reduce((a, b) => a + b, 0) / base.length : 0,
  };
}

const intFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const oneFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

export const int = (n: number) => intFmt.format(n);
export const one = (n: number) => oneFmt.format(n);

/** $1,234 / $12.40 / $0.0031 */
export function money(n: number): string {
  const a = Math.abs(n);
  if (a >= 100) return `$${intFmt.format(n)}`;
  if (a >= 1) return `$${n.toFixed(2)}`;
  if (a === 0) return "$0";
  return `$${n.toPrecision(2)}`;
}

/** 1.2M, 34k, 950 */
export function compact(n: number): string {
  return new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

/** 2.1 GB, 900 MB */
export function memory(mb: number): string {
  return mb >= 1024 ? `${one(mb / 1024)} GB` : `${int(mb)} MB`;
}

/** "+12%" / "−3%" / "±0%" / "new" (from 0). */
export function pctChange(now: number, before: number): string {
  if (before === 0) return now === 0 ? "±0%" : "new";
  const p = ((now - before) / Math.abs(before)) * 100;
  const r = Math.abs(p) >= 10 ? Math.round(p) : Math.round(p * 10) / 10;
  return r === 0 ? "±0%" : `${r > 0 ? "+" : "−"}${Math.abs(r)}%`;
}

/** "(▲ 2 vs yesterday, ▲ 1.4 vs 7-day avg)" for counts; `kind` says how to show the change. */
export function changeText(
  c: Compared,
  periods: DigestPeriods,
  kind: "count" | "percent-points" | "relative",
): string {
  const daily = periods.period.days === 1;
  const prevLabel = daily ? "yesterday" : "last week";
  const avgLabel = daily ? "7-day avg" : "4-week avg";
  const one1 = (now: number, before: number, label: string) => {
    if (kind === "relative") return `${pctChange(now, before)} vs ${label}`;
    const d = now - before;
    const unit = kind === "percent-points" ? " pt" : "";
    const mag = kind === "percent-points" || !Number.isInteger(d) ? one(Math.abs(d)) : int(Math.abs(d));
    if (Math.abs(d) < (kind === "percent-points" ? 0.05 : 0.05)) return `= ${label}`;
    return `${d > 0 ? "▲" : "▼"} ${mag}${unit} vs ${label}`;
  };
  return `${one1(c.value, c.previous, prevLabel)}, ${one1(c.value, c.average, avgLabel)}`;
}

/** "Daily SLA — Sat 21 Nov 2026 (UTC)" */
export function digestTitle(title: string, req: DigestRequest, periods: DigestPeriods): string {
  return `${title} — ${periodLabel(periods.period)} (${req.timezone})${scopeText(req).replace(/^ /, " ")}`;
}

/**
 * A digest with nothing to report: one line. Its fallback `text` (notifications) stays
 * escaped as the block is: Slack reads `<!channel>` there too, and a group or environment
 * named so must not notify anyone (the terminal unescapes it, digestToTerminal).
 */
export function emptyDigest(report: ReportName, title: string, line: string): Digest {
  const blocks: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: `*${title}* — ${line}` } }];
  return { report, title, text: `${title} — ${fallback(line)}`, blocks, empty: true };
}

/** The digest from an AnswerBuilder: a header block with the title, then the builder's blocks. */
export function finish(report: ReportName, title: string, b: AnswerBuilder): Digest {
  const a = b.build();
  // The builder keeps itself within 50 blocks; the header needs one more slot.
  const blocks = a.blocks.length < MAX_BLOCKS ? [header(title), ...a.blocks] : a.blocks;
  return { report, title, text: `${title}\n${a.text}`, blocks, empty: false };
}

/** A header block (plain text, ≤ 150 chars) for the digest's title. */
export function header(title: string): KnownBlock {
  return { type: "header", text: { type: "plain_text", text: title.slice(0, 150) } };
}

/** The digest as a terminal shows it (`houston digest … --print`). */
export function digestToTerminal(d: Digest): string {
  if (d.empty)
    return plain(d.blocks.map((b) => (b.type === "section" ? (b.text?.text ?? "") : "")).join("\n"));
  const body = toTerminal({ text: d.text, blocks: d.blocks.filter((b) => b.type !== "header") });
  return `${d.title}\n${"─".repeat(Math.min(72, d.title.length))}\n${body}${d.chart ? `\n[chart: ${d.chart.title}, ${d.chart.width}×${d.chart.height} PNG]` : ""}`;
}

/**
 * Datasets in the request's scope, as a condition on the alias `ds` (datasets): with an
 * environment or group, the job behind the dataset's latest update before `end` must be in
 * scope (Houston has no per-dataset environment; the writer's stands in for it).
 */
export function datasetScope(req: Pick<DigestRequest, "environment" | "group">, end: Date): SQL {
  if (req.environment === undefined && req.group === undefined) return sql`TRUE`;
  return sql`EXISTS (
      SELECT 1 FROM (SELECT u.run_id FROM dataset_updates u
                     WHERE u.dataset_id = ds.id AND u.run_id IS NOT NULL AND u.updated_at < ${ts(end)}
                     ORDER BY u.updated_at DESC LIMIT 1) w
      JOIN runs r ON r.id = w.run_id JOIN jobs j ON j.id = r.job_id
      WHERE ${jobScope(req)})`;
}
