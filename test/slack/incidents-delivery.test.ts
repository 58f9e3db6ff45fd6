// The Slack incident handler on its own (real Web API client → fake Slack, real store): what
// each Slack answer means for the outbox, a crash between posting and recording the ts, and
// the rendered message staying inside Block Kit's limits.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import type { Store } from "../../src/db/client.ts";
import { ts } from "../../src/db/sql.ts";
import { HOUSTON, type IncidentRecord } from "../../src/monitors/incidents.ts";
import { runMonitors } from "../../src/monitors/runner.ts";
import { type Handler, type HandlerContext, OutboxWorker } from "../../src/outbox/worker.ts";
import { parseQuestion } from "../../src/questions/parse.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { bestCommand } from "../../src/questions/router.ts";
import { createSlackIncidentHandler, incidentWebClient } from "../../src/slack/incident-delivery.ts";
import {
  GROUP_LIST_MAX,
  INCIDENT_ACTIONS,
  nextQuestion,
  renderIncidentMessage,
  renderReminder,
} from "../../src/slack/incident-message.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { configOf, HOUR, plus, World } from "../monitors/world.ts";
import { type Clock, fakeClock, type LogSink, logSink, outboxRows } from "../outbox/helpers.ts";

const BOT_TOKEN = "xoxb-1111-2222-houstontesttoken";
const CHANNEL = "C0ORDERS";
const T = new Date("2030-01-01T00:00:00Z");
const DUE = new Date("2030-01-01T03:00:00Z");

function incident(id: number, over: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    id,
    key: `missed_run:job:dbt/job_${id}:2030-01-01T02:00:00.000Z`,
    kind: "missed_run",
    subjectType: "job",
    subject: `job_${id}`,
    jobId: id,
    datasetId: null,
    groupName: "orders",
    severity: "error",
    state: "triggered",
    summary: `job_${id} did not run: expected at 2030-01-01 02:00 UTC`,
    details: { expected: "a run by 03:00", actual: "no run 1h after the slot", notify: { post: 1 } },
    openedAt: DUE,
    lastSeenAt: DUE,
    acknowledgedAt: null,
    acknowledgedBy: null,
    resolvedAt: null,
    resolvedBy: null,
    silenced: false,
    slackChannel: CHANNEL,
    slackTs: null,
    routingKey: null,
    nextReminderAt: null,
    ...over,
  };
}

