import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import {
  createSubscription,
  describeSchedule,
  endSubscriptions,
  listSubscriptions,
  markChannelGone,
  parseSubscription,
  parseUnsubscribe,
  SubscriptionSyntaxError,
  syncConfigSubscriptions,
} from "../../src/digests/subscriptions.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const NOW = new Date("2026-11-22T09:00:00Z");

function syntaxError(text: string, pattern: RegExp) {
  assert.throws(
    () => parseSubscription(text, "UTC"),
    (err: unknown) => {
      assert.ok(err instanceof SubscriptionSyntaxError, `${text}: ${String(err)}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe("parsing /houston subscribe", () => {
  it("reads a daily subscription with zone, environment and group", () => {
    assert.deepEqual(parseSubscription("sla daily 09:00 Europe/Berlin env prod group finance_close", "UTC"), {
      report: "sla",
      cadence: "daily",
      localTime: "09:00",
      timezone: "Europe/Berlin",
      environment: "prod",
      group: "finance_close",
    });
  });

  it("reads a weekly subscription and fills the default time zone", () => {
    assert.deepEqual(parseSubscription("Anomalies weekly Monday 8:30", "America/New_York"), {
      report: "anomalies",
      cadence: "weekly",
      weekday: 1,
      localTime: "08:30",
      timezone: "America/New_York",
    });
  });

  it("reads anomaly settings for the anomalies digest only", () => {
    const s = parseSubscription(
      "anomalies daily 07:00 UTC sensitivity 2.5 training 28d min-points 10 seasonality",
      "UTC",
    );
    assert.deepEqual(s.settings, { sensitivity: 2.5, trainingDays: 28, minPoints: 10, seasonality: true });
    syntaxError("sla daily 07:00 sensitivity 2", /anomalies setting; the sla digest has none/);
    syntaxError("anomalies daily 07:00 sensitivity lots", /sensitivity needs a number from 1 to 10/);
  });

  it("says what was wrong, with an example", () => {
    syntaxError("", /Which digest\?.*sla, anomalies, resources.*e\.g\. `subscribe sla daily 09:00/s);
    syntaxError("costs daily 09:00", /"costs" is not a digest/);
    syntaxError("sla hourly 09:00", /"hourly" is not a cadence: say daily or weekly/);
    syntaxError("sla weekly 09:00", /weekly needs a weekday \(sun, mon.*not "09:00"/);
    syntaxError("sla daily 9am", /"9am" is not a time of day: give a 24-hour local time like 09:00/);
    syntaxError("sla daily 25:00", /"25:00" is not a time of day/);
    syntaxError("sla daily", /At what time\?/);
    syntaxError("sla daily 09:00 Mars/Olympus", /"Mars\/Olympus" is not an IANA time zone/);
    syntaxError("sla daily 09:00 env", /env needs an environment name/);
    syntaxError("sla daily 09:00 please", /I don't know what "please" means here/);
  });

  it("describes a schedule back", () => {
    assert.equal(
      describeSchedule(parseSubscription("sla weekly fri 17:00 Europe/Berlin", "UTC")),
      "weekly Fri 17:00 Europe/Berlin",
    );
  });

  it("parses unsubscribe filters", () => {
    assert.deepEqual(parseUnsubscribe("sla", "UTC"), { report: "sla" });
    assert.deepEqual(parseUnsubscribe("all", "UTC"), {});
    assert.deepEqual(parseUnsubscribe("sla env prod", "UTC"), { report: "sla", environment: "prod" });
    assert.deepEqual(parseUnsubscribe("sla weekly mon 09:00", "UTC"), {
      report: "sla",
      cadence: "weekly",
      weekday: 1,
      localTime: "09:00",
    });
    assert.throws(() => parseUnsubscribe("sla soon", "UTC"), /I don't know what "soon" means/);
    assert.throws(() => parseUnsubscribe("", "UTC"), /Which digest\?/);
  });
});

describeEachStore("subscriptions in the store", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(async () => {
    await store?.dispose();
  });

  it("creates a subscription once; the same again is reported as existing", async () => {
    const spec = parseSubscription("sla daily 09:00 Europe/Berlin env prod", "UTC");
    const a = await createSubscription(store, spec, {
      channel: "C1",
      source: "slack",
      createdBy: "U1",
      now: NOW,
    });
    assert.equal(a.outcome, "created");
    assert.equal(a.subscription.createdBy, "U1");
    const b = await createSubscription(
      store,
      { ...spec, timezone: "Europe/Paris" },
      {
        channel: "C1",
        source: "slack",
        now: NOW,
      },
    );
    assert.equal(b.outcome, "exists");
    assert.equal(b.subscription.id, a.subscription.id);
    assert.equal(b.subscription.timezone, "Europe/Paris", "the time zone is updated in place");
    const other = await createSubscription(
      store,
      { ...spec, environment: "staging" },
      {
        channel: "C1",
        source: "slack",
        now: NOW,
      },
    );
    assert.equal(other.outcome, "created", "another environment is another subscription");
    const listed = await listSubscriptions(store, { channel: "C1" });
    assert.equal(listed.length, 2);
  });

  it("ends subscriptions by report, and lists only active ones", async () => {
    await createSubscription(store, parseSubscription("resources weekly mon 08:00", "UTC"), {
      channel: "C2",
      source: "slack",
      now: NOW,
    });
    await createSubscription(store, parseSubscription("sla daily 08:00", "UTC"), {
      channel: "C2",
      source: "slack",
      now: NOW,
    });
    const ended = await endSubscriptions(store, { channel: "C2", report: "resources" }, NOW);
    assert.deepEqual(
      ended.map((s) => s.report),
      ["resources"],
    );
    assert.deepEqual(
      (await listSubscriptions(store, { channel: "C2" })).map((s) => s.report),
      ["sla"],
    );
    assert.equal((await listSubscriptions(store, { channel: "C2", includeEnded: true })).length, 2);
    assert.deepEqual(await endSubscriptions(store, { channel: "C2", report: "anomalies" }, NOW), []);
  });

  it("marks a channel gone, and a new subscribe revives it as a fresh row", async () => {
    const spec = parseSubscription("anomalies daily 07:00", "UTC");
    const a = await createSubscription(store, spec, { channel: "C3", source: "slack", now: NOW });
    assert.deepEqual(await markChannelGone(store, "C3", "not_in_channel", NOW), [a.subscription.id]);
    const [gone] = await listSubscriptions(store, { channel: "C3" });
    assert.equal(gone!.channelGoneError, "not_in_channel");
    const later = new Date(NOW.getTime() + 3_600_000);
    const b = await createSubscription(store, spec, { channel: "C3", source: "slack", now: later });
    assert.equal(b.outcome, "revived");
    assert.notEqual(b.subscription.id, a.subscription.id);
    assert.equal(b.subscription.channelGoneAt, null);
    assert.equal(b.subscription.createdAt.toISOString(), later.toISOString());
    assert.deepEqual(
      (await listSubscriptions(store, { channel: "C3" })).map((s) => s.id),
      [b.subscription.id],
    );
  });

  it("syncs houston.yml subscriptions: creates, updates, takes over, and ends removed ones", async () => {
    const entry = (text: string, channel: string) => ({ ...parseSubscription(text, "UTC"), channel });
    // A Slack-made one with the same identity as a file entry is taken over by the file.
    await createSubscription(store, parseSubscription("sla daily 06:00", "UTC"), {
      channel: "C9",
      source: "slack",
      now: NOW,
    });
    let r = await syncConfigSubscriptions(
      store,
      [entry("sla daily 06:00 Europe/Berlin", "C9"), entry("resources weekly fri 16:00", "C9")],
      NOW,
    );
    assert.deepEqual(r, { created: 1, updated: 1, ended: 0 });
    let listed = await listSubscriptions(store, { channel: "C9" });
    assert.deepEqual(
      listed.map((s) => [s.report, s.source, s.timezone]),
      [
        ["resources", "config", "UTC"],
        ["sla", "config", "Europe/Berlin"],
      ],
    );
    r = await syncConfigSubscriptions(store, [entry("sla daily 06:00 Europe/Berlin", "C9")], NOW);
    assert.deepEqual(r, { created: 0, updated: 0, ended: 1 });
    listed = await listSubscriptions(store, { channel: "C9" });
    assert.deepEqual(
      listed.map((s) => s.report),
      ["sla"],
    );
    // Slack-made subscriptions elsewhere are untouched by an empty file.
    r = await syncConfigSubscriptions(store, [], NOW);
    assert.equal(r.ended, 1);
    assert.equal((await listSubscriptions(store, { channel: "C1" })).length, 2);
    const rows = await store.query<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM subscriptions WHERE source = 'config' AND ended_at IS NULL`,
    );
    assert.equal(rows[0]!.n, 0);
  });
});
