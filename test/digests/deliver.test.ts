// Digest delivery against the fake Slack Web API with the real reports over the demo fleet:
// the message and its chart (files.uploadV2's three calls), what is recorded before and after,
// retries (429 with Retry-After, a failed chart upload), a channel the bot was removed from,
// and Slack refusing a message for good.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { digestRequest, digestSlackClient, reportLoader } from "../../src/digests/deliver.ts";
import { DigestScheduler } from "../../src/digests/scheduler.ts";
import {
  createSubscription,
  endSubscriptions,
  listSubscriptions,
  parseSubscription,
} from "../../src/digests/subscriptions.ts";
import { DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";
import { testLogger } from "../helpers/log.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const TOKEN = "xoxb-digest-test-token";
/** 09:00 UTC on Sunday 22 Nov: the daily 09:00 UTC slot, reporting Saturday 21 Nov. */
const SLOT = DEMO_NOW;
const CREATED = new Date("2026-11-22T08:00:00Z");
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Row {
  state: string;
  attempts: number;
  error: string | null;
  slack_ts: string | null;
  file_id: string | null;
  duration_ms: number | null;
  started_at: string | Date | null;
  finished_at: string | Date | null;
  next_attempt_at: string | Date | null;
  reported_date: string;
}

describe("the request a slot builds its digest from", () => {
  it("layers anomaly settings: file defaults, then the subscription's; per-job settings passed along", () => {
    const req = digestRequest(
      {
        store: {} as TestStore,
        anomalyDefaults: { trainingDays: 21, sensitivity: 3 },
        jobAnomalies: { nightly_orders: { sensitivity: 4 } },
      },
      { cadence: "weekly", timezone: "Europe/Berlin", environment: "prod", settings: { sensitivity: 2.5 } },
      "2026-11-22",
    );
    assert.deepEqual(
      { ...req, store: undefined },
      {
        store: undefined,
        date: "2026-11-22",
        days: 7,
        timezone: "Europe/Berlin",
        environment: "prod",
        anomalies: { trainingDays: 21, sensitivity: 2.5 },
        jobAnomalies: { nightly_orders: { sensitivity: 4 } },
        chart: true,
      },
    );
  });
});

describeEachStore("digest delivery to Slack", (kind) => {
  let store: TestStore;
  let slack: FakeSlack;
  let logs: string[];
  let now: Date;
  let scheduler: DigestScheduler;
  let channelSeq = 0;

  before(async () => {
    store = await openDemoStore(kind);
    slack = await FakeSlack.start();
  });
  after(async () => {
    await slack?.close();
    await store?.dispose();
  });
  beforeEach(() => {
    slack.reset();
    logs = [];
    now = SLOT;
    scheduler = new DigestScheduler({
      store,
      log: testLogger("info", { onLine: (line) => logs.push(line) }).log,
      now: () => now,
      replicaId: "test-replica",
      reports: reportLoader(),
      client: digestSlackClient(TOKEN, slack.apiUrl),
      random: () => 0.5,
    });
  });

  /** A fresh channel per test, subscribed before the slot. */
  const subscribe = async (text = "sla daily 09:00 UTC", channel = `C0DIGEST${++channelSeq}`) => {
    const { subscription } = await createSubscription(store, parseSubscription(text, "UTC"), {
      channel,
      source: "slack",
      now: CREATED,
    });
    return subscription;
  };
  const rowOf = async (subscriptionId: number): Promise<Row[]> =>
    store.query<Row>(
      sql`SELECT state, attempts, error, slack_ts, file_id, duration_ms, started_at, finished_at, next_attempt_at,
            reported_date::text AS reported_date
          FROM digest_deliveries WHERE subscription_id = ${subscriptionId} ORDER BY slot_at`,
    );

  it("posts the digest, then uploads its chart into the message's thread in three calls", async () => {
    const sub = await subscribe();
    const tick = await scheduler.tick(SLOT);
    assert.equal(tick.claimed, 1);
    assert.equal(tick.deliveries[0]?.state, "delivered", JSON.stringify(tick.deliveries[0]));

    const posts = slack.callsTo("chat.postMessage");
    assert.equal(posts.length, 1);
    const post = posts[0]!;
    assert.equal(post.token, TOKEN);
    assert.equal(post.params["channel"], sub.channel);
    assert.match(
      post.params["text"],
      /SLA digest — Sat 21 Nov 2026 \(UTC\)/,
      "rendered for the slot's reported day",
    );
    assert.ok(Array.isArray(post.params["blocks"]) && post.params["blocks"].length > 1);
    assert.ok(post.params["blocks"].length <= 50);

    // files.uploadV2: get an upload URL, POST the bytes there, complete into the thread.
    const order = slack.calls.map((c) => c.method);
    assert.deepEqual(order, [
      "chat.postMessage",
      "files.getUploadURLExternal",
      "files.completeUploadExternal",
    ]);
    const getUrl = slack.callsTo("files.getUploadURLExternal")[0]!;
    assert.match(getUrl.params["filename"], /\.png$/);
    assert.equal(slack.uploads.length, 1);
    const upload = slack.uploads[0]!;
    const png = upload.body.includes(PNG_MAGIC)
      ? upload.body.subarray(upload.body.indexOf(PNG_MAGIC))
      : undefined;
    assert.ok(png, "the upload carries a PNG");
    assert.equal(Number(getUrl.params["length"]) > 1000, true);
    const complete = slack.callsTo("files.completeUploadExternal")[0]!;
    assert.equal(complete.params["channel_id"], sub.channel);
    assert.equal(complete.params["thread_ts"], tick.deliveries[0]!.ts, "the chart is a reply to the digest");
    assert.equal(complete.params["files"][0].id, upload.fileId);
    assert.ok(upload.at > getUrl.at && complete.at > upload.at, "URL, then bytes, then complete");

    const [row] = await rowOf(sub.id);
    assert.equal(row!.state, "delivered");
    assert.equal(row!.attempts, 1);
    assert.equal(row!.reported_date, "2026-11-21");
    assert.equal(row!.slack_ts, tick.deliveries[0]!.ts);
    assert.equal(row!.file_id, upload.fileId);
    assert.ok(row!.duration_ms !== null && row!.duration_ms >= 0);
    assert.equal(new Date(row!.started_at!).toISOString(), SLOT.toISOString());
    assert.equal(new Date(row!.finished_at!).toISOString(), SLOT.toISOString());
    assert.ok(logs.some((l) => /"msg":"digest delivered"/.test(l)));

    // The next minute finds nothing new to send.
    now = new Date(SLOT.getTime() + 60_000);
    const next = await scheduler.tick(now);
    assert.equal(next.claimed, 0);
    assert.equal(slack.callsTo("chat.postMessage").length, 1);
  });

  it("retries a rate-limited post after Retry-After, rendering the same day", async () => {
    const sub = await subscribe("resources daily 09:00 UTC");
    slack.rateLimit("chat.postMessage", { times: 1, retryAfter: 120 });
    let tick = await scheduler.tick(SLOT);
    assert.equal(tick.deliveries[0]?.state, "claimed");
    let [row] = await rowOf(sub.id);
    assert.equal(row!.state, "claimed");
    assert.equal(row!.attempts, 1);
    assert.equal(row!.error, "ratelimited");
    // Retry-After (120 s) is longer than the first backoff step (30 s): it wins.
    assert.equal(
      new Date(row!.next_attempt_at!).toISOString(),
      new Date(SLOT.getTime() + 120_000).toISOString(),
    );

    now = new Date(SLOT.getTime() + 60_000);
    tick = await scheduler.tick(now);
    assert.equal(tick.deliveries.length, 0, "not before Retry-After has passed");

    // Hours later (the retry is late): still the digest of Saturday 21 Nov.
    now = new Date(SLOT.getTime() + 3 * 3_600_000);
    tick = await scheduler.tick(now);
    assert.equal(tick.deliveries[0]?.state, "delivered");
    [row] = await rowOf(sub.id);
    assert.equal(row!.attempts, 2);
    assert.equal(row!.error, null);
    const posts = slack.callsTo("chat.postMessage");
    assert.deepEqual(
      posts.map((p) => p.status),
      [429, 200],
    );
    assert.match(posts[1]!.params["text"], /Resource usage digest — Sat 21 Nov 2026/);
  });

  it("re-uploads only the chart when the upload failed after the message went out", async () => {
    const sub = await subscribe("anomalies daily 09:00 UTC");
    let failures = 1;
    slack.override("files.getUploadURLExternal", () =>
      failures-- > 0 ? { body: { ok: false, error: "internal_error" } } : undefined,
    );
    let tick = await scheduler.tick(SLOT);
    assert.equal(tick.deliveries[0]?.state, "claimed");
    let [row] = await rowOf(sub.id);
    assert.ok(row!.slack_ts, "the message ts is recorded as soon as the message exists");
    assert.equal(row!.file_id, null);

    now = new Date(SLOT.getTime() + 10 * 60_000);
    tick = await scheduler.tick(now);
    assert.equal(tick.deliveries[0]?.state, "delivered");
    [row] = await rowOf(sub.id);
    assert.equal(slack.callsTo("chat.postMessage").length, 1, "the digest was posted once");
    assert.equal(slack.callsTo("files.completeUploadExternal").length, 1);
    assert.equal(slack.callsTo("files.completeUploadExternal")[0]!.params["thread_ts"], row!.slack_ts);
    assert.ok(row!.file_id);
  });

  it("marks a channel the bot was removed from, stops its digests and never retries", async () => {
    const sla = await subscribe("sla daily 09:00 UTC", "C0REMOVED");
    const weekly = await subscribe("resources weekly mon 09:00 UTC", "C0REMOVED");
    slack.fail("chat.postMessage", "not_in_channel");
    const tick = await scheduler.tick(SLOT);
    assert.equal(tick.deliveries[0]?.state, "channel_gone");
    const [row] = await rowOf(sla.id);
    assert.equal(row!.state, "channel_gone");
    assert.match(row!.error!, /^not_in_channel: invite @Houston/);
    const subs = await listSubscriptions(store, { channel: "C0REMOVED" });
    assert.deepEqual(
      subs
        .sort((a, b) => a.id - b.id)
        .map((s) => [s.id, Boolean(s.channelGoneAt), s.channelGoneError?.split(":")[0]]),
      [
        [sla.id, true, "not_in_channel"],
        [weekly.id, true, "not_in_channel"],
      ],
      "every digest of the channel is stopped",
    );
    const line = logs.map((l) => JSON.parse(l) as Record<string, any>).find((l) => l["level"] === 50);
    assert.match(line!["msg"], /can no longer post in C0REMOVED \(not_in_channel/);
    assert.deepEqual(line!["subscriptionsStopped"], [sla.id, weekly.id]);

    // A day (and the weekly Monday slot) later: nothing is claimed or sent for that channel.
    slack.reset();
    for (const at of ["2026-11-22T12:00:00Z", "2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z"]) {
      now = new Date(at);
      const t = await scheduler.tick(now);
      assert.equal(t.deliveries.filter((d) => d.channel === "C0REMOVED").length, 0);
    }
    assert.equal(
      slack.callsTo("chat.postMessage").filter((c) => c.params["channel"] === "C0REMOVED").length,
      0,
    );
    assert.equal((await rowOf(sla.id)).length, 1);
    assert.equal((await rowOf(weekly.id)).length, 0);
  });

  it("drops a retry when the channel unsubscribed in the meantime", async () => {
    const sub = await subscribe("sla daily 09:00 UTC", "C0CHANGED");
    slack.rateLimit("chat.postMessage", { times: 1, retryAfter: 60 });
    await scheduler.tick(SLOT);
    await endSubscriptions(store, { channel: "C0CHANGED" }, new Date(SLOT.getTime() + 30_000));
    now = new Date(SLOT.getTime() + 5 * 60_000);
    const tick = await scheduler.tick(now);
    assert.equal(tick.deliveries[0]?.state, "skipped");
    const [row] = await rowOf(sub.id);
    assert.equal(row!.state, "skipped");
    assert.equal(row!.error, "unsubscribed before it could be delivered");
    assert.deepEqual(
      slack.callsTo("chat.postMessage").map((c) => c.status),
      [429],
      "nothing posted after unsubscribing",
    );
  });

  it("takes over a delivery whose process died mid-send once its lease has expired", async () => {
    const sub = await subscribe("resources daily 09:00 UTC");
    // What a replica that crashed after taking the row leaves behind: 'sending', lease until 09:10.
    await store.query(
      sql`INSERT INTO digest_deliveries (subscription_id, slot_at, report, channel, reported_date, state, attempts,
            next_attempt_at, claimed_by, started_at)
          VALUES (${sub.id}, ${SLOT.toISOString()}::timestamptz, 'resources', ${sub.channel}, '2026-11-21', 'sending', 1,
            '2026-11-22T09:10:00Z', 'crashed-replica', ${SLOT.toISOString()}::timestamptz)`,
    );
    now = new Date(SLOT.getTime() + 5 * 60_000);
    assert.equal((await scheduler.tick(now)).deliveries.length, 0, "not while the lease holds");
    now = new Date(SLOT.getTime() + 11 * 60_000);
    const tick = await scheduler.tick(now);
    assert.equal(tick.deliveries[0]?.state, "delivered");
    const [row] = await rowOf(sub.id);
    assert.equal(row!.attempts, 2);
    assert.equal(slack.callsTo("chat.postMessage").length, 1);
  });

  it("records a message Slack refuses for good as failed, without retrying", async () => {
    const sub = await subscribe();
    slack.fail("chat.postMessage", "invalid_blocks");
    await scheduler.tick(SLOT);
    const [row] = await rowOf(sub.id);
    assert.equal(row!.state, "failed");
    assert.equal(row!.error, "invalid_blocks");
    assert.equal(row!.next_attempt_at, null);
    now = new Date(SLOT.getTime() + 3_600_000);
    await scheduler.tick(now);
    assert.equal(slack.callsTo("chat.postMessage").length, 1);
  });
});
