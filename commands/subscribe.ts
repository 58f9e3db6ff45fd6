// /houston subscribe <sla|anomalies|resources> daily 09:00 [Europe/Berlin] [env prod] [group G]
// (or weekly mon 09:00 …): the channel the command is typed in gets that digest at that local
// time. The time zone defaults to the asker's own (their Slack profile), since "09:00" is
// what they meant on their clock. Slack only: in the terminal it says how to do it instead.
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import type { Command } from "../src/questions/types.ts";
import { nextSlot } from "../src/digests/slots.ts";
import {
  createSubscription,
  describeSchedule,
  describeScope,
  formatDay,
  formatLocal,
  parseSubscription,
  REPORT_LABELS,
  SUBSCRIBE_EXAMPLES,
  SubscriptionSyntaxError,
} from "../src/digests/subscriptions.ts";

const VERB = /^\s*subscribe\b/i;

/** Said when there is no Slack channel to subscribe (the terminal, `houston ask`). */
export const NEEDS_A_CHANNEL =
  "Digests are delivered to a Slack channel: type `/houston subscribe …` in the channel that should get it " +
  "(e.g. `/houston subscribe sla daily 09:00 Europe/Berlin`), or declare it under `subscriptions:` in houston.yml.";

const command: Command = {
  id: "subscribe",
  acts: true,
  title: "Subscribe to a digest",
  summary: "post the SLA, anomalies or resource-usage digest to this channel every day or week",
  examples: SUBSCRIBE_EXAMPLES.map((e) => `subscribe ${e}`),
  match(q) {
    return VERB.test(q.raw) ? 1 : 0;
  },
  async run(ctx, q) {
    const b = new AnswerBuilder();
    const channel = ctx.asker?.channelId;
    if (!channel) return b.section(NEEDS_A_CHANNEL).build();
    const rest = q.raw.replace(VERB, "").trim();
    let spec;
    try {
      spec = parseSubscription(rest, ctx.timezone);
    } catch (err) {
      if (!(err instanceof SubscriptionSyntaxError)) throw err;
      return b.section(`:grey_question: ${esc(err.message)}`).build();
    }
    const { subscription: sub, outcome } = await createSubscription(ctx.store, spec, {
      channel,
      source: "slack",
      createdBy: ctx.asker!.userId,
      now: ctx.now,
    });
    const scope = describeScope(sub);
    const what = `the ${sub.cadence} ${REPORT_LABELS[sub.report]} digest at ${describeSchedule(sub).replace(/^\w+ /, "")}${scope ? ` (${scope})` : ""}`;
    const next = nextSlot(sub, ctx.now);
    const covers =
      next.days === 1 ? formatDay(next.reportedDate) : `the 7 days to ${formatDay(next.reportedDate)}`;
    if (outcome === "exists") b.headline(`This channel already gets ${what}.`);
    else if (outcome === "revived")
      b.headline(
        `Subscribed again: this channel gets ${what}. It had stopped because Houston could not post here.`,
      );
    else b.headline(`Subscribed: this channel gets ${what}.`);
    b.section(`Next: ${formatLocal(next.at, sub.timezone)}, covering ${covers}.`);
    if (outcome !== "exists")
      b.section(
        `_Houston must be a member of this channel to post (${code("/invite @Houston")}). ` +
          `${code(`/houston unsubscribe ${sub.report}`)} stops it; ${code("/houston subscriptions")} lists this channel's digests._`,
      );
    return b.build();
  },
};

export default command;
