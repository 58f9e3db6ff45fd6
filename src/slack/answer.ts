// One path for every question that reaches Houston through Slack, whichever way it came
// (/houston, an @-mention, a DM): the asker's time zone → the question router → delivery
// by the listener → one structured log line with the outcome. Listeners only say where
// the text comes from and where the answer goes.
import type { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import type { Metrics } from "../metrics.ts";
import { AnswerBuilder } from "../questions/answer.ts";
import { ask } from "../questions/router.ts";
import { lastTurn, saveTurn } from "../understanding/conversations.ts";
import type { Frame } from "../understanding/frame.ts";
import type { Answer, Command, Question } from "../questions/types.ts";
import { fitForSlack } from "./blocks.ts";
import { describeSlackError } from "./errors.ts";
import type { UserTimezones } from "./timezones.ts";

export type QuestionSource = "command" | "mention" | "dm" | "reading";

export interface IncomingQuestion {
  text: string;
  source: QuestionSource;
  userId: string;
  teamId?: string;
  channelId?: string;
  /** The slash command's trigger_id or the event's event_id: follows the question through the log. */
  correlationId: string;
  /** The listener's client (bot token, Houston's retry policy). */
  client: webApi.WebClient;
  /** The DM or thread this question belongs to, when follow-ups there refer to it. */
  conversation?: string;
  /** The reading the asker chose from a clarification: answered as that frame. */
  frame?: Frame;
}

export interface ReadyAnswer {
  answer: Answer;
  family: string;
  question: Question;
}

export interface AnswererDeps {
  commands: Command[];
  store: Store;
  log: Logger;
  timezones: UserTimezones;
  now: () => Date;
  metrics?: Metrics;
}

/** How long an event id is remembered, to drop Slack's retries of an event already answered. */
const SEEN_EVENTS_MS = 3_600_000;
const SEEN_EVENTS_MAX = 5_000;

export class Answerer {
  private readonly seen = new Map<string, number>();

  constructor(private readonly deps: AnswererDeps) {}

  /**
   * Answers and delivers one question, then logs one line about it. Never rejects: a
   * failure to answer becomes an apology delivered to the asker, a failure to deliver is
   * logged with what to fix.
   */
  async handle(q: IncomingQuestion, deliver: (ready: ReadyAnswer) => Promise<void>): Promise<void> {
    const started = performance.now();
    const qlog = this.deps.log.child({
      correlationId: q.correlationId,
      source: q.source,
      userId: q.userId,
      ...(q.teamId ? { teamId: q.teamId } : {}),
      ...(q.channelId ? { channelId: q.channelId } : {}),
    });
    const tz = await this.deps.timezones.get(q.client, q.userId);
    let ready: ReadyAnswer;
    const now = this.deps.now();
    try {
      const previous = q.conversation ? await lastTurn(this.deps.store, q.conversation, now) : undefined;
      const asked = await ask(
        this.deps.commands,
        {
          store: this.deps.store,
          now,
          timezone: tz.timezone,
          log: qlog,
          asker: {
            userId: q.userId,
            ...(q.channelId ? { channelId: q.channelId } : {}),
            ...(q.teamId ? { teamId: q.teamId } : {}),
          },
          ...(previous ? { previous } : {}),
        },
        q.text,
        q.frame,
      );
      ready = asked;
      if (q.conversation && asked.turn) await saveTurn(this.deps.store, q.conversation, asked.turn, now);
    } catch (err) {
      // The router turns a family's failure into an answer; this is everything else (parsing, a lost database).
      qlog.error({ err }, "answering a question failed");
      const answer = new AnswerBuilder()
        .section(
          ":warning: Houston could not answer that right now. The error is in Houston's log; try again shortly.",
        )
        .build();
      ready = { answer, family: "error", question: { raw: q.text, text: "", share: false, names: [] } };
    }
    ready = { ...ready, answer: fitForSlack(ready.answer) };
    const answeredMs = round(performance.now() - started);
    this.deps.metrics?.questionSeconds.observe({ family: ready.family }, answeredMs / 1000);
    const count = (outcome: "delivered" | "undelivered") =>
      this.deps.metrics?.questions.inc({ family: ready.family, source: q.source, outcome });
    const line = {
      family: ready.family,
      timezone: tz.timezone,
      timezoneSource: tz.source,
      share: ready.question.share,
      blocks: ready.answer.blocks.length,
      question: q.text.slice(0, 300),
      answeredMs,
    };
    try {
      await deliver(ready);
      count("delivered");
      qlog.info({ ...line, ms: round(performance.now() - started) }, "question answered");
    } catch (err) {
      count("undelivered");
      const { code, hint } = describeSlackError(err);
      qlog.error(
        { ...line, ms: round(performance.now() - started), err, code, ...(hint ? { hint } : {}) },
        `question answered but the answer could not be delivered (${code})`,
      );
    }
  }

  /** True the first time an event id is seen; false for Slack's retries of it. */
  firstDelivery(eventId: string | undefined): boolean {
    if (!eventId) return true;
    const now = Date.now();
    if ((this.seen.get(eventId) ?? 0) > now) return false;
    // Insertion order is age order: drop the oldest while full.
    for (const id of this.seen.keys()) {
      if (this.seen.size < SEEN_EVENTS_MAX) break;
      this.seen.delete(id);
    }
    this.seen.set(eventId, now + SEEN_EVENTS_MS);
    return true;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
