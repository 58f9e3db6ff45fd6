// The real Houston (HTTP server + Bolt in HTTP mode) wired to a fake Slack, and what a
// person does in Slack: run /houston, mention @Houston, DM it.
import type { Command } from "../../src/questions/types.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import {
  eventCallback,
  FAKE_BOT,
  FakeSlack,
  messageTs,
  type ResponseUrlPost,
  type SignedResponse,
  type SlackCall,
  signedSlackRequest,
  slashCommand,
} from "../helpers/fake-slack.ts";
import type { StoreKind, TestStore } from "../helpers/store.ts";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const BOT_TOKEN = "xoxb-1111-2222-houstontesttoken";

export interface SlackHarness {
  slack: FakeSlack;
  app: TestApp;
  eventsUrl: string;
  /** Sends a signed /houston; resolves when Slack's request is answered (the ack). */
  command(
    text: string,
    opts?: { userId?: string; triggerId?: string; responseUrl?: string },
  ): Promise<SignedResponse & { responseUrl: string }>;
  /** /houston and the first answer at its response_url. */
  ask(text: string, opts?: { userId?: string }): Promise<{ ack: SignedResponse; reply: ResponseUrlPost }>;
  /** An app_mention in a channel; resolves with the chat.postMessage that answered it. */
  mention(
    text: string,
    opts?: { userId?: string; channel?: string },
  ): Promise<{ ack: SignedResponse; post: SlackCall; ts: string }>;
  /** A DM (message.im); resolves with the chat.postMessage that answered it. */
  dm(
    text: string,
    opts?: { userId?: string; channel?: string },
  ): Promise<{ ack: SignedResponse; post: SlackCall }>;
  /** Sends any Events API envelope. */
  event(event: Record<string, unknown>, opts?: { eventId?: string }): Promise<SignedResponse>;
  /** Houston's "question answered" log lines. */
  questionLogs(): Record<string, any>[];
  /** Waits for a "question answered" line (it is written once the answer is delivered). */
  questionLog(match: (line: Record<string, any>) => boolean, what?: string): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export async function startSlackHarness(
  kind: StoreKind,
  opts: {
    store?: TestStore;
    now?: () => Date;
    commands?: Command[];
    env?: Record<string, string>;
    /** Set up the fake before Houston starts (e.g. its Socket Mode URL). */
    prepare?: (slack: FakeSlack) => void;
  } = {},
): Promise<SlackHarness> {
  // The fake first: Houston checks its token with auth.test as it starts.
  const slack = await FakeSlack.start();
  opts.prepare?.(slack);
  const app = await startTestApp(
    kind,
    {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      ...opts.env,
    },
    {
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.commands ? { commands: opts.commands } : {}),
    },
  );
  const eventsUrl = `${app.url}/slack/events`;

  const h: SlackHarness = {
    slack,
    app,
    eventsUrl,
    async command(text, o = {}) {
      const responseUrl = o.responseUrl ?? slack.responseUrl();
      const body = slashCommand({
        text,
        responseUrl,
        ...(o.userId ? { userId: o.userId } : {}),
        ...(o.triggerId ? { triggerId: o.triggerId } : {}),
      });
      const res = await signedSlackRequest(SIGNING_SECRET, body, { url: eventsUrl });
      return { ...res, responseUrl };
    },
    async ask(text, o = {}) {
      const ack = await h.command(text, o);
      const reply = await slack.waitFor(
        () => slack.responsesTo(ack.responseUrl)[0],
        10_000,
        `the answer to "${text}" at response_url`,
      );
      return { ack, reply };
    },
    async mention(text, o = {}) {
      const ts = messageTs();
      const channel = o.channel ?? "C0DATAOPS";
      const ack = await h.event({
        type: "app_mention",
        user: o.userId ?? "U0ASKER",
        text: `<@${FAKE_BOT.userId}> ${text}`,
        ts,
        channel,
      });
      const post = await slack.waitFor(
        () =>
          slack
            .callsTo("chat.postMessage")
            .find((c) => c.status === 200 && c.params["channel"] === channel && c.params["thread_ts"] === ts),
        10_000,
        `the threaded answer to "${text}"`,
      );
      return { ack, post, ts };
    },
    async dm(text, o = {}) {
      const channel = o.channel ?? `D0${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
      const ack = await h.event({
        type: "message",
        channel_type: "im",
        channel,
        user: o.userId ?? "U0ASKER",
        text,
        ts: messageTs(),
      });
      const post = await slack.waitFor(
        () =>
          slack.callsTo("chat.postMessage").find((c) => c.status === 200 && c.params["channel"] === channel),
        10_000,
        `the DM answer to "${text}"`,
      );
      return { ack, post };
    },
    event(event, o = {}) {
      return signedSlackRequest(SIGNING_SECRET, eventCallback(event, o), { url: eventsUrl });
    },
    questionLogs() {
      return app.logs
        .map((l) => JSON.parse(l) as Record<string, any>)
        .filter(
          (l) => l["msg"] === "question answered" || String(l["msg"]).startsWith("question answered but"),
        );
    },
    questionLog(match, what = "a question's log line") {
      return slack.waitFor(() => h.questionLogs().find(match), 10_000, what);
    },
    async close() {
      await app.close();
      await slack.close();
    },
  };
  return h;
}
