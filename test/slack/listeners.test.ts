// Requests Slack signs but a careless or hostile sender shaped: an interaction without its
// user, a click from another workspace, a mention without text, a DM whose text is not a
// string, a Home tab opened without a user. Through the real Bolt app over HTTP against the
// fake Slack, except the Home tab, whose listener is called directly (over HTTP an event is
// acknowledged before its listener runs, so only the listener shows whether it failed).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { getIncident } from "../../src/monitors/incidents.ts";
import { INCIDENT_ACTIONS } from "../../src/slack/incident-message.ts";
import { appHomeOpened } from "../../src/slack/listeners/events/app-home-opened.ts";
import { UserTimezones } from "../../src/slack/timezones.ts";
import { unreadableSlackBody } from "../../src/slack/request-shape.ts";
import { blockActions, FAKE_TEAM, signedSlackRequest } from "../helpers/fake-slack.ts";
import { testLogger } from "../helpers/log.ts";
import { describeEachStore, openTestStore } from "../helpers/store.ts";
import { SIGNING_SECRET, type SlackHarness, startSlackHarness } from "./harness.ts";

const NOW = new Date("2030-03-10T03:00:00Z");

/** Polls the store until `probe` gives a value: a click is acknowledged before it is recorded. */
async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEachStore("Slack requests shaped carelessly or from elsewhere", (kind) => {
  let h: SlackHarness;
  before(async () => {
    h = await startSlackHarness(kind, { now: () => NOW });
  });
  after(async () => {
    await h?.close();
  });

  async function openIncident(key: string): Promise<number> {
    const [row] = await h.app.store.query<{ id: number }>(
      sql`INSERT INTO incidents (key, kind, subject_type, subject, severity, state, summary, opened_at, last_seen_at)
          VALUES (${key}, 'failure_streak', 'job', 'nightly', 'error', 'triggered', 'nightly failed',
                  ${ts(NOW)}, ${ts(NOW)})
          RETURNING id::int AS id`,
    );
    return row!.id;
  }

  /** A signed Acknowledge click; `edit` reshapes the payload Slack would send. */
  function click(incidentId: number, edit: (payload: Record<string, any>) => void = () => {}) {
    const responseUrl = h.slack.responseUrl();
    const form = blockActions({
      actionId: INCIDENT_ACTIONS.acknowledge,
      value: String(incidentId),
      channelId: "C0ALERTS",
      messageTs: "1763800000.000100",
      responseUrl,
      userId: "U0CLICKER",
    });
    const payload = JSON.parse(form.get("payload")!) as Record<string, any>;
    edit(payload);
    form.set("payload", JSON.stringify(payload));
    return signedSlackRequest(SIGNING_SECRET, form, { url: h.eventsUrl });
  }

  it("answers an interaction without a user with 400, not 500, and changes nothing", async () => {
    const id = await openIncident("shape-1");
    const cases: [(p: Record<string, any>) => void, number][] = [
      // Bolt itself cannot route these: refused.
      [(p) => delete p["user"], 400],
      [
        (p) => {
          delete p["user"];
          p["team"] = null;
        },
        400,
      ],
      [(p) => (p["actions"] = null), 400],
      [(p) => (p["channel"] = null), 400],
      // Bolt routes this one, but there is no clicker to act as: acknowledged and ignored.
      [(p) => (p["user"] = "U0CLICKER"), 200],
    ];
    for (const [edit, status] of cases) {
      const res = await click(id, edit);
      assert.equal(res.status, status, String(edit));
    }
    assert.equal((await getIncident(h.app.store, { id }))?.state, "triggered");
    // The same click, well formed, still works.
    assert.equal((await click(id)).status, 200);
    await until(async () => {
      const r = await getIncident(h.app.store, { id });
      return r?.state === "acknowledged" ? r : undefined;
    }, "the acknowledgement");
  });

  it("ignores a button click from another Slack workspace", async () => {
    const id = await openIncident("team-1");
    for (const edit of [
      (p: Record<string, any>) => (p["team"] = { id: "T0ELSEWHERE", domain: "elsewhere" }),
      (p: Record<string, any>) => {
        p["team"] = null;
        p["user"]["team_id"] = "T0ELSEWHERE";
      },
    ]) {
      assert.equal((await click(id, edit)).status, 200);
    }
    // Each foreign click was answered only after authorize had refused it (a click Houston
    // takes is acknowledged by its listener), so the incident is still untouched; a click
    // from the installed workspace is then acknowledged by its clicker.
    assert.equal((await getIncident(h.app.store, { id }))?.state, "triggered");
    await click(id, (p) => (p["user"]["id"] = "U0HOME"));
    const rec = await until(async () => {
      const r = await getIncident(h.app.store, { id });
      return r?.state === "acknowledged" ? r : undefined;
    }, "the acknowledgement");
    assert.equal(rec.acknowledgedBy, "U0HOME");
  });

  it("answers a mention without text and a DM whose text is not a string, as an empty question", async () => {
    const mentionTs = "1763800000.000200";
    await h.event({ type: "app_mention", user: "U0ASKER", ts: mentionTs, channel: "C0DATAOPS" });
    const mention = await h.slack.waitFor(
      () => h.slack.callsTo("chat.postMessage").find((c) => c.params["thread_ts"] === mentionTs),
      10_000,
      "the answer to a mention without text",
    );
    await h.event({
      type: "message",
      channel_type: "im",
      channel: "D0NUMBER",
      user: "U0ASKER",
      text: 42,
      ts: "1763800000.000300",
    });
    const dm = await h.slack.waitFor(
      () => h.slack.callsTo("chat.postMessage").find((c) => c.params["channel"] === "D0NUMBER"),
      10_000,
      "the answer to a DM whose text is a number",
    );
    // Both get what a bare "@Houston" gets.
    const bare = await h.mention("");
    assert.equal(mention.params["text"], bare.post.params["text"]);
    assert.equal(dm.params["text"], bare.post.params["text"]);
  });
});

