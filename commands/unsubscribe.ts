// /houston unsubscribe <sla|anomalies|resources|all> [daily 09:00 …] [env E] [group G]: ends
// this channel's matching digest subscriptions. Those declared in houston.yml are left alone
// (the next start would bring them back) and the answer says where to remove them.
import { AnswerBuilder, esc } from "../src/questions/answer.ts";
import type { Command } from "../src/questions/types.ts";
import {
  describeSchedule,
  describeScope,
  endSubscriptions,
  listSubscriptions,
  parseUnsubscribe,
  REPORT_LABELS,
  type Subscription,
  SubscriptionSyntaxError,
} from "../src/digests/subscriptions.ts";
import { NEEDS_A_CHANNEL } from "./subscribe.ts";

const VERB = /^\s*unsubscribe\b/i;

const describe = (s: Subscription) => {
  const scope = describeScope(s);
  return `${REPORT_LABELS[s.report]} ${describeSchedule(s)}${scope ? ` (${scope})` : ""}`;
};

const command: Command = {
  id: "unsubscribe",
  acts: true,
  title: "Unsubscribe from a digest",
  summary: "stop a digest in this channel",
  examples: ["unsubscribe sla", "unsubscribe anomalies weekly mon 08:30", "unsubscribe all"],
  match(q) {
    return VERB.test(q.raw) ? 1 : 0;
  },
  async run(ctx, q) {
    const b = new AnswerBuilder();
    const channel = ctx.asker?.channelId;
    if (!channel) return b.section(NEEDS_A_CHANNEL.replace("subscribe", "unsubscribe")).build();
    let filter;
    try {
      filter = parseUnsubscribe(q.raw.replace(VERB, ""), ctx.timezone);
    } catch (err) {
      if (!(err instanceof SubscriptionSyntaxError)) throw err;
      return b.section(`:grey_question: ${esc(err.message)}`).build();
    }
    const ended = await endSubscriptions(ctx.store, { ...filter, channel, keepSource: "config" }, ctx.now);
    const fromFile = (await listSubscriptions(ctx.store, { channel })).filter(
      (s) =>
        s.source === "config" &&
        (!filter.report || s.report === filter.report) &&
        (!filter.cadence || s.cadence === filter.cadence) &&
        (!filter.localTime || s.localTime === filter.localTime) &&
        (filter.environment === undefined || (s.environment ?? "") === filter.environment) &&
        (filter.group === undefined || (s.group ?? "") === filter.group),
    );
    const which = filter.report ? `${REPORT_LABELS[filter.report]} digest` : "digest";
    if (ended.length === 0 && fromFile.length === 0) {
      b.headline(`This channel has no ${which} subscription to stop.`);
      b.section("`/houston subscriptions` lists the digests this channel gets.");
      return b.build();
    }
    if (ended.length)
      b.list(
        `Unsubscribed: this channel no longer gets ${ended.length === 1 ? "this digest" : `these ${ended.length} digests`}`,
        ended.map((s) => esc(describe(s))),
      );
    if (fromFile.length)
      b.list(
        `Declared in houston.yml, so not stopped here (remove ${fromFile.length === 1 ? "it" : "them"} under \`subscriptions:\` there)`,
        fromFile.map((s) => esc(describe(s))),
      );
    return b.build();
  },
};

export default command;
