// Silence and unsilence (`/houston silence nightly_orders for 2h migrating the warehouse`,
// `/houston unsilence nightly_orders`): while a silence lasts, breaches of its subject are
// recorded as incidents but neither posted nor paged, and open incidents it covers stop
// reminding. A subject is a job, a dataset or a group, by name or with * wildcards; the kind
// may be said ("silence group finance_close for 1d"), else the name decides. Changing
// something needs to know who did it, so this answers only through Slack.
import { parseDuration } from "../src/houston-yml.ts";
import { namePatternProblem } from "../src/name-pattern.ts";
import { endSilence, listSilences, silence, type SilenceSubjectType } from "../src/monitors/incidents.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatSpan } from "../src/monitors/format.ts";
import { closest, findKnown, knownNames, resolveName, UnknownNameError } from "../src/questions/resolve.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { AskContext, Command, Question } from "../src/questions/types.ts";

/** Longer than this is not a silence but a change to houston.yml (or a maintenance window). */
export const MAX_SILENCE_MS = 30 * 86_400_000;
const USAGE =
  "Say what and for how long: `/houston silence <job|dataset|group> for 2h [reason]` (30m, 2h, 1d), or `/houston unsilence <name>`.";

const SILENCE = /^(?:please )?(?:silence|mute|snooze)(?:\s|$)/;
const UNSILENCE = /^(?:please )?(?:un-?silence|unmute|unsnooze|end (?:the )?silence (?:of|for|on))(?:\s|$)/;

const UNITS: Record<string, string> = {
  m: "m",
  min: "m",
  mins: "m",
  minute: "m",
  minutes: "m",
  h: "h",
  hr: "h",
  hrs: "h",
  hour: "h",
  hours: "h",
  d: "d",
  day: "d",
  days: "d",
};

/** "2h", "90m", "1h30m", "2 hours", "1 day" → ms; undefined when not a duration. */
export function parseSilenceDuration(text: string): number | undefined {
  const compact = text
    .trim()
    .toLowerCase()
    .replace(
      /(\d+)\s*(minutes?|mins?|hours?|hrs?|days?|[mhd])\b/g,
      (_, n: string, u: string) => `${n}${UNITS[u]}`,
    )
    .replace(/\s+/g, "");
  const secs = parseDuration(compact);
  return secs && secs > 0 ? secs * 1000 : undefined;
}

export interface SilenceRequest {
  subjectType?: SilenceSubjectType;
  subject: string;
  durationMs?: number;
  /** The words after "for", when they are not a duration. */
  badDuration?: string;
  reason?: string;
}