describe("rendering incident messages", () => {
  const opts = { timezone: "UTC", now: plus(DUE, HOUR) };

  it("keeps a group of 60 incidents within 50 blocks and 3,000 characters a section, counting the rest", () => {
    const views = Array.from({ length: 60 }, (_, i) => ({
      incident: incident(i + 1, { summary: `${"x".repeat(4000)} ${i}` }),
      runs: [],
    }));
    const m = renderIncidentMessage(views, opts);
    assert.ok(m.blocks.length <= 50, `${m.blocks.length} blocks`);
    for (const b of m.blocks as any[]) {
      if (b.text) assert.ok(b.text.text.length <= 3000);
      if (b.elements && b.type === "context") for (const e of b.elements) assert.ok(e.text.length <= 3000);
    }
    assert.match(JSON.stringify(m.blocks), new RegExp(`and ${60 - GROUP_LIST_MAX} more`));
    assert.ok(m.text.length <= 3900);
  });

  it("adjusts the buttons to the state: all three, then no Acknowledge, then none", () => {
    const ids = (i: IncidentRecord) =>
      (renderIncidentMessage([{ incident: i, runs: [] }], opts).blocks as any[])
        .filter((b) => b.type === "actions")
        .flatMap((b) => b.elements.map((e: any) => e.action_id));
    assert.deepEqual(ids(incident(1)), Object.values(INCIDENT_ACTIONS));
    assert.deepEqual(ids(incident(1, { state: "acknowledged", acknowledgedBy: "U1", acknowledgedAt: DUE })), [
      INCIDENT_ACTIONS.resolve,
      INCIDENT_ACTIONS.silence,
    ]);
    assert.deepEqual(ids(incident(1, { state: "resolved", resolvedBy: HOUSTON, resolvedAt: DUE })), []);
    assert.deepEqual(ids(incident(1, { silenced: true })), [
      INCIDENT_ACTIONS.acknowledge,
      INCIDENT_ACTIONS.resolve,
    ]);
  });

  it("escapes job names and errors in the fallback text as in the blocks: no <!channel>, no disguised link", () => {
    const hostile = (id: number) =>
      incident(id, {
        subject: `<!channel> job_${id}`,
        groupName: "<!here>",
        summary: `<!channel> failed: see <https://evil.example/login|the runbook> & retry`,
      });
    const one = [{ incident: hostile(1), runs: [] }];
    const two = [...one, { incident: hostile(2), runs: [] }];
    const texts = [
      renderIncidentMessage(one, opts).text,
      renderIncidentMessage(two, opts).text,
      renderReminder(one, opts).text,
      renderReminder(two, opts).text,
    ];
    for (const text of texts) {
      // Slack reads `<…>` as a mention, a special command or a link; escaped, it is shown as typed.
      assert.doesNotMatch(text, /[<>]/, text);
      assert.match(text, /&lt;!(channel|here)&gt;/, text);
    }
    assert.equal(
      texts[0],
      "[triggered] &lt;!channel&gt; failed: see &lt;https://evil.example/login|the runbook&gt; &amp; retry",
    );
  });

  it("suggests a next question that a question family understands, for every breach kind", async () => {
    const commands = await loadCommands();
    const expected: Record<string, string> = {
      missed_run: "root-cause",
      late_start: "root-cause",
      long_run: "root-cause",
      failed_run: "root-cause",
      failure_streak: "root-cause",
      flapping: "troublesome",
      stale_dataset: "freshness",
      late_arrival: "arrivals",
      failing_test: "quality",
    };
    for (const [kind, family] of Object.entries(expected)) {
      const dataset = kind === "stale_dataset" || kind === "late_arrival" || kind === "failing_test";
      const i = incident(1, {
        kind,
        subject: dataset ? "analytics.fct_orders" : "gl_summary",
        subjectType: dataset ? "dataset" : "job",
        details: { supplier: "shipfast_logistics", dataset: "analytics.fct_orders" },
        openedAt: plus(DUE, -24 * HOUR),
      });
      const q = nextQuestion(i, DUE, "UTC");
      assert.equal(bestCommand(commands, parseQuestion(q, DUE, "UTC"))?.id, family, `${kind}: "${q}"`);
    }
    assert.equal(
      nextQuestion(incident(1, { openedAt: plus(DUE, -24 * HOUR) }), DUE, "UTC"),
      "why was job_1 late yesterday",
    );
  });
});

