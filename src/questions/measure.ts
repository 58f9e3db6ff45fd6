// A measure of the catalogue (issue 14): one file in commands/ that answers a frame. It
// says which frame measure and which subject kinds it answers, computes data from the
// store (`compute`, typed queries under src/db/queries/), and renders that data
// (`render`). Tests assert on what `compute` returns; the answer opens with the line that
// says what was understood, so a reader can tell at once whether Houston read the
// question right.
//
// A measure is also a Command (commands/ holds both kinds of file). A measure built as one
// (cost, duration…) has match() 0, so the keyword router never picks it: the router runs
// it when the question's frame, read with confidence, asks for its measure about a subject
// it applies to. A measure converted from an older family (freshness, deploys…) keeps that
// family's keywords (`keywords`): the router chooses it as it chose the family, and when the
// frame was not read with confidence the keywords build the frame from the question's names,
// so every question the family answered is still answered, by the same compute and render.
import { subDays } from "date-fns";
import { dayStart, localYmd } from "../time/zone.ts";
import { describeFrame } from "../understanding/describe.ts";
import type { Frame, Measure, SubjectKind } from "../understanding/frame.ts";
import { type Figures, type RunScope, scopeFigures, totalFigures } from "../db/queries/run-figures.ts";
import { type AnswerBuilder, esc, withOpening } from "./answer.ts";
import type { Answer, AskContext, Command, Question } from "./types.ts";

/** The period a measure is computed over, with the words that name it. */
export interface MeasureWindow {
  from: Date;
  to: Date;
  label: string;
  /** True when the question named it; else it is the measure's default. */
  given: boolean;
  /**
   * Where the period asked ends when that is after now ("today" runs to midnight; "this
   * week" and "this month" end now, as the families have always read them): for a measure
   * that shows what is still to come (supplier deliveries not due yet).
   */
  end?: Date;
}

/** How a measure converted from a keyword family still answers the questions the parser cannot frame with confidence. */
export interface MeasureKeywords {
  /** As a family's match(): how well the words fit, in (0, 1], or 0 when not at all. */
  match(q: Question): number;
  /**
   * The frame the words ask for, its names resolved as the family always resolved them (an
   * unknown name throws UnknownNameError, answered with "did you mean …?").
   */
  frame(ctx: AskContext, q: Question): Promise<Frame>;
}

export interface MeasureSpec<D, A = void> {
  /** Equals the file name in commands/. */
  id: string;
  title: string;
  summary: string;
  examples: string[];
  /** The frame measure answered (or measures, when one computation answers several: last run, last success, last failure). */
  measure: Measure | Measure[];
  /** The subject kinds it can compute. */
  subjects: SubjectKind[];
  /** Days looked back when the question names no time; null: the whole history. */
  defaultDays: number | null;
  /**
   * What the answer covers when the question names no time, in words, where defaultDays does
   * not say it (freshness is judged as of now): the README's catalogue shows it.
   */
  byDefault?: string;
  /**
   * "asked": the opening names the window only when the question gave one — for a measure
   * whose default is not a period to read back (freshness is judged as of now, a deploy is
   * the latest on record) or whose answer names its default period itself. Default "always".
   */
  openingWindow?: "always" | "asked";
  /** Further conditions on the frame (a stat, a grouping), when only some frames are answerable. */
  applies?(frame: Frame): boolean;
  /** Set for a measure converted from a keyword family: see MeasureKeywords. */
  keywords?: MeasureKeywords;
  /**
   * What the question asks beyond its frame, read from its words where the frame has no slot
   * for it yet (which deploy statuses and kinds, which column changes, "flapping"): compute
   * takes it as a typed argument, so tests can pass it directly.
   */
  details?(q: Question, frame: Frame): A;
  compute(ctx: AskContext, frame: Frame, window: MeasureWindow, details: A): Promise<D>;
  render(data: D, frame: Frame, ctx: AskContext, window: MeasureWindow): AnswerBuilder;
}

