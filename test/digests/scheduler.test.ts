// The digest scheduler inside the real app (createApp with Slack pointed at the fake): slots
// claimed once across replicas, catch-up after downtime within HOUSTON_DIGEST_CATCHUP, older
// slots skipped with a log line. Real reports over the demo fleet.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { openStore } from "../../src/db/client.ts";
import { createSubscription, parseSubscription } from "../../src/digests/subscriptions.ts";
import { startTestApp, type TestApp } from "../helpers/app.ts";
import { openDemoStore } from "../helpers/demo.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";
import { asTestStore, describeEachStore, TEST_DATABASE_URL, type TestStore } from "../helpers/store.ts";

const SIGNING_SECRET = "digest-scheduler-signing-secret";
const slackEnv = (slack: FakeSlack, extra: Record<string, string> = {}) => ({
  SLACK_BOT_TOKEN: "xoxb-digest-scheduler",
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_API_URL: slack.apiUrl,
  ...extra,
});

const posts = (slack: FakeSlack, channel: string) =>
  slack.callsTo("chat.postMessage").filter((c) => c.params["channel"] === channel && c.status === 200);

describeEachStore("digest catch-up after downtime", (kind) => {
  let store: TestStore;
  let slack: FakeSlack;
  before(async () => {
    store = await openDemoStore(kind);
    slack = await FakeSlack.start();
  });
  after(async () => {
    await slack?.close();
    await store?.dispose();
  });

  it("sends a slot missed within 6 h once, and skips older ones with a log line", async () => {
    // Subscribed on Thursday; the last digest went out Friday 20 Nov 09:00; then Houston was down.
    const { subscription: sub } = await createSubscription(
      store,
      parseSubscription("sla daily 09:00 UTC", "UTC"),
      {
        channel: "C0CATCHUP",
        source: "slack",
        now: new Date("2026-11-19T12:00:00Z"),
      },
    );
    await store.query(
      sql`INSERT INTO digest_deliveries (subscription_id, slot_at, report, channel, reported_date, state, claimed_by, attempts)
          VALUES (${sub.id}, '2026-11-20T09:00:00Z', 'sla', 'C0CATCHUP', '2026-11-19', 'delivered', 'before', 1)`,
    );
    // Houston starts again at 13:00 on Sunday: Saturday's slot is 28 h old, Sunday's 4 h.
    let now = new Date("2026-11-22T13:00:00Z");
    const a = await startTestApp(kind, slackEnv(slack), { store, now: () => now });
    try {
      const tick = await a.app.digests.tick(now);
      assert.equal(tick.claimed, 1);
      assert.equal(tick.skipped, 1);
      const rows = await store.query<{
        slot_at: string | Date;
        state: string;
        reported_date: string;
        error: string | null;
      }>(
        sql`SELECT slot_at, state, reported_date::text AS reported_date, error FROM digest_deliveries
            WHERE subscription_id = ${sub.id} ORDER BY slot_at`,
      );
      assert.deepEqual(
        rows.map((r) => [new Date(r.slot_at).toISOString(), r.state, r.reported_date]),
        [
          ["2026-11-20T09:00:00.000Z", "delivered", "2026-11-19"],
          ["2026-11-21T09:00:00.000Z", "skipped", "2026-11-20"],
          ["2026-11-22T09:00:00.000Z", "delivered", "2026-11-21"],
        ],
      );
      assert.match(
        rows[1]!.error!,
        /missed by 1d4h \(Houston was not running\); HOUSTON_DIGEST_CATCHUP is 6h/,
      );
      const sent = posts(slack, "C0CATCHUP");
      assert.equal(sent.length, 1);
      assert.match(
        sent[0]!.params["text"],
        /SLA digest — Sat 21 Nov 2026/,
        "the late digest still covers its own day",
      );
      const skipLine = a.logs
        .map((l) => JSON.parse(l) as Record<string, any>)
        .find((l) => /^digest skipped/.test(l["msg"]));
      assert.ok(skipLine, "the skipped slot is logged");
      assert.equal(skipLine["slot"], "2026-11-21T09:00:00.000Z");
      assert.equal(skipLine["channel"], "C0CATCHUP");
      assert.equal(skipLine["level"], 40);
    } finally {
      await a.close();
    }
    // Another restart a few minutes later neither re-sends nor logs the skip again.
    now = new Date("2026-11-22T13:05:00Z");
    const b = await startTestApp(kind, slackEnv(slack), { store, now: () => now });
    try {
      const tick = await b.app.digests.tick(now);
      assert.deepEqual([tick.claimed, tick.skipped, tick.deliveries.length], [0, 0, 0]);
      assert.equal(posts(slack, "C0CATCHUP").length, 1);
      assert.ok(!b.logs.some((l) => l.includes("digest skipped")));
    } finally {
      await b.close();
    }
  });

  it("honours HOUSTON_DIGEST_CATCHUP: a 4 h old slot is skipped with a 2 h window", async () => {
    const { subscription: sub } = await createSubscription(
      store,
      parseSubscription("resources daily 09:00 UTC", "UTC"),
      {
        channel: "C0SHORT",
        source: "slack",
        now: new Date("2026-11-22T08:00:00Z"),
      },
    );
    const now = new Date("2026-11-22T13:00:00Z");
    const a = await startTestApp(kind, slackEnv(slack, { HOUSTON_DIGEST_CATCHUP: "2h" }), {
      store,
      now: () => now,
    });
    try {
      const tick = await a.app.digests.tick(now);
      assert.deepEqual([tick.claimed, tick.skipped], [0, 1]);
      assert.equal(posts(slack, "C0SHORT").length, 0);
      const [row] = await store.query<{ state: string; error: string }>(
        sql`SELECT state, error FROM digest_deliveries WHERE subscription_id = ${sub.id}`,
      );
      assert.equal(row!.state, "skipped");
      assert.match(row!.error, /missed by 4h .*HOUSTON_DIGEST_CATCHUP is 2h/);
    } finally {
      await a.close();
    }
  });

  it("does not send a slot that fell due before the subscription existed", async () => {
    const { subscription: sub } = await createSubscription(
      store,
      parseSubscription("anomalies daily 09:00 UTC", "UTC"),
      {
        channel: "C0LATECOMER",
        source: "slack",
        now: new Date("2026-11-22T09:00:30Z"),
      },
    );
    const now = new Date("2026-11-22T09:01:00Z");
    const a = await startTestApp(kind, slackEnv(slack), { store, now: () => now });
    try {
      const tick = await a.app.digests.tick(now);
      assert.deepEqual([tick.claimed, tick.skipped], [0, 0]);
      const rows = await store.query(sql`SELECT 1 FROM digest_deliveries WHERE subscription_id = ${sub.id}`);
      assert.equal(rows.length, 0);
    } finally {
      await a.close();
    }
  });
});