describeEachStore("delivering incident messages to Slack", (kind) => {
  let store: TestStore;
  let slack: FakeSlack;
  let clock: Clock;
  let sink: LogSink;
  let handler: Handler;
  const workers: OutboxWorker[] = [];

  before(async () => {
    slack = await FakeSlack.start();
  });
  after(async () => {
    await slack.close();
  });
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());
  beforeEach(async () => {
    await store.reset();
    slack.reset();
    clock = fakeClock("2030-01-01T03:00:00.000Z");
    sink = logSink();
    handler = createSlackIncidentHandler({
      client: incidentWebClient({ botToken: BOT_TOKEN, signingSecret: "s", apiUrl: slack.apiUrl }, sink.log),
      store,
      timezone: "UTC",
      now: clock.now,
    });
    const w = new World(store);
    await w.history("nightly", T, "02:00", ["success", "success"]);
    await w.schedule("nightly", "0 2 * * *", T, { graceSeconds: 3600, channel: CHANNEL });
    // Enqueues the post (and a page, which these tests leave alone).
    await runMonitors(store, DUE, configOf(), { replicaId: "test" });
    // Dated by the test clock, not the database's: retries are given up 24 h after this.
    await store.query(sql`UPDATE outbox SET created_at = ${ts(DUE)}, next_attempt_at = ${ts(DUE)}`);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop(1_000);
  });

  const worker = (h: Handler, s: Store = store) => {
    const w = new OutboxWorker({
      store: s,
      handlers: { slack: h },
      log: sink.log,
      now: clock.now,
      replicaId: `slack-${workers.length}`,
      random: () => 0.5,
    });
    workers.push(w);
    return w;
  };
  const ctx = (attempt = 1): HandlerContext => ({
    id: 1,
    target: "slack",
    orderingKey: "incident:1",
    attempt,
    signal: new AbortController().signal,
    log: sink.log,
  });
  const post = { kind: "incident", action: "post", incidentIds: [1] };

  it("posts once even when the process dies between Slack's answer and recording the ts", async () => {
    let killed = false;
    // The store the first attempt sees: it dies on the write after the post went out.
    const dying = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== "query") return Reflect.get(target, prop, receiver);
        return (...args: Parameters<Store["query"]>) => {
          if (!killed && slack.callsTo("chat.postMessage").length === 1) {
            killed = true;
            return Promise.reject(new Error("the process died"));
          }
          return target.query(...args);
        };
      },
    }) as Store;
    const first = createSlackIncidentHandler({
      client: incidentWebClient({ botToken: BOT_TOKEN, signingSecret: "s", apiUrl: slack.apiUrl }, sink.log),
      store: dying,
      timezone: "UTC",
      now: clock.now,
    });
    const a = worker(first);
    const report = await a.drainOnce();
    assert.equal(report.retried, 1, JSON.stringify(report));
    assert.ok(killed);
    const [lost] = await store.query<{ slack_ts: string | null }>(
      sql`SELECT slack_ts FROM incidents WHERE id = 1`,
    );
    assert.equal(lost!.slack_ts, null, "the ts was never recorded");
    // A restarted replica retries once the backoff has passed.
    clock.advance(60_000);
    assert.equal((await worker(handler).drainOnce()).delivered, 1);
    assert.equal(slack.callsTo("chat.postMessage").length, 1, "no second post");
    assert.equal(slack.callsTo("chat.update").length, 1, "the first post is updated instead");
    const sent = slack.messages.get(CHANNEL)!;
    assert.equal(sent.length, 1);
    const [row] = await store.query<{ slack_ts: string; slack_channel: string }>(
      sql`SELECT slack_ts, slack_channel FROM incidents WHERE id = 1`,
    );
    assert.deepEqual([row!.slack_channel, row!.slack_ts], [CHANNEL, sent[0]!.ts]);
    const rows = (await outboxRows(store)).filter((r) => r.target === "slack");
    assert.deepEqual(
      rows.map((r) => [r.state, r.attempts]),
      [["delivered", 2]],
    );
  });

  it("updates instead of posting when the incident already has a message", async () => {
    assert.equal((await handler(post, ctx())).ok, true);
    const again = await handler(post, ctx(2));
    assert.equal(again.ok, true);
    assert.equal(slack.callsTo("chat.postMessage").length, 1);
    assert.equal(slack.callsTo("chat.update").length, 1);
  });

  it("retries a rate-limited post after Slack's Retry-After, flagged as a rate limit", async () => {
    slack.rateLimit("chat.postMessage", { retryAfter: 7 });
    const r = await handler(post, ctx());
    assert.deepEqual(
      {
        ok: r.ok,
        retry: !r.ok && r.retry,
        rateLimited: !r.ok && r.rateLimited,
        after: !r.ok && r.retryAfterMs,
      },
      { ok: false, retry: true, rateLimited: true, after: 7_000 },
    );
    assert.equal((await handler(post, ctx(2))).ok, true, "the next try goes through");
  });

  for (const code of ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks"]) {
    it(`fails for good, saying why, when Slack answers ${code}`, async () => {
      slack.fail("chat.postMessage", code);
      const r = await handler(post, ctx());
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.retry, false, JSON.stringify(r));
      assert.match(!r.ok ? r.error : "", new RegExp(`posting the incident to ${CHANNEL}: ${code}`));
      if (code === "not_in_channel") assert.match(!r.ok ? r.error : "", /invite @Houston/);
    });
  }

  it("retries a 5xx and an unreachable Slack", async () => {
    slack.override("chat.postMessage", () => ({
      status: 503,
      body: { ok: false, error: "service_unavailable" },
    }));
    const r = await handler(post, ctx());
    assert.equal(!r.ok && r.retry, true, JSON.stringify(r));
    const unreachable = createSlackIncidentHandler({
      client: incidentWebClient(
        { botToken: BOT_TOKEN, signingSecret: "s", apiUrl: "http://127.0.0.1:9/api/" },
        sink.log,
      ),
      store,
      timezone: "UTC",
      now: clock.now,
    });
    const u = await unreachable(post, ctx());
    assert.equal(!u.ok && u.retry, true, JSON.stringify(u));
    assert.match(!u.ok ? u.error : "", /unreachable/);
  });

  it("refuses a payload that is not an incident message, for good", async () => {
    const r = await handler({ kind: "digest" }, ctx());
    assert.equal(!r.ok && r.retry, false);
    assert.match(!r.ok ? r.error : "", /not an incident message: unknown Slack message kind "digest"/);
  });
});