/** Reads "silence [job|dataset|group] <name> [for <duration>] [reason]" (the verb already stripped). */
export function parseSilenceRequest(rest: string): SilenceRequest | undefined {
  const m =
    /^(?:(job|dataset|group)\s+)?(`[^`]+`|"[^"]+"|\S+)(?:\s+for\s+(\d+\s*[a-z]+(?:\s*\d+\s*[a-z]+)?))?(?:\s+(.*))?$/i.exec(
      rest.trim(),
    );
  if (!m) return undefined;
  const out: SilenceRequest = { subject: m[2]!.replace(/^[`"]|[`"]$/g, "") };
  if (m[1]) out.subjectType = m[1].toLowerCase() as SilenceSubjectType;
  let reason = m[4]?.trim();
  if (m[3]) {
    const ms = parseSilenceDuration(m[3]);
    if (ms === undefined) out.badDuration = m[3];
    else out.durationMs = ms;
  } else if (reason && /^for\s/i.test(reason)) {
    out.badDuration = reason.replace(/^for\s+/i, "").split(/\s+/)[0];
  }
  reason = reason
    ?.replace(/^(?:because|reason:?|-+|—)\s*/i, "")
    .replace(/^["'](.*)["']$/, "$1")
    .trim();
  if (reason) out.reason = reason;
  return out;
}

/** The verb and anything before the subject, from what the person typed (names keep their case). */
function restOf(q: Question, verb: RegExp): string {
  return q.raw
    .replace(/<[#@!][^>|]*\|?([^>]*)>/g, "$1")
    .replace(/^\s*\/?houston\s+/i, "")
    .replace(new RegExp(verb.source, "i"), "")
    .trim();
}

/** The kind and known name a person meant; a pattern with * is taken as typed. */
async function resolveSubject(
  ctx: AskContext,
  given: string,
  kind?: SilenceSubjectType,
): Promise<{ subjectType: SilenceSubjectType; subject: string }> {
  if (given.includes("*")) return { subjectType: kind ?? "job", subject: given };
  if (kind) return { subjectType: kind, subject: await resolveName(ctx.store, kind, given) };
  for (const k of ["job", "dataset", "group"] as const) {
    const found = await findKnown(ctx.store, k, [given]);
    if (found) return { subjectType: k, subject: found };
  }
  // Nothing by that name: suggest the closest names of whichever kind has some.
  for (const k of ["job", "dataset", "group"] as const) {
    const near = closest(given, await knownNames(ctx.store, k));
    if (near.length) throw new UnknownNameError(k, given, near);
  }
  throw new UnknownNameError("job", given, []);
}

const NEEDS_SLACK =
  "Silencing needs Slack, so Houston can record who silenced what: ask `/houston silence …` there. `houston ask silences` lists the silences in force.";

async function runSilence(ctx: AskContext, q: Question): Promise<AnswerBuilder> {
  const b = new AnswerBuilder();
  const req = parseSilenceRequest(restOf(q, SILENCE));
  if (!req) return b.section(USAGE);
  if (req.badDuration !== undefined)
    return b.section(`${code(req.badDuration)} is not a duration I know. ${USAGE}`);
  if (req.durationMs === undefined) return b.section(`For how long? ${USAGE}`);
  if (req.durationMs > MAX_SILENCE_MS)
    return b.section(
      `A silence lasts at most 30 days; for longer, change the job's alerting in houston.yml or declare a maintenance window.`,
    );
  const patternProblem = namePatternProblem(req.subject);
  if (patternProblem) return b.section(`The name ${patternProblem}. ${USAGE}`);
  if (!ctx.asker) return b.section(NEEDS_SLACK);
  const subject = await resolveSubject(ctx, req.subject, req.subjectType);
  const until = new Date(ctx.now.getTime() + req.durationMs);
  const s = await silence(ctx.store, {
    subjectType: subject.subjectType,
    subject: subject.subject,
    at: ctx.now,
    until,
    reason: req.reason ?? null,
    by: ctx.asker.userId,
  });
  b.headline(
    `:zzz: Silenced ${subject.subjectType} ${code(s.subject)} for ${formatSpan(req.durationMs)}, until ${formatDateTime(s.endsAt, ctx.timezone, ctx.now)}`,
  );
  b.section(
    `Breaches are recorded but not posted or paged, and its open incidents stop reminding.${s.reason ? ` Reason: _${esc(s.reason)}_.` : ""} ` +
      `\`/houston unsilence ${esc(s.subject)}\` ends it early; \`/houston silences\` lists them all.`,
  );
  return b;
}

async function runUnsilence(ctx: AskContext, q: Question): Promise<AnswerBuilder> {
  const b = new AnswerBuilder();
  const rest = restOf(q, UNSILENCE);
  const m = /^(?:(job|dataset|group)\s+)?(`[^`]+`|"[^"]+"|\S+)/i.exec(rest);
  if (!m) return b.section(USAGE);
  if (!ctx.asker) return b.section(NEEDS_SLACK);
  const kind = m[1]?.toLowerCase();
  const given = m[2]!.replace(/^[`"]|[`"]$/g, "").toLowerCase();
  const active = await listSilences(ctx.store, ctx.now);
  const tail = (s: string) => s.slice(s.lastIndexOf("/") + 1);
  const hits = active.filter(
    (s) =>
      (!kind || s.subjectType === kind) &&
      (s.subject.toLowerCase() === given || tail(s.subject.toLowerCase()) === given),
  );
  if (hits.length === 0) {
    if (active.length === 0)
      return b.section(`Nothing is silenced, so there is nothing to end for ${code(given)}.`);
    const near = closest(
      given,
      active.map((s) => s.subject),
    );
    return b.section(
      `No silence of ${code(given)} is in force.${near.length ? ` Did you mean ${near.map(code).join(" or ")}?` : ""} ` +
        "`/houston silences` lists them.",
    );
  }
  let ended = 0;
  for (const s of hits) if (await endSilence(ctx.store, s.id, ctx.now)) ended++;
  b.headline(
    `:bell: Ended ${ended === 1 ? "the silence" : `${ended} silences`} of ${hits.map((s) => `${s.subjectType} ${code(s.subject)}`).join(", ")}`,
  );
  b.section("Breaches that persist are announced at the next evaluation (within a minute).");
  return b;
}

const command: Command = {
  id: "silence",
  acts: true,
  title: "Silence",
  summary:
    "silence a job, dataset or group for a while (breaches recorded, not posted or paged), or end a silence",
  examples: [
    "silence nightly_orders for 2h warehouse migration",
    "silence group finance_close for 1d",
    "unsilence nightly_orders",
  ],
  match(q) {
    if (UNSILENCE.test(q.text)) return 0.95;
    if (SILENCE.test(q.text)) return 0.95;
    return 0;
  },
  async run(ctx, q) {
    const b = UNSILENCE.test(q.text) ? await runUnsilence(ctx, q) : await runSilence(ctx, q);
    return b.build();
  },
};

export default command;
