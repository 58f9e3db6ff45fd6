// Incidents in Slack, end to end: the real app (Bolt in HTTP mode, the outbox worker, the
// monitors) against a fake Slack and a fake PagerDuty over HTTPS whose every request is
// checked against PagerDuty's OpenAPI file. A fixed clock drives the monitors; button
// clicks are signed block_actions requests, exactly as Slack sends them.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, it } from "node:test";
import { sql } from "drizzle-orm";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { testLogger } from "../helpers/log.ts";
import { getIncident, listSilences } from "../../src/monitors/incidents.ts";
import { signatureHeader, WEBHOOK_PATH } from "../../src/pagerduty/webhook.ts";
import { INCIDENT_ACTIONS } from "../../src/slack/incident-message.ts";
import { type FakePagerDuty, startFakePagerDuty } from "../helpers/fake-pagerduty.ts";
import {
  blockActions,
  FakeSlack,
  type SignedResponse,
  type SlackCall,
  signedSlackRequest,
} from "../helpers/fake-slack.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { at, HOUR, MIN, plus, World } from "../monitors/world.ts";

const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const BOT_TOKEN = "xoxb-1111-2222-houstontesttoken";
const ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345";
const WEBHOOK_SECRET = "whsec-incidents-0123456789abcdef";
const CHANNEL = "C0ORDERS";
/** In the future of the wall clock: outbox rows are due at the database's now(). */
const T = at("2030-03-10T00:00:00Z");
const DUE = at("2030-03-10T03:00:00Z");
/** Slack answers within 3 s; Bolt acks before the listener's work. */
const ACK_BUDGET_MS = 3_000;

const HOUSTON_YML = `
jobs:
  - match: "flaky_*"
    failure_streak: 1
`;

interface Rig {
  app: App;
  store: TestStore;
  slack: FakeSlack;
  pd: FakePagerDuty;
  w: World;
  url: string;
  logs: string[];
  /** Waits until every outbox message is delivered (or failed), so the clock may move. */
  idle(timeoutMs?: number): Promise<void>;
  /** Moves the clock, once nothing is in flight (a lease must not expire under a delivery). */
  at(d: Date): Promise<void>;
  /** One monitor evaluation at `d` (the clock moves there first). */
  tick(d: Date): Promise<void>;
  click(
    action: keyof typeof INCIDENT_ACTIONS,
    incidentId: number,
    o?: { userId?: string; messageTs?: string },
  ): Promise<SignedResponse & { responseUrl: string }>;
  posts(): SlackCall[];
  replies(): SlackCall[];
  updates(): SlackCall[];
  close(): Promise<void>;
}

