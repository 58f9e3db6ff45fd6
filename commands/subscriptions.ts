// /houston subscriptions: the digests this channel gets, each with its next delivery and how
// the last one went, and any stopped because Houston can no longer post here. In the
// terminal (`houston ask subscriptions`) it lists every channel's, for operators.
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import type { Command } from "../src/questions/types.ts";
import { nextSlot } from "../src/digests/slots.ts";
import {
  describeSchedule,
  describeScope,
  formatDay,
  formatLocal,
  type ListedSubscription,
  listSubscriptions,
  REPORT_LABELS,
} from "../src/digests/subscriptions.ts";

const LIST =
  /^\s*(?:(?:list|show|my|our|which|what)\s+)?(?:(?:are|is|the|this|channel'?s?)\s+)*(?:subscriptions|digests|digest subscriptions)\b/i;

function lastOutcome(s: ListedSubscription): string {
  const l = s.last;
  if (!l) return "nothing sent yet";
  const when = formatLocal(l.finishedAt ?? l.slotAt, s.timezone);
  const day = formatDay(l.reportedDate);
  switch (l.state) {
    case "delivered":
      return `last sent ${when} (for ${day})`;
    case "failed":
      return `:x: last one failed ${when}: ${esc(l.error ?? "unknown error")}`;
    case "skipped":
      return `last one skipped (${esc(l.error ?? "missed")})`;
    case "channel_gone":
      return `:warning: last one could not be posted: ${esc(l.error ?? "channel gone")}`;
    case "sending":
      return "sending now";
    case "claimed":
      return l.attempts > 0 ? `retrying (${esc(l.error ?? "Slack error")})` : "about to send";
  }
}

function line(s: ListedSubscription, now: Date, showChannel: boolean): string {
  const scope = describeScope(s);
  const head =
    `${showChannel ? `<#${esc(s.channel)}> ` : ""}*${REPORT_LABELS[s.report]}* ${describeSchedule(s)}` +
    `${scope ? ` · ${esc(scope)}` : ""}${s.source === "config" ? " · houston.yml" : ""}`;
  if (s.channelGoneAt)
    return (
      `${head}\n:no_entry: stopped ${formatLocal(s.channelGoneAt, s.timezone)}: Houston can no longer post here ` +
      `(${esc(s.channelGoneError ?? "channel gone")}). Invite @Houston and run ` +
      `${code(`/houston subscribe ${s.report} ${describeSchedule(s)}`)} again.`
    );
  const next = nextSlot(s, now);
  return `${head}\nnext ${formatLocal(next.at, s.timezone)} · ${lastOutcome(s)}`;
}

const command: Command = {
  id: "subscriptions",
  acts: true,
  title: "Digest subscriptions",
  summary: "the digests this channel gets, when the next one comes and how the last one went",
  examples: ["subscriptions", "which digests does this channel get?", "list subscriptions"],
  match(q) {
    if (/^\s*(?:un)?subscribe\b/i.test(q.raw)) return 0;
    if (LIST.test(q.raw)) return 0.9;
    return /\bdigests?\b/.test(q.text) && /\b(?:get|gets|subscribed|subscriptions?)\b/.test(q.text) ? 0.8 : 0;
  },
  async run(ctx) {
    const b = new AnswerBuilder();
    const channel = ctx.asker?.channelId;
    const subs = await listSubscriptions(ctx.store, channel ? { channel } : {});
    if (subs.length === 0) {
      b.headline(channel ? "This channel gets no digests." : "No channel gets a digest yet.");
      b.section(
        `Start one with ${code("/houston subscribe sla daily 09:00")} (or ${code("anomalies")}, ${code("resources")}; ` +
          `${code("weekly mon 09:00")} for a weekly one).`,
      );
      return b.build();
    }
    const gone = subs.filter((s) => s.channelGoneAt);
    const head = channel
      ? `This channel gets ${subs.length - gone.length} digest${subs.length - gone.length === 1 ? "" : "s"}`
      : `${subs.length - gone.length} digest subscription${subs.length - gone.length === 1 ? "" : "s"} in ${new Set(subs.map((s) => s.channel)).size} channel(s)`;
    b.headline(`${head}${gone.length ? `; ${gone.length} stopped because Houston can no longer post` : ""}.`);
    for (const s of subs) b.section(line(s, ctx.now, !channel));
    return b.from("subscriptions and digest_deliveries").build();
  },
};

export default command;
