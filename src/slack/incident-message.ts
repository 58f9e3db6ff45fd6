// The Slack message of an incident (or of a group of incidents posted together), rendered
// from the incidents' current state: what broke, expected vs actual, the last five runs, the
// question to ask next and the buttons that still make sense. Pure: the delivery handler
// (incident-delivery.ts) loads the data and sends; a post, an update and a retry of either
// all render the same message from the same state.
import type { ActionsBlock, Button, KnownBlock } from "@slack/types";
import type { IncidentRecord } from "../monitors/incidents.ts";
import { HOUSTON } from "../monitors/incidents.ts";
import { formatAt, formatSpan, localDayOf, previousDay } from "../monitors/format.ts";
import { code, esc } from "../questions/answer.ts";
import { SLACK_LIMITS } from "./blocks.ts";

/** action_id of each button; the button's value is the incident id. */
export const INCIDENT_ACTIONS = {
  acknowledge: "incident_acknowledge",
  resolve: "incident_resolve",
  silence: "incident_silence_1h",
} as const;
export type IncidentActionName = keyof typeof INCIDENT_ACTIONS;

/** Slack message metadata marking Houston's incident posts (found again after a crash). */
export const INCIDENT_EVENT_TYPE = "houston_incident";

/** Incidents listed one by one in a group post; the rest are counted ("and N more"). */
export const GROUP_LIST_MAX = 10;

export interface RunLine {
  status: string;
  startedAt: Date | null;
  endedAt: Date | null;
  durationMs: number | null;
  error: string | null;
}

export interface IncidentView {
  incident: IncidentRecord;
  /** The job's latest runs, newest first (job incidents; empty otherwise). */
  runs: RunLine[];
}

export interface RenderOptions {
  /** HOUSTON_TIMEZONE: times in the message. */
  timezone: string;
  /** When the message is rendered (relative days in the hint). */
  now: Date;
}

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const section = (text: string): KnownBlock => ({
  type: "section",
  text: { type: "mrkdwn", text: clip(text, SLACK_LIMITS.sectionText) },
});
const context = (text: string): KnownBlock => ({
  type: "context",
  elements: [{ type: "mrkdwn", text: clip(text, SLACK_LIMITS.sectionText) }],
});

/** A Slack user id becomes a mention; anything else (a PagerDuty user's name) stays text. */
export function who(by: string | null): string {
  if (!by) return "someone";
  if (by === HOUSTON) return "Houston";
  return /^[UW][A-Z0-9]{2,}$/.test(by) ? `<@${by}>` : esc(by);
}

const SEVERITY_ICON: Record<string, string> = {
  critical: ":red_circle:",
  error: ":rotating_light:",
  warning: ":warning:",
  info: ":information_source:",
};

function stateIcon(i: IncidentRecord): string {
  if (i.state === "resolved") return ":white_check_mark:";
  if (i.silenced) return ":zzz:";
  if (i.state === "acknowledged") return ":eyes:";
  return SEVERITY_ICON[i.severity] ?? ":rotating_light:";
}

/** "acknowledged by <@U1> at 10:42 UTC", "resolved automatically at …", "triggered at …". */
export function stateLine(i: IncidentRecord, tz: string): string {
  const at = (d: Date | null) => (d ? formatAt(d, tz) : "an unknown time");
  const parts: string[] = [];
  if (i.state === "resolved") {
    parts.push(
      i.resolvedBy === HOUSTON
        ? `*Resolved* automatically at ${at(i.resolvedAt)} (the condition cleared)`
        : `*Resolved* by ${who(i.resolvedBy)} at ${at(i.resolvedAt)}`,
    );
    if (i.acknowledgedAt) parts.push(`acknowledged by ${who(i.acknowledgedBy)} at ${at(i.acknowledgedAt)}`);
  } else if (i.state === "acknowledged") {
    parts.push(`*Acknowledged* by ${who(i.acknowledgedBy)} at ${at(i.acknowledgedAt)}`);
  } else {
    const retriggered = i.lastSeenAt.getTime() > i.openedAt.getTime() && i.resolvedAt === null;
    parts.push(
      `*Triggered* at ${at(i.openedAt)}${retriggered ? `, still breaching at ${at(i.lastSeenAt)}` : ""}`,
    );
  }
  if (i.silenced && i.state !== "resolved")
    parts.push("silenced: no reminders or pages while the silence lasts");
  return parts.join(" · ");
}

/** The day an incident opened, as a question says it: "today", "yesterday", "on 2026-11-20". */
function dayWords(opened: Date, now: Date, tz: string): string {
  const day = localDayOf(opened, tz);
  const today = localDayOf(now, tz);
  if (day === today) return "today";
  if (day === previousDay(today)) return "yesterday";
  return `on ${day}`;
}

