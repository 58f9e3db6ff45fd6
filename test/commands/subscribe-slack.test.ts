// /houston subscribe, subscriptions and unsubscribe as Slack sends them: signed slash
// commands through the real Bolt app, answers at response_url, and the digest that the
// subscription then brings to the channel.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { type SlackHarness, startSlackHarness } from "../slack/harness.ts";

describeEachStore("/houston subscribe in Slack", (kind) => {
  let store: TestStore;
  let h: SlackHarness;
  let now = new Date("2026-11-22T07:30:00Z"); // 08:30 in Berlin

  before(async () => {
    store = await openTestStore(kind);
    h = await startSlackHarness(kind, { store, now: () => now });
    // The asker's Slack profile says Berlin: "09:00" means 09:00 on their clock.
    h.slack.setUser("U0ASKER", { tz: "Europe/Berlin" });
  });
  after(async () => {
    await h?.close();
    await store?.dispose();
  });

  it("subscribes the channel the command was typed in, in the asker's time zone", async () => {
    const { ack, reply } = await h.ask("subscribe sla daily 09:00 env prod");
    assert.equal(ack.status, 200);
    assert.equal(reply.body.response_type, "ephemeral");
    assert.match(
      reply.body.text,
      /^Subscribed: this channel gets the daily SLA digest at 09:00 Europe\/Berlin \(env prod\)\./,
    );
    assert.match(reply.body.text, /Next: Sun 22 Nov 09:00 CET, covering Sat 21 Nov\./);
    const rows = await store.query<{ channel: string; created_by: string; timezone: string; source: string }>(
      sql`SELECT channel, created_by, timezone, source FROM subscriptions WHERE ended_at IS NULL`,
    );
    assert.deepEqual(rows, [
      { channel: "C0DATAOPS", created_by: "U0ASKER", timezone: "Europe/Berlin", source: "slack" },
    ]);
    const line = await h.questionLog((l) => l["family"] === "subscribe");
    assert.equal(line["channelId"], "C0DATAOPS");
  });

  it("answers a malformed subscribe with what was wrong and an example", async () => {
    const { reply } = await h.ask("subscribe sla daily at nine");
    assert.match(reply.body.text, /"at" is not a time of day: give a 24-hour local time like 09:00/);
    assert.match(reply.body.text, /e\.g\. `subscribe sla daily 09:00 Europe\/Berlin env prod`/);
  });

  it("posts the subscribed digest to that channel when its slot comes", async () => {
    now = new Date("2026-11-22T08:00:00Z"); // 09:00 Berlin
    const tick = await h.app.app.digests.tick(now);
    assert.equal(tick.deliveries[0]?.state, "delivered", JSON.stringify(tick));
    const post = h.slack.callsTo("chat.postMessage").find((c) => c.params["channel"] === "C0DATAOPS");
    assert.ok(post, "the digest went to the channel");
    assert.match(post.params["text"], /SLA digest — Sat 21 Nov 2026 \(Europe\/Berlin\)/);
    // An empty store has nothing to report: one line, and no chart upload.
    assert.equal(h.slack.callsTo("files.getUploadURLExternal").length, 0);
  });

  it("lists the channel's subscriptions with the last outcome, then unsubscribes", async () => {
    let { reply } = await h.ask("subscriptions");
    assert.match(reply.body.text, /^This channel gets 1 digest\./);
    assert.match(
      reply.body.text,
      /SLA daily 09:00 Europe\/Berlin · env prod\nnext Mon 23 Nov 09:00 CET · last sent Sun 22 Nov 09:00 CET \(for Sat 21 Nov\)/,
    );
    ({ reply } = await h.ask("unsubscribe sla"));
    assert.match(
      reply.body.text,
      /Unsubscribed: this channel no longer gets this digest\n• SLA daily 09:00 Europe\/Berlin \(env prod\)/,
    );
    ({ reply } = await h.ask("subscriptions"));
    assert.match(reply.body.text, /^This channel gets no digests\./);
    const active = await store.query(sql`SELECT 1 FROM subscriptions WHERE ended_at IS NULL`);
    assert.equal(active.length, 0);
    // Nothing more is sent after unsubscribing.
    now = new Date("2026-11-23T08:00:00Z");
    const tick = await h.app.app.digests.tick(now);
    assert.deepEqual([tick.claimed, tick.deliveries.length], [0, 0]);
  });
});
