// @-mentions and DMs through the real Bolt app (Events API, HTTP mode), the asker's time
// zone from users.info, and Slack's rate limits — against a demo-seeded store.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { FAKE_BOT, messageTs } from "../helpers/fake-slack.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";
import { type SlackHarness, startSlackHarness } from "./harness.ts";

const GL = "did finance_close.gl_summary run yesterday";

/** HH:mm of an instant in a zone, computed with Intl (not with Houston's own formatting). */
function hhmm(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(d);
}

describeEachStore("Slack mentions, DMs and time zones", (kind) => {
  let store: TestStore;
  let h: SlackHarness;
  /** When gl_summary started on the demo's "yesterday" (2026-11-21), read straight from the store. */
  let glStart: Date;

  before(async () => {
    store = await openDemoStore(kind);
    // HOUSTON_TIMEZONE differs from every asker's zone, so a fallback is visible in the answer.
    h = await startSlackHarness(kind, {
      store,
      now: () => DEMO_NOW,
      env: { HOUSTON_TIMEZONE: "Europe/Berlin" },
    });
    h.slack.setUser("U0ASKER", { tz: "UTC" });
    h.slack.setUser("U0UTC", { tz: "UTC" });
    h.slack.setUser("U0KIWI", { tz: "Pacific/Auckland" });
    h.slack.setUser("U0RATE", { tz: "UTC" });
    const rows = await store.query<{ started_at: string }>(
      sql`SELECT r.started_at::text AS started_at FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE j.name = 'finance_close.gl_summary'
            AND r.run_at >= '2026-11-21T00:00:00Z' AND r.run_at < '2026-11-22T00:00:00Z'`,
    );
    assert.equal(rows.length, 1, "the demo has one gl_summary run on 2026-11-21");
    glStart = new Date(rows[0]!.started_at);
  });
  after(async () => {
    await h?.close();
    await store?.dispose();
  });

  it("answers an @-mention in the thread of the message, without the mention in the question", async () => {
    const { ack, post, ts } = await h.mention("did finance_close.gl_summary run yesterday?");
    assert.equal(ack.status, 200);
    assert.equal(post.params["channel"], "C0DATAOPS");
    assert.equal(post.params["thread_ts"], ts);
    assert.match(
      post.params["text"],
      /^Understood: Runs of job `finance_close\.gl_summary`, yesterday \(Sat 21 Nov\) \(UTC\)\nYes — `finance_close\.gl_summary` ran 1 time yesterday/,
    );
    assert.ok(Array.isArray(post.params["blocks"]) && post.params["blocks"].length > 0);
    const line = await h.questionLog((l) => l["source"] === "mention");
    assert.equal(line["question"], "did finance_close.gl_summary run yesterday?");
    assert.equal(line["family"], "did-it-run");
    assert.match(line["correlationId"], /^Ev/);
  });

  it("answers a direct message in the DM channel", async () => {
    const { ack, post } = await h.dm("is train_churn_model running now?", { channel: "D0KIWIDM" });
    assert.equal(ack.status, 200);
    assert.equal(post.params["channel"], "D0KIWIDM");
    assert.equal(post.params["thread_ts"], undefined);
    assert.match(post.params["text"], /`ml_features\.train_churn_model` is not running now/);
  });

  it("reads a short DM after a question as a follow-up that changes one slot of it", async () => {
    const channel = "D0FOLLOWUP";
    const first = await h.dm("did gl summary run yesterday?", { channel });
    assert.match(
      first.post.params["text"],
      /^Understood: Runs of job `finance_close\.gl_summary`, yesterday \(Sat 21 Nov\) \(UTC\)\nYes — `finance_close\.gl_summary` ran 1 time yesterday/,
    );
    const ack = await h.event({
      type: "message",
      channel_type: "im",
      channel,
      user: "U0ASKER",
      text: "and in staging?",
      ts: messageTs(),
    });
    assert.equal(ack.status, 200);
    const second = await h.slack.waitFor(
      () =>
        h.slack
          .callsTo("chat.postMessage")
          .filter((c) => c.status === 200 && c.params["channel"] === channel)[1],
      10_000,
      "the answer to the follow-up",
    );
    assert.match(
      second.params["text"],
      /`finance_close\.gl_summary` did not run yesterday \(Sat 21 Nov\) in staging/,
    );
    // Another DM is another conversation: there the same words are no follow-up.
    const other = await h.dm("and in staging?", { channel: "D0OTHERDM" });
    assert.doesNotMatch(other.post.params["text"], /gl_summary/);
  });

  it("ignores edits, bot messages, its own messages and channel messages, so it never talks to itself", async () => {
    h.slack.reset();
    const ignored = [
      {
        type: "message",
        channel_type: "im",
        channel: "D0IGNORE1",
        user: "U0ASKER",
        text: "status",
        ts: messageTs(),
        subtype: "message_changed",
      },
      {
        type: "message",
        channel_type: "im",
        channel: "D0IGNORE2",
        bot_id: "B0OTHER",
        text: "status",
        ts: messageTs(),
        subtype: "bot_message",
      },
      {
        type: "message",
        channel_type: "im",
        channel: "D0IGNORE3",
        user: FAKE_BOT.userId,
        bot_id: FAKE_BOT.botId,
        text: "status",
        ts: messageTs(),
      },
      {
        type: "message",
        channel_type: "channel",
        channel: "C0IGNORE4",
        user: "U0ASKER",
        text: "status",
        ts: messageTs(),
      },
      {
        type: "app_mention",
        channel: "C0IGNORE5",
        bot_id: "B0OTHER",
        text: `<@${FAKE_BOT.userId}> status`,
        ts: messageTs(),
      },
    ];
    for (const e of ignored) assert.equal((await h.event(e)).status, 200);
    // A real DM after them: once it is answered, the ignored ones (all sent before) had their chance.
    await h.dm("status", { channel: "D0REAL" });
    const channels = h.slack.callsTo("chat.postMessage").map((c) => c.params["channel"]);
    assert.deepEqual(channels, ["D0REAL"]);
  });

  it("answers an event once when Slack retries it", async () => {
    h.slack.reset();
    const event = {
      type: "message",
      channel_type: "im",
      channel: "D0RETRY",
      user: "U0ASKER",
      text: "status",
      ts: messageTs(),
    };
    await h.event(event, { eventId: "Ev0RETRY01" });
    await h.slack.waitFor(() => h.slack.callsTo("chat.postMessage")[0], 10_000, "the first answer");
    assert.equal((await h.event(event, { eventId: "Ev0RETRY01" })).status, 200);
    await h.dm("status", { channel: "D0AFTER" });
    const toRetry = h.slack.callsTo("chat.postMessage").filter((c) => c.params["channel"] === "D0RETRY");
    assert.equal(toRetry.length, 1);
  });

  it("shows times in the asker's Slack time zone and looks each asker up once", async () => {
    h.slack.reset();
    const utc = await h.ask(GL, { userId: "U0UTC" });
    const kiwi = await h.ask(GL, { userId: "U0KIWI" });
    const kiwiAgain = await h.ask("did gl_summary run yesterday?", { userId: "U0KIWI" });
    const utcTime = hhmm(glStart, "UTC");
    const kiwiTime = hhmm(glStart, "Pacific/Auckland");
    assert.notEqual(utcTime, kiwiTime);
    assert.match(utc.reply.body.text, new RegExp(`success at yesterday ${utcTime}`));
    assert.match(kiwi.reply.body.text, new RegExp(`success at yesterday ${kiwiTime}`));
    assert.match(kiwiAgain.reply.body.text, new RegExp(`yesterday ${kiwiTime}`));
    assert.doesNotMatch(kiwi.reply.body.text, new RegExp(`at yesterday ${utcTime}`));
    const lookups = h.slack.callsTo("users.info").filter((c) => c.params["user"] === "U0KIWI");
    assert.equal(lookups.length, 1, "users.info once for two questions (cached)");
  });

  it("falls back to HOUSTON_TIMEZONE when users.info fails, and says why in the log", async () => {
    h.slack.override("users.info", (p) =>
      p["user"] === "U0NOSCOPE"
        ? { body: { ok: false, error: "missing_scope", needed: "users:read" } }
        : undefined,
    );
    const { reply } = await h.ask(GL, { userId: "U0NOSCOPE" });
    assert.match(reply.body.text, new RegExp(`success at yesterday ${hhmm(glStart, "Europe/Berlin")}`));
    const warning = h.app.logs
      .map((l) => JSON.parse(l) as Record<string, any>)
      .find((l) => l["userId"] === "U0NOSCOPE" && l["code"] === "missing_scope");
    assert.ok(warning, "users.info failure logged");
    assert.match(warning["hint"], /users:read/);
    const line = await h.questionLog((l) => l["userId"] === "U0NOSCOPE");
    assert.equal(line["timezoneSource"], "fallback");
  });

  it("honours Retry-After when Slack rate-limits users.info and chat.postMessage, and still answers", async () => {
    h.slack.reset();
    h.slack.rateLimit("users.info", { times: 1, retryAfter: 1 });
    h.slack.rateLimit("chat.postMessage", { times: 1, retryAfter: 1 });
    const { post } = await h.mention("did finance_close.gl_summary run yesterday?", { userId: "U0RATE" });
    assert.match(post.params["text"], /finance_close\.gl_summary/);
    const lookups = h.slack.callsTo("users.info");
    assert.deepEqual(
      lookups.map((c) => c.status),
      [429, 200],
    );
    const posts = h.slack.callsTo("chat.postMessage");
    assert.deepEqual(
      posts.map((c) => c.status),
      [429, 200],
    );
    const lookupGap = lookups[1]!.at - lookups[0]!.at;
    const postGap = posts[1]!.at - posts[0]!.at;
    assert.ok(
      lookupGap >= 950,
      `users.info retried ${Math.round(lookupGap)} ms after the 429 (Retry-After: 1)`,
    );
    assert.ok(
      postGap >= 950,
      `chat.postMessage retried ${Math.round(postGap)} ms after the 429 (Retry-After: 1)`,
    );
  });
});