export interface MeasureCommand<D = unknown, A = unknown> extends Command, MeasureSpec<D, A> {
  kind: "measure";
  /** True when this measure answers the frame. */
  answers(frame: Frame): boolean;
}

export function isMeasure(c: Command): c is MeasureCommand {
  return (c as Partial<MeasureCommand>).kind === "measure";
}

/** The window of a frame: the question's (its label included), else the measure's default, never past now. */
export function windowOf(
  q: Question | undefined,
  frame: Frame,
  now: Date,
  defaultDays: number | null,
): MeasureWindow {
  if (frame.window) {
    const from = new Date(frame.window.from);
    const to = new Date(Math.min(new Date(frame.window.to).getTime(), now.getTime()));
    const label = q?.window?.label ?? `${from.toISOString()} to ${to.toISOString()}`;
    // The question's own reading of its window knows "this week" ends now; the frame's runs to the calendar end.
    const end = q?.window?.to ?? new Date(frame.window.to);
    return { from, to, label, given: true, ...(end > to ? { end } : {}) };
  }
  if (defaultDays === null)
    return { from: new Date(0), to: now, label: "all of Houston's history", given: false };
  return {
    from: subDays(now, defaultDays),
    to: now,
    label: `the last ${defaultDays} days`,
    given: false,
  };
}

/** Which runs a frame is about: its subject (a job, group, owner, environment or the fleet) and environment. */
export function runScope(frame: Frame): RunScope {
  const s: RunScope = {};
  const { kind, name } = frame.subject;
  if (kind === "job") s.job = name;
  else if (kind === "group") s.group = name;
  else if (kind === "owner") s.owner = name;
  else if (kind === "environment") s.environment = name;
  if (frame.environment) s.environment = frame.environment;
  return s;
}

/**
 * "Duration of job `finance_close.gl_summary`, yesterday (Sat 21 Nov) (Europe/Berlin)"; with
 * `asked`, a window the question did not give is left out (and the zone with it).
 */
export function understoodLine(
  frame: Frame,
  window: MeasureWindow,
  timezone: string,
  openingWindow: "always" | "asked" = "always",
): string {
  if (openingWindow === "asked" && !window.given) return `Understood: ${esc(describeFrame(frame))}`;
  return `Understood: ${esc(describeFrame(frame, window.label))} (${esc(timezone)})`;
}

/** The frame a question's words ask for, when a keyword family builds it: its window, environment and polarity as read. */
export function frameOfWords(q: Question, measure: Measure, subject: Frame["subject"]): Frame {
  const frame: Frame = { measure, subject };
  if (q.window) frame.window = { from: q.window.from.toISOString(), to: q.window.to.toISOString() };
  if (q.environment) frame.environment = q.environment;
  if (q.polarity) frame.polarity = q.polarity;
  return frame;
}

export function defineMeasure<D, A = void>(spec: MeasureSpec<D, A>): MeasureCommand<D, A> {
  const answers = (frame: Frame) =>
    (Array.isArray(spec.measure) ? spec.measure.includes(frame.measure) : frame.measure === spec.measure) &&
    spec.subjects.includes(frame.subject.kind) &&
    (spec.applies?.(frame) ?? true);
  return {
    ...spec,
    kind: "measure",
    answers,
    // Without keywords, never chosen by them: only a frame read with confidence runs it.
    match: (q) => spec.keywords?.match(q) ?? 0,
    async run(ctx: AskContext, q: Question): Promise<Answer> {
      // The router sets q.frame only for a frame read with confidence that this measure
      // answers; otherwise a converted family reads the frame from the question's words.
      let frame = q.frame && answers(q.frame) ? q.frame : undefined;
      if (!frame && spec.keywords) frame = await spec.keywords.frame(ctx, q);
      if (!frame) throw new Error(`commands/${spec.id} answers frames of ${spec.measure} only`);
      const window = windowOf(q, frame, ctx.now, spec.defaultDays);
      // A measure without details takes none: A is then void.
      const details = (spec.details ? spec.details(q, frame) : undefined) as A;
      const data = await spec.compute(ctx, frame, window, details);
      const b = spec.render(data, frame, ctx, window);
      return withOpening(b.build(), understoodLine(frame, window, ctx.timezone, spec.openingWindow));
    },
  };
}

