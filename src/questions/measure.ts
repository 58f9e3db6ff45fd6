// A measure of the catalogue (issue 14): one file in commands/ that answers a frame. It
// says which frame measure and which subject kinds it answers, computes data from the
// store (`compute`, typed queries under src/db/queries/), and renders that data
// (`render`). Tests assert on what `compute` returns; the answer opens with the line that
// says what was understood, so a reader can tell at once whether Houston read the
// question right.
//
// A measure is also a Command (commands/ holds both kinds of file): its match() is 0, so
// the keyword router never picks it; the router runs it when the question's frame, read
// with confidence, asks for its measure about a subject it applies to.
import { subDays } from "date-fns";
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
}

export interface MeasureSpec<D> {
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
  /** Further conditions on the frame (a stat, a grouping), when only some frames are answerable. */
  applies?(frame: Frame): boolean;
  compute(ctx: AskContext, frame: Frame, window: MeasureWindow): Promise<D>;
  render(data: D, frame: Frame, ctx: AskContext, window: MeasureWindow): AnswerBuilder;
}

export interface MeasureCommand<D = unknown> extends Command, MeasureSpec<D> {
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
    return { from, to, label, given: true };
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

/** "Duration of job `finance_close.gl_summary`, yesterday (Sat 21 Nov) (Europe/Berlin)". */
export function understoodLine(frame: Frame, window: MeasureWindow, timezone: string): string {
  return `Understood: ${esc(describeFrame(frame, window.label))} (${esc(timezone)})`;
}

export function defineMeasure<D>(spec: MeasureSpec<D>): MeasureCommand<D> {
  const answers = (frame: Frame) =>
    (Array.isArray(spec.measure) ? spec.measure.includes(frame.measure) : frame.measure === spec.measure) &&
    spec.subjects.includes(frame.subject.kind) &&
    (spec.applies?.(frame) ?? true);
  return {
    ...spec,
    kind: "measure",
    answers,
    // Never chosen by keywords: only a frame read with confidence runs a measure.
    match: () => 0,
    async run(ctx: AskContext, q: Question): Promise<Answer> {
      const frame = q.frame;
      if (!frame || !answers(frame))
        throw new Error(`commands/${spec.id} answers frames of ${spec.measure} only`);
      const window = windowOf(q, frame, ctx.now, spec.defaultDays);
      const data = await spec.compute(ctx, frame, window);
      const b = spec.render(data, frame, ctx, window);
      return withOpening(b.build(), understoodLine(frame, window, ctx.timezone));
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