/** The /houston question worth asking next about this incident. */
export function nextQuestion(i: IncidentRecord, now: Date, tz: string): string {
  const day = dayWords(i.openedAt, now, tz);
  const s = i.subject;
  switch (i.kind) {
    case "missed_run":
    case "late_start":
      return `why was ${s} late ${day}`;
    case "long_run":
      return `why did ${s} take so long ${day}`;
    case "failed_run":
    case "failure_streak":
      return `what failed first upstream of ${s}`;
    case "flapping":
      return "which jobs are flapping?";
    case "stale_dataset":
      return `is ${s} fresh?`;
    case "late_arrival": {
      const supplier = i.details["supplier"];
      return `did ${typeof supplier === "string" && supplier ? supplier : s} deliver on time this week?`;
    }
    case "failing_test": {
      const dataset = i.details["dataset"];
      return typeof dataset === "string" && dataset
        ? `is ${dataset} the right quality?`
        : "tests pass/fail trend this week";
    }
    default:
      return `status of ${s}`;
  }
}

const RUN_ICON: Record<string, string> = {
  success: ":large_green_circle:",
  failed: ":red_circle:",
  running: ":large_blue_circle:",
};

function runLine(r: RunLine, tz: string): string {
  const icon = RUN_ICON[r.status] ?? ":white_circle:";
  const when = r.startedAt ? formatAt(r.startedAt, tz) : "start unknown";
  const took =
    r.durationMs !== null ? `, ${formatSpan(r.durationMs)}` : r.status === "running" ? ", running" : "";
  const err = r.status === "failed" && r.error ? ` — ${esc(clip(r.error.split("\n")[0]!, 120))}` : "";
  return `${icon} ${esc(r.status)} ${when}${took}${err}`;
}

function buttons(i: IncidentRecord): ActionsBlock | undefined {
  if (i.state === "resolved") return undefined;
  const value = String(i.id);
  const els: Button[] = [];
  if (i.state === "triggered")
    els.push({
      type: "button",
      action_id: INCIDENT_ACTIONS.acknowledge,
      text: { type: "plain_text", text: "Acknowledge" },
      style: "primary",
      value,
    });
  els.push({
    type: "button",
    action_id: INCIDENT_ACTIONS.resolve,
    text: { type: "plain_text", text: "Resolve" },
    value,
    confirm: {
      title: { type: "plain_text", text: "Resolve this incident?" },
      text: {
        type: "mrkdwn",
        text: "Houston will not re-open it for this breach, and PagerDuty is resolved too.",
      },
      confirm: { type: "plain_text", text: "Resolve" },
      deny: { type: "plain_text", text: "Cancel" },
    },
  });
  if (!i.silenced)
    els.push({
      type: "button",
      action_id: INCIDENT_ACTIONS.silence,
      text: { type: "plain_text", text: "Silence 1h" },
      value,
    });
  return { type: "actions", block_id: `incident-${i.id}`, elements: els };
}

/**
 * The message's `text`: shown in notifications and read by screen readers, and parsed as
 * mrkdwn like the blocks, so names and summaries (which carry job names and run errors) are
 * escaped as the blocks escape them: a job named `<!channel>` must not notify a channel.
 */
function fallback(views: IncidentView[]): string {
  const [first] = views;
  if (views.length === 1) {
    const i = first!.incident;
    const state = i.state === "triggered" ? (i.silenced ? "silenced" : "triggered") : i.state;
    return clip(`[${state}] ${esc(i.summary)}`, SLACK_LIMITS.text);
  }
  const open = views.filter((v) => v.incident.state !== "resolved").length;
  const group = first!.incident.groupName;
  return clip(
    `${views.length} incidents${group ? ` in ${esc(group)}` : ""} (${open} open): ` +
      views.map((v) => esc(v.incident.subject)).join(", "),
    SLACK_LIMITS.text,
  );
}