describeEachStore("the Home tab listener", (kind) => {
  it("does nothing for a Home tab opened without a user, instead of failing", async () => {
    const store = await openTestStore(kind);
    try {
      const calls: string[] = [];
      const client = {
        users: { info: async () => (calls.push("users.info"), { ok: true, user: {} }) },
        views: { publish: async () => (calls.push("views.publish"), { ok: true }) },
      };
      const { log } = testLogger("error");
      const listener = appHomeOpened({
        store,
        now: () => NOW,
        timezones: new UserTimezones({ fallback: "UTC", log }),
        log,
      });
      for (const user of [undefined, "", 42]) {
        await listener({
          event: { type: "app_home_opened", tab: "home", channel: "D0HOME", event_ts: "1.0", user },
          body: { event_id: "Ev1", team_id: FAKE_TEAM.id },
          client,
        } as unknown as Parameters<typeof listener>[0]);
      }
      assert.deepEqual(calls, []);
      // The same listener publishes for a real user: the calls above were refused, not lost.
      await listener({
        event: { type: "app_home_opened", tab: "home", channel: "D0HOME", event_ts: "1.0", user: "U0HOME" },
        body: { event_id: "Ev2", team_id: FAKE_TEAM.id },
        client,
      } as unknown as Parameters<typeof listener>[0]);
      assert.deepEqual(calls, ["users.info", "views.publish"]);
    } finally {
      await store.dispose();
    }
  });
});

it("tells which signed Slack bodies Bolt cannot read", () => {
  const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const click = { type: "block_actions", user: { id: "U1" }, actions: [{ action_id: "a" }] };
  assert.equal(unreadableSlackBody(form(click)), undefined);
  assert.equal(unreadableSlackBody("command=%2Fhouston&text=status&user_id=U1"), undefined);
  assert.equal(
    unreadableSlackBody(JSON.stringify({ type: "event_callback", event: { type: "x" } })),
    undefined,
  );
  assert.match(unreadableSlackBody(form({ ...click, user: undefined }))!, /user\.id/);
  assert.match(unreadableSlackBody(JSON.stringify({ type: "event_callback", event: "x" }))!, /event/);
  assert.match(unreadableSlackBody("payload=%7Bnot-json")!, /not JSON/);
  assert.match(unreadableSlackBody(form({ type: "view_submission", user: { id: "U1" } }))!, /view/);
});
