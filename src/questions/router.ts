// One router for /houston, @-mentions, DMs and `houston ask`: parse the question, run the
// family that understands it best, and turn the two expected failures (an unknown name,
// a question nobody understands) into helpful answers. Help is generated from the registry.
import { AnswerBuilder, withOpening, code, esc } from "./answer.ts";
import { parseQuestion } from "./parse.ts";
import { UnknownNameError } from "./resolve.ts";
import { untilNow } from "../time/index.ts";
import { nameIndex } from "../understanding/directory.ts";
import { words as nameWords } from "../understanding/names.ts";
import { describeFrame } from "../understanding/describe.ts";
import { isMeasure, type MeasureCommand } from "./measure.ts";
import type { Frame } from "../understanding/frame.ts";
import type { Turn } from "../understanding/conversations.ts";
import { CONFIDENT, type Parsed, parseFollowUp, parseFrame } from "../understanding/parse.ts";
import type { Answer, AskContext, Command, Question } from "./types.ts";

/** Below this score no family is confident enough to answer. */
const MIN_SCORE = 0.3;

export interface AskResult {
  answer: Answer;
  /** The family that answered; "help", "did-you-mean", "not-understood" or "error" otherwise. */
  family: string;
  question: Question;
  /** What to remember of this question for a follow-up in the same conversation. */
  turn?: Turn;
}

const HELP = /^(?:help|\?|what can you do|what do you (?:know|answer)|how do i use (?:you|this)|commands)\b/;

/** The buttons of a clarification: each carries the question and the reading it offers. */
export const READING_ACTION = "houston_reading";

/** What a reading button carries: the question as asked and the frame chosen for it. */
export interface Reading {
  q: string;
  f: Frame;
}

/**
 * Answers a question. `chosen` is a reading the asker picked from a clarification: the
 * question is answered with that frame instead of being read again.
 */
export async function ask(
  commands: Command[],
  ctx: AskContext,
  input: string,
  chosen?: Frame,
): Promise<AskResult> {
  // In a conversation, a short follow-up changes one slot of the previous question, which
  // is asked again with that change ("and in staging?").
  let text = input;
  let follow: Parsed | undefined;
  if (chosen) {
    follow = {
      frame: chosen,
      confidence: 1,
      unused: [],
      alternatives: [],
      defaulted: false,
      subjectExact: true,
    };
  } else if (ctx.previous) {
    const names = await nameIndex(ctx.store);
    follow = parseFollowUp(input, ctx.previous.frame, { now: ctx.now, timezone: ctx.timezone, names });
    if (follow) text = ctx.previous.question;
  }
  const q = parseQuestion(text, ctx.now, ctx.timezone);
  let parsed = await understand(ctx, text, q);
  if (follow && chosen) parsed = applyFollowUp(ctx, q, parsed, follow, { question: input, frame: chosen });
  else if (follow && ctx.previous) parsed = applyFollowUp(ctx, q, parsed, follow, ctx.previous);
  // Two names fit the words equally: ask which, never guess.
  if (!chosen && parsed?.ambiguous && parsed.alternatives.length)
    return { answer: clarify(input, parsed), family: "clarify", question: q };
  const result = await answer(commands, ctx, q, parsed);
  if (parsed && !["help", "not-understood", "did-you-mean", "error", "clarify"].includes(result.family)) {
    result.turn = { question: text, frame: parsed.frame };
    if (q.window)
      result.turn.window = {
        from: q.window.from.toISOString(),
        to: q.window.to.toISOString(),
        label: q.window.label,
        phrase: q.window.phrase,
      };
  }
  return result;
}

/** The previous question with the follow-up's change: its window, environment or subject. */
function applyFollowUp(
  ctx: AskContext,
  q: Question,
  parsed: Parsed | undefined,
  follow: Parsed,
  previous: Turn,
): Parsed {
  const frame = follow.frame;
  if (follow.window) q.window = follow.window;
  else if (previous.window)
    q.window = {
      from: new Date(previous.window.from),
      to: new Date(previous.window.to),
      label: previous.window.label,
      phrase: previous.window.phrase,
    };
  if (q.window) q.window = untilNow(q.window, ctx.now);
  if (frame.environment) q.environment = frame.environment;
  const before = parsed?.frame.subject.name;
  const now = frame.subject.name;
  if (now && now !== before) q.names = [now, ...q.names.filter((n) => n !== before && n !== now)];
  if (frame.polarity) q.polarity = frame.polarity;
  q.measure = frame.measure;
  return { ...(parsed ?? follow), frame, confidence: 1, defaulted: false };
}