/** One incident: the full message with runs, hint and buttons. */
function single(v: IncidentView, opts: RenderOptions): KnownBlock[] {
  const i = v.incident;
  const blocks: KnownBlock[] = [
    section(`${stateIcon(i)} *${esc(i.summary)}*`),
    context(stateLine(i, opts.timezone)),
  ];
  const expected = typeof i.details["expected"] === "string" ? (i.details["expected"] as string) : undefined;
  const actual = typeof i.details["actual"] === "string" ? (i.details["actual"] as string) : undefined;
  const fields: [string, string][] = [];
  if (expected) fields.push(["Expected", esc(expected)]);
  if (actual) fields.push(["Actual", esc(actual)]);
  fields.push(["What", `${esc(i.kind.replace(/_/g, " "))} of ${i.subjectType} ${code(i.subject)}`]);
  const owner = i.details["owner"];
  fields.push([
    "Severity",
    `${esc(i.severity)}${i.groupName ? ` · group ${code(i.groupName)}` : ""}${typeof owner === "string" ? ` · owner ${esc(owner)}` : ""}`,
  ]);
  blocks.push({
    type: "section",
    fields: fields.map(([k, val]) => ({
      type: "mrkdwn",
      text: clip(`*${k}*\n${val}`, SLACK_LIMITS.fieldText),
    })),
  });
  if (v.runs.length)
    blocks.push(
      section(
        `*Last ${v.runs.length} run${v.runs.length === 1 ? "" : "s"}*\n${v.runs.map((r) => runLine(r, opts.timezone)).join("\n")}`,
      ),
    );
  blocks.push(context(`Ask next: \`/houston ${esc(nextQuestion(i, opts.now, opts.timezone))}\``));
  const actions = buttons(i);
  if (actions) blocks.push(actions);
  return blocks;
}

/**
 * Several incidents of one group posted together: a headline, then each incident (state
 * line and its own buttons) up to GROUP_LIST_MAX, then "and N more". Stays within 50 blocks.
 */
function group(views: IncidentView[], opts: RenderOptions): KnownBlock[] {
  const first = views[0]!.incident;
  const open = views.filter((v) => v.incident.state !== "resolved");
  const acked = open.filter((v) => v.incident.state === "acknowledged").length;
  const headline =
    `${open.length ? ":rotating_light:" : ":white_check_mark:"} *${views.length} incidents` +
    `${first.groupName ? ` in group ${code(first.groupName)}` : ""}*` +
    ` — ${open.length} open${acked ? ` (${acked} acknowledged)` : ""}, ${views.length - open.length} resolved`;
  const blocks: KnownBlock[] = [section(headline), { type: "divider" }];
  // Open incidents first (they need someone), each in the order it was opened.
  const ordered = [...open, ...views.filter((v) => v.incident.state === "resolved")];
  const shown = ordered.slice(0, GROUP_LIST_MAX);
  for (const v of shown) {
    const i = v.incident;
    const detail = typeof i.details["actual"] === "string" ? `\n_${esc(i.details["actual"] as string)}_` : "";
    blocks.push(section(`${stateIcon(i)} *${esc(i.summary)}*${detail}\n${stateLine(i, opts.timezone)}`));
    const actions = buttons(i);
    if (actions) blocks.push(actions);
  }
  const more = ordered.length - shown.length;
  if (more > 0) blocks.push(context(`_and ${more} more — \`/houston incidents\` lists them all_`));
  blocks.push(context(`Ask next: \`/houston ${esc(nextQuestion(first, opts.now, opts.timezone))}\``));
  return blocks.slice(0, SLACK_LIMITS.blocks);
}

/** The message of a post (one incident, or a group posted together), as it should look now. */
export function renderIncidentMessage(views: IncidentView[], opts: RenderOptions): SlackMessage {
  if (views.length === 0) throw new RangeError("an incident message needs at least one incident");
  const blocks = views.length === 1 ? single(views[0]!, opts) : group(views, opts);
  return { text: fallback(views), blocks };
}

/** The threaded reminder for incidents still unacknowledged. */
export function renderReminder(views: IncidentView[], opts: RenderOptions): SlackMessage {
  if (views.length === 0) throw new RangeError("a reminder needs at least one incident");
  const age = (i: IncidentRecord) => formatSpan(opts.now.getTime() - i.openedAt.getTime());
  if (views.length === 1) {
    const i = views[0]!.incident;
    const text = `Still unacknowledged after ${age(i)}: ${esc(i.summary)}`;
    return {
      text: clip(text, SLACK_LIMITS.text),
      blocks: [
        section(`:bell: *Still unacknowledged after ${age(i)}*\n${esc(i.summary)}`),
        ...[buttons(i)].filter((b): b is ActionsBlock => b !== undefined),
      ],
    };
  }
  const lines = views
    .slice(0, GROUP_LIST_MAX)
    .map((v) => `• ${esc(v.incident.summary)} (${age(v.incident)})`);
  const more = views.length - lines.length;
  const body = `:bell: *${views.length} incidents still unacknowledged*\n${lines.join("\n")}${more > 0 ? `\n_and ${more} more_` : ""}`;
  return {
    text: clip(
      `${views.length} incidents still unacknowledged: ${views.map((v) => esc(v.incident.subject)).join(", ")}`,
      SLACK_LIMITS.text,
    ),
    blocks: [section(body)],
  };
}