describeEachStore("houston.yml subscriptions at start", (kind) => {
  it("subscribes what the file declares (anomaly settings included), sends it, and unsubscribes removed entries", async () => {
    const store = await openDemoStore(kind);
    const slack = await FakeSlack.start();
    const dir = mkdtempSync(path.join(tmpdir(), "houston-digest-yml-"));
    const file = path.join(dir, "houston.yml");
    try {
      writeFileSync(
        file,
        [
          "subscriptions:",
          "  - channel: C0YML",
          "    report: anomalies",
          '    schedule: "daily 09:00"',
          "    timezone: Europe/Berlin",
          "    anomalies: { sensitivity: 2.5 }",
          "  - channel: C0YML",
          "    report: sla",
          '    schedule: "weekly mon 07:00"',
          "",
        ].join("\n"),
      );
      let now = new Date("2026-11-22T07:59:00Z");
      const a = await startTestApp(kind, slackEnv(slack, { HOUSTON_CONFIG: file }), {
        store,
        now: () => now,
      });
      try {
        const rows = await store.query<{
          report: string;
          source: string;
          settings: unknown;
          timezone: string;
        }>(
          sql`SELECT report, source, settings, timezone FROM subscriptions WHERE channel = 'C0YML' AND ended_at IS NULL ORDER BY report`,
        );
        assert.deepEqual(
          rows.map((r) => [
            r.report,
            r.source,
            typeof r.settings === "string" ? JSON.parse(r.settings) : r.settings,
            r.timezone,
          ]),
          [
            ["anomalies", "config", { sensitivity: 2.5 }, "Europe/Berlin"],
            ["sla", "config", {}, "UTC"],
          ],
        );
        now = new Date("2026-11-22T08:00:00Z"); // 09:00 in Berlin
        const tick = await a.app.digests.tick(now);
        assert.equal(tick.deliveries[0]?.state, "delivered");
        assert.match(
          posts(slack, "C0YML")[0]!.params["text"],
          /Anomaly digest — Sat 21 Nov 2026 \(Europe\/Berlin\)/,
        );
      } finally {
        await a.close();
      }
      writeFileSync(
        file,
        ["subscriptions:", "  - { channel: C0YML, report: sla, schedule: weekly mon 07:00 }", ""].join("\n"),
      );
      const b = await startTestApp(kind, slackEnv(slack, { HOUSTON_CONFIG: file }), {
        store,
        now: () => now,
      });
      try {
        const active = await store.query<{ report: string }>(
          sql`SELECT report FROM subscriptions WHERE channel = 'C0YML' AND ended_at IS NULL`,
        );
        assert.deepEqual(active, [{ report: "sla" }]);
        assert.ok(
          b.logs.some((l) => /houston.yml digest subscriptions applied/.test(l) && /"ended":1/.test(l)),
        );
      } finally {
        await b.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await slack.close();
      await store.dispose();
    }
  });
});

describe("digests across replicas", () => {
  it(
    "sends each slot exactly once when three app instances tick the same minutes",
    {
      skip: TEST_DATABASE_URL
        ? false
        : "needs TEST_DATABASE_URL (real PostgreSQL): PGlite is one session, so replicas cannot race on it",
    },
    async () => {
      const base = await openDemoStore("postgres");
      const slack = await FakeSlack.start();
      const apps: TestApp[] = [];
      try {
        const channels = ["C0RACE1", "C0RACE2", "C0RACE3"];
        const specs = ["sla daily 09:00 UTC", "anomalies daily 09:00 UTC", "resources daily 09:00 UTC"];
        for (let i = 0; i < 3; i++)
          await createSubscription(base, parseSubscription(specs[i]!, "UTC"), {
            channel: channels[i]!,
            source: "slack",
            now: new Date("2026-11-21T00:00:00Z"),
          });
        let now = new Date("2026-11-21T09:00:00Z");
        for (let i = 0; i < 3; i++) {
          // Each replica has its own connection pool to the same database, as in production.
          const own = await openStore({ databaseUrl: base.url!, maxConnections: 3 });
          const store = asTestStore(own);
          apps.push(await startTestApp("postgres", slackEnv(slack), { store, now: () => now }));
        }
        for (const at of ["2026-11-21T09:00:00Z", "2026-11-22T09:00:00Z"]) {
          now = new Date(at);
          const ticks = await Promise.all(apps.map((a) => a.app.digests.tick(now)));
          assert.equal(
            ticks.reduce((n, t) => n + t.claimed, 0),
            3,
            `three slots claimed in all at ${at}`,
          );
          assert.equal(
            ticks.reduce((n, t) => n + t.deliveries.length, 0),
            3,
            `three deliveries in all at ${at}`,
          );
        }
        for (const c of channels) assert.equal(posts(slack, c).length, 2, `${c}: one digest per day`);
        assert.equal(slack.callsTo("files.completeUploadExternal").length, 6);
        const rows = await base.query<{ state: string; n: number }>(
          sql`SELECT state, count(*)::int AS n FROM digest_deliveries GROUP BY state`,
        );
        assert.deepEqual(rows, [{ state: "delivered", n: 6 }]);
      } finally {
        for (const a of apps) await a.close();
        await slack.close();
        await base.dispose();
      }
    },
  );
});