async function answer(
  commands: Command[],
  ctx: AskContext,
  q: Question,
  parsed: Parsed | undefined,
): Promise<AskResult> {
  if (q.text === "" || HELP.test(q.text)) return { answer: help(commands), family: "help", question: q };
  const best = chooseFamily(commands, q, parsed);
  if (best === NOT_YET && parsed)
    return { answer: notYet(commands, q, parsed), family: "not-yet", question: q };
  if (!best || best === NOT_YET)
    return { answer: notUnderstood(commands, q, parsed), family: "not-understood", question: q };
  // Measures read the frame, not the words, when it was read with confidence.
  if (isMeasure(best) && parsed && framedFor(best, parsed)) q.frame = parsed.frame;
  try {
    const answered = await best.run(ctx, q);
    // Measures open with what they understood themselves; the families get it here.
    // Commands that change something (subscribe, silence) say what they did instead.
    const a =
      isMeasure(best) || best.acts
        ? answered
        : withOpening(answered, understoodBy(best, q, parsed, ctx.timezone));
    return { answer: a, family: best.id, question: q };
  } catch (err) {
    if (err instanceof UnknownNameError)
      return { answer: didYouMean(err), family: "did-you-mean", question: q };
    ctx.log?.error({ err, family: best.id }, "question failed");
    const b = new AnswerBuilder().section(
      `:warning: Something went wrong answering that (${best.title}). The error is in Houston's log; try again or rephrase.`,
    );
    return { answer: b.build(), family: "error", question: q };
  }
}

/**
 * The line that opens a family's answer: the frame read back when the family is the one the
 * frame asks for; else what the family answers, with the names, time and environment it
 * took from the question — so a reader sees at once which question was answered.
 */
function understoodBy(family: Command, q: Question, parsed: Parsed | undefined, timezone: string): string {
  const zone = ` (${esc(timezone)})`;
  if (parsed && parsed.confidence >= CONFIDENT && !parsed.defaulted && familyFor(parsed.frame) === family.id)
    return `Understood: ${esc(describeFrame(parsed.frame, q.window?.label))}${q.window ? zone : ""}`;
  const parts = [family.title];
  if (q.names.length) parts.push(q.names.slice(0, 2).map(code).join(", "));
  if (q.window) parts.push(`${esc(q.window.label)}${zone}`);
  if (q.environment) parts.push(`in ${esc(q.environment)}`);
  return `Understood: ${parts.join(" — ")}`;
}

/**
 * The family that answers a measure of a subject. The families predate the frame: a few
 * measures share one ("when did X last fail" is did-it-run's), and cost and resources
 * have none yet.
 */
function familyFor(frame: Frame): string | undefined {
  const one = frame.subject.kind === "job";
  switch (frame.measure) {
    case "runs":
    case "failures":
    case "rows":
      return one ? "did-it-run" : "yesterdays-work";
    case "status":
      return one ? "did-it-run" : "status";
    case "last_run":
    case "last_success":
    case "last_failure":
      return "did-it-run";
    case "duration":
      return one ? "did-it-run" : "yesterdays-work";
    case "failure_rate":
    case "troublesome":
      return "troublesome";
    case "start_lateness":
    case "ended_late":
    case "root_cause":
      return "root-cause";
    case "missed":
      return "missed-runs";
    case "plan":
      return "todays-plan";
    case "ordering":
      return frame.against ? "ordering" : undefined;
    case "freshness":
      return "freshness";
    case "arrivals":
      return "arrivals";
    case "tests":
      return "quality";
    case "deploys":
      return "deploys";
    case "schema_changes":
      return "schema-changes";
    case "incidents":
      return "incidents";
    case "summary":
      return frame.window ? "yesterdays-work" : "status";
    case "environments":
      return "environments";
    case "tickets":
      return "projects";
    case "cost":
    case "resources":
    case "upstream":
    case "downstream":
    case "owner":
    case "bad_records":
    case "sla":
    case "anomalies":
    case "refresh_history":
    case "deploy_impact":
      return undefined;
  }
}

const NOT_YET = Symbol("not yet");

/**
 * Frames the families cannot answer yet (the catalogue of measures will): a job's failure
 * rate or duration statistics other than its last run, and cost or resources of anything.
 */
function notAnswerable(frame: Frame): boolean {
  if (frame.measure === "cost" || frame.measure === "resources") return true;
  if (frame.subject.kind !== "job") return false;
  if (frame.measure === "failure_rate") return true;
  return frame.measure === "duration" && frame.stat !== undefined && frame.stat !== "last";
}