async function startRig(kind: "pglite" | "postgres"): Promise<Rig> {
  const slack = await FakeSlack.start();
  const pd = await startFakePagerDuty();
  const store = await openTestStore(kind);
  const dir = mkdtempSync(join(tmpdir(), "houston-incidents-"));
  writeFileSync(join(dir, "houston.yml"), HOUSTON_YML);
  let now = T;
  const logs: string[] = [];
  const config = loadConfig({
    HOUSTON_INGEST_TOKENS: "test-ingest-token-0123456789",
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_SERVER: pd.server,
    PAGERDUTY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    HOUSTON_ALERT_CHANNEL: "C0ALERTS",
    HOUSTON_CONFIG: join(dir, "houston.yml"),
  });
  const app = await createApp({
    config,
    log: testLogger(process.env["TEST_LOG_LEVEL"] ?? "info", { onLine: (line) => logs.push(line) }).log,
    store,
    now: () => now,
    pagerdutyAgent: pd.agent,
  });
  const port = await app.listen(0);
  const url = `http://127.0.0.1:${port}`;
  // Deliveries are driven by wakes (a monitor pass or a click that enqueued something): the
  // interval is long so a test that sees a message knows a wake delivered it.
  app.outbox.start(3_600_000);
  const rig: Rig = {
    app,
    store,
    slack,
    pd,
    w: new World(store),
    url,
    logs,
    async idle(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const [row] = await store.query<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM outbox WHERE state = 'pending'`,
        );
        if (row!.n === 0) return;
        if (Date.now() > end) throw new Error(`the outbox still holds ${row!.n} pending message(s)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async at(d) {
      await rig.idle();
      now = d;
    },
    async tick(d) {
      await rig.at(d);
      await app.monitor(d);
    },
    async click(action, incidentId, o = {}) {
      const post = await getIncident(store, { id: incidentId });
      const responseUrl = slack.responseUrl();
      const body = blockActions({
        actionId: INCIDENT_ACTIONS[action],
        value: String(incidentId),
        channelId: post?.slackChannel ?? CHANNEL,
        messageTs: o.messageTs ?? post?.slackTs ?? "0.0",
        responseUrl,
        ...(o.userId ? { userId: o.userId } : {}),
      });
      const res = await signedSlackRequest(SIGNING_SECRET, body, { url: `${url}/slack/events` });
      return { ...res, responseUrl };
    },
    posts: () => slack.callsTo("chat.postMessage").filter((c) => c.status === 200 && !c.params["thread_ts"]),
    replies: () => slack.callsTo("chat.postMessage").filter((c) => c.status === 200 && c.params["thread_ts"]),
    updates: () => slack.callsTo("chat.update").filter((c) => c.status === 200),
    async close() {
      if (process.env["DUMP_LOGS"]) for (const l of logs) process.stderr.write(l);
      await app.stop();
      await store.dispose();
      await slack.close();
      await pd.close();
    },
  };
  return rig;
}

/** Daily 02:00 UTC jobs (1 h grace) in group orders, posted to CHANNEL, with two good days behind them. */
async function dailyJobs(r: Rig, names: string[]) {
  for (const name of names) {
    await r.w.history(name, T, "02:00", ["success", "success"]);
    await r.w.schedule(name, "0 2 * * *", T, { graceSeconds: 3600, group: "orders", channel: CHANNEL });
  }
}

const textOf = (blocks: any[]): string => JSON.stringify(blocks);
const buttonsOf = (blocks: any[]): { action_id: string; value: string }[] =>
  blocks.filter((b) => b.type === "actions").flatMap((b) => b.elements);

async function incidentsNow(store: TestStore) {
  return store.query<{ id: number; key: string; state: string; slack_ts: string | null; silenced: boolean }>(
    sql`SELECT id::int AS id, key, state, slack_ts, silenced FROM incidents ORDER BY id`,
  );
}

describeEachStore("incidents in Slack", (kind) => {
  let r: Rig;
  beforeEach(async () => {
    r = await startRig(kind);
  });
  afterEach(async () => {
    await r.close();
    assert.deepEqual(r.pd.violations, [], "every PagerDuty request must satisfy its schema and limits");
  });

  it("posts one message per breach with what broke, the last runs, a question to ask and three buttons, and pages once", async () => {
    await dailyJobs(r, ["nightly"]);
    await r.tick(plus(DUE, -MIN));
    assert.equal(r.posts().length, 0, "nothing before the grace period ends");
    await r.tick(DUE);
    const post = await r.slack.waitFor(() => r.posts()[0], 5_000, "the incident post");
    await r.idle();
    await r.pd.waitForAccepted(1);
    const [inc] = await incidentsNow(r.store);
    assert.equal(post.params["channel"], CHANNEL);
    assert.match(post.params["text"], /nightly did not run/);
    const blocks = post.params["blocks"] as any[];
    const text = textOf(blocks);
    assert.match(text, /Expected/);
    assert.match(text, /a run starting by 2030-03-10 03:00 UTC/);
    assert.match(text, /Last 2 runs/);
    assert.match(text, /\/houston why was nightly late today/);
    assert.deepEqual(
      buttonsOf(blocks).map((b) => [b.action_id, b.value]),
      [
        [INCIDENT_ACTIONS.acknowledge, String(inc!.id)],
        [INCIDENT_ACTIONS.resolve, String(inc!.id)],
        [INCIDENT_ACTIONS.silence, String(inc!.id)],
      ],
    );
    assert.equal(post.params["metadata"]?.event_type, "houston_incident");
    const ts = r.slack.messages.get(CHANNEL)![0]!.ts;
    assert.equal(inc!.slack_ts, ts, "the message's ts is recorded on the incident");
    assert.deepEqual(
      r.pd.accepted.map((e) => [e.event_action, e.dedup_key]),
      [["trigger", inc!.key]],
    );
    // Re-evaluation in the next minutes posts and pages nothing more.
    await r.tick(plus(DUE, MIN));
    await r.tick(plus(DUE, 2 * MIN));
    await r.idle();
    assert.equal(r.posts().length, 1);
    assert.equal(r.pd.accepted.length, 1);
  });

  it("sends a group of breaches found in one evaluation as one message listing them, within Block Kit's limits", async () => {
    const names = Array.from({ length: 13 }, (_, i) => `orders_${String(i).padStart(2, "0")}`);
    await dailyJobs(r, names);
    await r.tick(DUE);
    const post = await r.slack.waitFor(() => r.posts()[0], 5_000, "the group post");
    await r.pd.waitForAccepted(13);
    await r.idle();
    assert.equal(r.posts().length, 1, "one message, not a flood");
    const blocks = post.params["blocks"] as any[];
    assert.ok(blocks.length <= 50);
    for (const b of blocks) if (b.text) assert.ok(b.text.text.length <= 3000);
    assert.match(textOf(blocks), /13 incidents in group `orders`/);
    assert.match(textOf(blocks), /and 3 more/);
    assert.equal(buttonsOf(blocks).filter((b) => b.action_id === INCIDENT_ACTIONS.acknowledge).length, 10);
    const incs = await incidentsNow(r.store);
    assert.equal(incs.length, 13);
    assert.equal(new Set(incs.map((i) => i.slack_ts)).size, 1, "every incident of the post has its ts");
    assert.ok(incs[0]!.slack_ts);
    assert.equal(
      new Set(r.pd.accepted.map((e) => e.dedup_key)).size,
      13,
      "each incident still pages on its own",
    );
  });

  it("acknowledges and resolves from the buttons: PagerDuty gets the same dedup_key and the same message shows who", async () => {
    await dailyJobs(r, ["nightly"]);
    await r.tick(DUE);
    await r.slack.waitFor(() => r.posts()[0], 5_000, "the incident post");
    await r.idle();
    await r.pd.waitForAccepted(1);
    const [inc] = await incidentsNow(r.store);
    const ts = inc!.slack_ts!;

    await r.at(plus(DUE, 42 * MIN));
    const ack = await r.click("acknowledge", inc!.id, { userId: "U0ANA" });
    assert.equal(ack.status, 200);
    assert.ok(ack.ms < ACK_BUDGET_MS, `acked in ${ack.ms.toFixed(0)} ms`);
    const update = await r.slack.waitFor(() => r.updates()[0], 5_000, "the acknowledged message");
    assert.equal(update.params["channel"], CHANNEL);
    assert.equal(update.params["ts"], ts, "the same message, updated");
    assert.match(textOf(update.params["blocks"]), /Acknowledged\* by <@U0ANA> at 2030-03-10 03:42 UTC/);
    assert.deepEqual(
      buttonsOf(update.params["blocks"]).map((b) => b.action_id),
      [INCIDENT_ACTIONS.resolve, INCIDENT_ACTIONS.silence],
      "no Acknowledge once acknowledged",
    );
    await r.pd.waitForAccepted(2);
    assert.deepEqual(r.pd.accepted[1], {
      routing_key: ROUTING_KEY,
      event_action: "acknowledge",
      dedup_key: inc!.key,
    });

    await r.at(plus(DUE, 50 * MIN));
    await r.click("resolve", inc!.id, { userId: "U0BEN" });
    const resolved = await r.slack.waitFor(() => r.updates()[1], 5_000, "the resolved message");
    assert.equal(resolved.params["ts"], ts);
    assert.match(textOf(resolved.params["blocks"]), /Resolved\* by <@U0BEN> at 2030-03-10 03:50 UTC/);
    assert.deepEqual(buttonsOf(resolved.params["blocks"]), [], "no buttons once resolved");
    await r.pd.waitForAccepted(3);
    assert.deepEqual(
      r.pd.accepted.map((e) => [e.event_action, e.dedup_key]),
      [
        ["trigger", inc!.key],
        ["acknowledge", inc!.key],
        ["resolve", inc!.key],
      ],
    );
    const rec = await getIncident(r.store, { id: inc!.id });
    assert.equal(rec!.acknowledgedBy, "U0ANA");
    assert.equal(rec!.resolvedBy, "U0BEN");

    // A late click on the resolved incident gets a note only the clicker sees.
    const late = await r.click("acknowledge", inc!.id, { userId: "U0CAT" });
    assert.equal(late.status, 200);
    const note = await r.slack.waitFor(() => r.slack.responsesTo(late.responseUrl)[0], 5_000, "the note");
    assert.equal(note.body.response_type, "ephemeral");
    assert.match(note.body.text, /already resolved by <@U0BEN>/);
    await r.idle();
    assert.equal(r.pd.accepted.length, 3, "nothing more paged");
    assert.equal(r.updates().length, 2);
    assert.equal(r.posts().length, 1);
  });

  it("Silence 1h records a silence; later breaches of that job are neither posted nor paged", async () => {
    await r.w.history("flaky_orders", T, "02:00", ["success", "success"]);
    await r.w.schedule("flaky_orders", "0 2 * * *", T, { graceSeconds: 3600, channel: CHANNEL });
    await r.tick(DUE);
    await r.slack.waitFor(() => r.posts()[0], 5_000, "the incident post");
    await r.idle();
    await r.pd.waitForAccepted(1);
    const [first] = await incidentsNow(r.store);

    await r.at(plus(DUE, MIN));
    const click = await r.click("silence", first!.id, { userId: "U0ANA" });
    const note = await r.slack.waitFor(() => r.slack.responsesTo(click.responseUrl)[0], 5_000, "the note");
    assert.match(note.body.text, /Silenced job `flaky_orders` until 2030-03-10 04:01 UTC/);
    const [s] = await listSilences(r.store, plus(DUE, 2 * MIN));
    assert.equal(s!.subject, "dbt/flaky_orders");
    assert.equal(s!.createdBy, "U0ANA");
    const update = await r.slack.waitFor(() => r.updates()[0], 5_000, "the silenced message");
    assert.match(textOf(update.params["blocks"]), /silenced/);
    assert.ok(!buttonsOf(update.params["blocks"]).some((b) => b.action_id === INCIDENT_ACTIONS.silence));

    // The run starts late and fails: the missed run resolves and a failure (which pages for
    // flaky_* jobs) opens, under the silence.
    await r.w.run("flaky_orders", "late", {
      start: plus(DUE, 20 * MIN),
      end: plus(DUE, 30 * MIN),
      status: "failed",
      error: "disk full",
    });
    await r.tick(plus(DUE, 31 * MIN));
    await r.idle();
    const incs = await incidentsNow(r.store);
    assert.equal(incs.length, 2);
    const failure = incs[1]!;
    assert.match(failure.key, /^failure_streak:/);
    assert.equal(failure.silenced, true);
    assert.equal(failure.slack_ts, null, "not posted");
    assert.equal(r.posts().length, 1);
    assert.deepEqual(
      r.pd.accepted.map((e) => e.event_action),
      ["trigger", "resolve"],
      "the first incident resolves in PagerDuty; the silenced failure is never paged",
    );
    assert.ok(!r.pd.accepted.some((e) => e.dedup_key === failure.key));
  });

  it("reminds in the thread while unacknowledged, and not after acknowledgement", async () => {
    await dailyJobs(r, ["nightly"]);
    await r.tick(DUE);
    await r.slack.waitFor(() => r.posts()[0], 5_000, "the incident post");
    await r.idle();
    const [inc] = await incidentsNow(r.store);
    await r.tick(plus(DUE, 59 * MIN));
    await r.idle();
    assert.equal(r.replies().length, 0, "not before the interval");
    await r.tick(plus(DUE, HOUR));
    const reminder = await r.slack.waitFor(() => r.replies()[0], 5_000, "the reminder");
    assert.equal(reminder.params["channel"], CHANNEL);
    assert.equal(reminder.params["thread_ts"], inc!.slack_ts);
    assert.match(reminder.params["text"], /Still unacknowledged after 1h: nightly did not run/);

    await r.at(plus(DUE, HOUR + 5 * MIN));
    await r.click("acknowledge", inc!.id, { userId: "U0ANA" });
    await r.slack.waitFor(
      () => r.updates().find((u) => /Acknowledged/.test(textOf(u.params["blocks"]))),
      5_000,
      "the acknowledged message",
    );
    await r.tick(plus(DUE, 2 * HOUR));
    await r.tick(plus(DUE, 3 * HOUR));
    await r.idle();
    assert.equal(r.replies().length, 1, "no reminder after the acknowledgement");
  });

  it("updates the message when the breach clears by itself, and resolves the page", async () => {
    await dailyJobs(r, ["nightly"]);
    await r.tick(DUE);
    await r.slack.waitFor(() => r.posts()[0], 5_000, "the incident post");
    await r.idle();
    await r.pd.waitForAccepted(1);
    const [inc] = await incidentsNow(r.store);
    await r.w.run("nightly", "late", { start: plus(DUE, 10 * MIN) });
    await r.tick(plus(DUE, 11 * MIN));
    const late = await r.slack.waitFor(() => r.updates()[0], 5_000, "the late-start update");
    assert.match(textOf(late.params["blocks"]), /started 1h10m late/);
    await r.w.run("nightly", "late", { start: plus(DUE, 10 * MIN), end: plus(DUE, 40 * MIN) });
    await r.tick(plus(DUE, 41 * MIN));
    const done = await r.slack.waitFor(() => r.updates()[1], 5_000, "the resolved message");
    assert.equal(done.params["ts"], inc!.slack_ts);
    assert.match(textOf(done.params["blocks"]), /Resolved\* automatically at 2030-03-10 03:41 UTC/);
    assert.deepEqual(buttonsOf(done.params["blocks"]), []);
    await r.pd.waitForAccepted(2);
    assert.deepEqual(
      r.pd.accepted.map((e) => [e.event_action, e.dedup_key]),
      [
        ["trigger", inc!.key],
        ["resolve", inc!.key],
      ],
    );
    assert.equal(r.posts().length, 1);
  });

  it("shows an acknowledgement made in PagerDuty (signed webhook) on the Slack message, without echoing it back", async () => {
    await dailyJobs(r, ["nightly"]);
    await r.tick(DUE);
    await r.slack.waitFor(() => r.posts()[0], 5_000, "the incident post");
    await r.idle();
    await r.pd.waitForAccepted(1);
    const [inc] = await incidentsNow(r.store);
    const body = JSON.stringify({
      event: {
        id: "01EVTINCIDENTACK",
        event_type: "incident.acknowledged",
        resource_type: "incident",
        occurred_at: "2030-03-10T03:15:00.000Z",
        agent: { id: "PLH1HKV", summary: "Ada Lovelace", type: "user_reference" },
        data: { id: "PGR0VU2", type: "incident", status: "acknowledged", incident_key: inc!.key },
      },
    });
    const res = await fetch(r.url + WEBHOOK_PATH, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-webhook-id": "wh-ack-1",
        "x-pagerduty-signature": signatureHeader(body, [WEBHOOK_SECRET]),
      },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    const update = await r.slack.waitFor(() => r.updates()[0], 5_000, "the acknowledged message");
    assert.equal(update.params["ts"], inc!.slack_ts);
    assert.match(textOf(update.params["blocks"]), /Acknowledged\* by Ada Lovelace at 2030-03-10 03:15 UTC/);
    await r.idle();
    assert.equal(r.pd.accepted.length, 1, "no acknowledge sent back to PagerDuty");
  });
});