/** Rows ranked by a figure as the frame asks: most first unless it asks for the least; rows without the figure dropped. */
export function ranked<T>(
  rows: T[],
  value: (r: T) => number | null,
  frame: Frame,
): { row: T; value: number }[] {
  const out = rows
    .map((row) => ({ row, value: value(row) }))
    .filter((r): r is { row: T; value: number } => r.value !== null && Number.isFinite(r.value));
  const least = frame.rank?.order === "least";
  out.sort((a, b) => (least ? a.value - b.value : b.value - a.value));
  return frame.rank?.n ? out.slice(0, frame.rank.n) : out;
}

/** What a figure is split by: the frame's grouping when it is one runs have, else each job. */
export function figureKey(frame: Frame): "job" | "group" | "environment" | "day" | "owner" {
  const g = frame.groupBy;
  return g === "group" || g === "environment" || g === "day" ? g : "job";
}

/** A figure against its usual: longer (≥ 1.2×), shorter (≤ 1/1.2×) or about the same. */
export function versusUsual(
  value: number,
  usual: number,
): { ratio: number; verdict: "more" | "less" | "usual" } {
  const ratio = usual > 0 ? value / usual : value > 0 ? Infinity : 1;
  return { ratio, verdict: ratio >= 1.2 ? "more" : ratio <= 1 / 1.2 ? "less" : "usual" };
}

/** Days before the run (or window) judged that make its usual ("longer than usual"). */
export const USUAL_DAYS = 30;

/** True when a frame is about many jobs or a split of them, so that each part is computed too. */
export function manyJobs(frame: Frame): boolean {
  return frame.subject.kind !== "job" || !!frame.groupBy;
}

/**
 * A frame's run figures over the window: as a whole, and per key (figureKey) when `many`
 * (for many jobs, in as few queries as the options allow; see scopeFigures).
 */
export async function subjectFigures(
  ctx: AskContext,
  frame: Frame,
  window: MeasureWindow,
  opts: { many?: boolean; sumsOnly?: boolean } = {},
): Promise<{ whole: Figures | undefined; rows: Figures[] }> {
  const scope = runScope(frame);
  if (opts.many ?? manyJobs(frame))
    return scopeFigures(ctx.store, scope, window.from, window.to, figureKey(frame), {
      sumsOnly: opts.sumsOnly ?? true,
    });
  return { whole: await totalFigures(ctx.store, scope, window.from, window.to), rows: [] };
}

/**
 * The figures of the USUAL_DAYS before what is judged: before the window when the question
 * named one, else before the last run — so the run judged is not part of its own usual.
 */
export async function usualFigures(
  ctx: AskContext,
  frame: Frame,
  window: MeasureWindow,
  lastRunAt: Date,
): Promise<{ figures: Figures | undefined; from: Date; to: Date }> {
  const to = window.given ? window.from : lastRunAt;
  const from = subDays(to, USUAL_DAYS);
  return { figures: await totalFigures(ctx.store, runScope(frame), from, to), from, to };
}

/**
 * The digest period (src/digests) a window asks about: the digests compute whole local
 * days, one or seven. One local day or less is that day; anything longer is the 7 days
 * ending on the window's last day. Without a time asked, yesterday (the daily digest's day).
 */
export function digestPeriodOf(
  window: MeasureWindow,
  now: Date,
  timezone: string,
): { date: string; days: 1 | 7 } {
  const ymd = (d: Date) => localYmd(d, timezone);
  if (!window.given) return { date: ymd(new Date(dayStart(now, timezone).getTime() - 1)), days: 1 };
  const last = new Date(Math.max(window.from.getTime(), window.to.getTime() - 1));
  const days = window.to.getTime() - window.from.getTime() <= 25 * 3_600_000 ? 1 : 7;
  return { date: ymd(last), days };
}