function notYet(commands: Command[], q: Question, parsed: Parsed): Answer {
  const b = new AnswerBuilder().section(
    `I understood: *${esc(describeFrame(parsed.frame, parsed.window?.label))}*. Houston cannot compute that yet, so rather than answer a different question: here is what I can answer about it.`,
  );
  b.list(
    "Close questions I can answer:",
    closestExamples(commands, q).map((e) => `_${e}_`),
  );
  return b.build();
}

/** Families that answer anything about a job or the fleet: a more specific reading beats them. */
const GENERAL = new Set(["did-it-run", "yesterdays-work", "status"]);

/**
 * The keyword families decide first, as they always have; the frame decides when none of
 * them understood the question, or when one of the general families would answer a question
 * whose frame is about something specific ("did X run after everything in G" is ordering,
 * not "did X run"; "did X start late or run long" is a root cause).
 */
function chooseFamily(
  commands: Command[],
  q: Question,
  parsed: Parsed | undefined,
): Command | typeof NOT_YET | undefined {
  const keyword = bestCommand(commands, q);
  if (!parsed || parsed.confidence < CONFIDENT || parsed.defaulted) return keyword;
  // A measure of the catalogue that answers the frame exactly goes first. One converted from
  // a keyword family is chosen below as that family was (familyFor), so that converting it
  // changed which questions it answers in no way.
  const measure = commands.find((c) => isMeasure(c) && !c.keywords && c.answers(parsed.frame));
  if (measure) return measure;
  // Understood, but no family computes it: say so rather than answer a neighbouring question.
  if (notAnswerable(parsed.frame) && (!keyword || GENERAL.has(keyword.id))) return NOT_YET;
  const id = familyFor(parsed.frame);
  const byFrame = id ? commands.find((c) => c.id === id) : undefined;
  if (!byFrame) return keyword;
  if (!keyword) return byFrame;
  if (keyword.id !== byFrame.id && GENERAL.has(keyword.id) && !GENERAL.has(byFrame.id)) return byFrame;
  return keyword;
}

/**
 * True when a measure computes the question's frame as the parser read it: read with
 * confidence, of a measure and subject it answers. A measure converted from a keyword
 * family resolves a name typed with a typo itself, with "did you mean …?" (the parser's
 * corrected name is not assumed); a measure without keywords takes the corrected name.
 */
function framedFor(m: MeasureCommand, parsed: Parsed): boolean {
  return (
    parsed.confidence >= CONFIDENT &&
    !parsed.defaulted &&
    m.answers(parsed.frame) &&
    (parsed.subjectExact || !m.keywords)
  );
}

/** Subject kinds whose names the families resolve from Question.names. */
const NAMED_KINDS = new Set(["job", "group", "dataset", "supplier", "artifact", "project"]);

/**
 * Names as people type them ("gl summary", "GL_Sumary", "the finance jobs", "fx reval")
 * become the store's names, found by the name index: the families then resolve them
 * exactly. The index's reading goes first; what the families found before stays after it.
 * Returns the question's frame for choosing a family, or undefined when it should not be
 * trusted for that (a typed name it could not read).
 */
async function understand(ctx: AskContext, input: string, q: Question): Promise<Parsed | undefined> {
  const names = await nameIndex(ctx.store);
  const parsed = parseFrame(input, { now: ctx.now, timezone: ctx.timezone, names });
  const { frame, subjectExact } = parsed;
  if (frame.polarity) q.polarity = frame.polarity;
  if (parsed.confidence >= CONFIDENT && !parsed.defaulted) q.measure = frame.measure;
  // A corrected typo is offered back as "did you mean …?" by the families, not assumed.
  if (!subjectExact) return parsed;
  const found = [frame.subject, frame.against]
    .filter((s): s is NonNullable<typeof s> => !!s?.name && NAMED_KINDS.has(s.kind))
    .map((s) => s.name!);
  if (!found.length) return parsed;
  // A typed identifier the index did not read as one of these names ("finance_clse" next to
  // a match on "finance") is left to the families, which answer with "did you mean …?".
  const typed = q.names.filter((n) => !found.some((f) => spells(n, f)));
  if (typed.some((n) => /[_./-]/.test(n))) return undefined;
  q.names = [...found, ...typed];
  return parsed;
}

/** True when `typed` is the known name or its tail, in any separators and case ("GL-Summary"). */
function spells(typed: string, known: string): boolean {
  const t = nameWords(typed).join(" ");
  const k = nameWords(known).join(" ");
  return t.length > 0 && (k === t || k.endsWith(` ${t}`));
}

/** The family that answers a question: the highest score, first loaded on a tie; none below MIN_SCORE. */
export function bestCommand(commands: Command[], q: Question): Command | undefined {
  let best: { c: Command; score: number } | undefined;
  for (const c of commands) {
    const score = c.match(q);
    if (score > (best?.score ?? 0)) best = { c, score };
  }
  return best && best.score >= MIN_SCORE ? best.c : undefined;
}

export function help(commands: Command[]): Answer {
  const b = new AnswerBuilder().headline("Houston answers questions about your pipelines. Ask me:");
  for (const c of commands)
    b.section(
      `*${c.title}* — ${c.summary}\n${c.examples
        .slice(0, 3)
        .map((e) => `• _${e}_`)
        .join("\n")}`,
    );
  b.section(
    "Times: _today, yesterday, last night, this week, last 7 days, last 12 hours, since Monday, on 2026-11-03_. " +
      "Environments: _in prod, in staging, in dev_. Add `--share` to post the answer to the channel.",
  );
  // The blocks carry three examples per family; the plain-text fallback (notifications,
  // screen readers) would outgrow Slack's text limit that way, so it names one each.
  const answer = b.build();
  const text = [
    "Houston answers questions about your pipelines. Ask me:",
    ...commands.map((c) => `• ${c.title}: ${c.examples[0] ?? c.summary}`),
  ].join("\n");
  return { ...answer, text };
}

function didYouMean(err: UnknownNameError): Answer {
  const b = new AnswerBuilder();
  if (err.suggestions.length) {
    b.section(`No ${err.kind} ${code(err.given)}; did you mean ${err.suggestions.map(code).join(" or ")}?`);
  } else
    b.section(
      `No ${err.kind} ${code(err.given)} has reported to Houston yet. Check the name, or ask _what can you do?_`,
    );
  return b.build();
}

function words(s: string): Set<string> {
  return new Set(
    s
      .toLowerCase()
      .split(/[^a-z0-9_]+/)
      .filter((w) => w.length > 2),
  );
}

/** The three examples closest to the question (word overlap), to show what can be asked. */
export function closestExamples(commands: Command[], q: Question, n = 3): string[] {
  const qw = words(q.text);
  const scored = commands.flatMap((c) =>
    c.examples.map((e) => {
      const ew = words(e);
      let common = 0;
      for (const w of qw) if (ew.has(w)) common++;
      return { e, s: common / Math.max(1, Math.sqrt(ew.size * Math.max(1, qw.size))) };
    }),
  );
  scored.sort((a, b) => b.s - a.s);
  const out: string[] = [];
  for (const { e } of scored) {
    if (!out.includes(e)) out.push(e);
    if (out.length === n) break;
  }
  return out;
}

/** Up to three readings of the question as buttons (in a terminal, a numbered list). */
function readingButtons(b: AnswerBuilder, input: string, parsed: Parsed): void {
  const frames = [parsed.frame, ...parsed.alternatives].slice(0, 3);
  // A button's value holds at most 2,000 characters: the frame is small, the question is cut.
  const q = input.slice(0, 1_200);
  b.buttons(
    READING_ACTION,
    frames.map((f) => ({
      text: describeFrame(f, parsed.window?.label),
      value: JSON.stringify({ q, f } satisfies Reading),
    })),
  );
}

function clarify(input: string, parsed: Parsed): Answer {
  const b = new AnswerBuilder().section(
    `More than one thing fits _${esc(input.replace(/_/g, " "))}_. Which did you mean?`,
  );
  readingButtons(b, input, parsed);
  return b.build();
}

function notUnderstood(commands: Command[], q: Question, parsed?: Parsed): Answer {
  const understood: string[] = [];
  if (q.window) understood.push(`the time ${q.window.label}`);
  if (q.environment) understood.push(`the environment ${q.environment}`);
  if (q.names.length)
    understood.push(`the name${q.names.length > 1 ? "s" : ""} ${q.names.map(code).join(", ")}`);
  const b = new AnswerBuilder().section(
    `I didn't understand _${q.raw.replace(/_/g, " ")}_. ` +
      (understood.length ? `I picked out ${understood.join(", ")}, but not what to answer about it.` : ""),
  );
  // Up to three readings of the question, most likely first, when the parser has any.
  if (parsed && !parsed.defaulted) {
    b.section("*Did you mean one of these?*");
    readingButtons(b, q.raw, parsed);
  }
  b.list(
    "Questions I can answer that are close to yours:",
    closestExamples(commands, q).map((e) => `_${e}_`),
  );
  b.section("Ask _help_ for everything I know.");
  return b.build();
}
