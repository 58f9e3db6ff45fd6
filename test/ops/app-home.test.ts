// The App Home tab end to end: a signed app_home_opened Events API envelope to the real
// Bolt app, over HTTP, against the fake Slack; the views.publish it makes is checked
// against the demo fleet (cross-checked with /houston status) and Block Kit's limits.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { HOME_MAX_BLOCKS, type HomeData, renderHome } from "../../src/slack/home.ts";
import { askDemo, DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { SlackCall } from "../helpers/fake-slack.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";
import { type SlackHarness, startSlackHarness } from "../slack/harness.ts";

const USER = "U0HOMEUSER";
const OTHER = "U0SOMEONE";

/** Every text in a view, joined: what a person reads. */
function textOf(blocks: any[]): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "text" && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(blocks);
  return out.join("\n");
}

function assertWithinLimits(blocks: any[]): void {
  assert.ok(blocks.length <= HOME_MAX_BLOCKS, `${blocks.length} blocks`);
  for (const b of blocks) {
    if (b.text?.text) assert.ok(b.text.text.length <= 3_000, "section text ≤ 3,000");
    if (b.fields) assert.ok(b.fields.length <= 10, "≤ 10 fields");
  }
}

describeEachStore("the App Home tab", (kind) => {
  let store: TestStore;
  let h: SlackHarness;
  let hasSubscriptions = false;

  before(async () => {
    store = await openDemoStore(kind);
    h = await startSlackHarness(kind, { store, now: () => DEMO_NOW });
    h.slack.setUser(USER, { tz: "Europe/Berlin" });
    h.slack.setUser(OTHER, { tz: "America/Los_Angeles" });
    const incident = (key: string, state: string, summary: string, openedMinAgo: number) =>
      store.query(
        sql`INSERT INTO incidents (key, kind, subject_type, subject, severity, state, summary, opened_at, last_seen_at)
            VALUES (${key}, 'failure_streak', 'job', 'gl_summary', 'error', ${state}, ${summary},
                    ${ts(new Date(DEMO_NOW.getTime() - openedMinAgo * 60_000))}, ${ts(DEMO_NOW)})`,
      );
    await incident("home-1", "triggered", "gl_summary failed 3 times in a row", 30);
    await incident("home-2", "acknowledged", "fct_orders is stale", 90);
    await incident("home-3", "resolved", "an old resolved one", 300);
    const [t] = await store.query<{ present: boolean }>(
      sql`SELECT to_regclass('subscriptions') IS NOT NULL AS present`,
    );
    hasSubscriptions = t?.present === true;
    if (hasSubscriptions) {
      const sub = (channel: string, report: string, by: string, ended: boolean) =>
        store.query(
          sql`INSERT INTO subscriptions (channel, report, cadence, weekday, local_time, timezone, environment, source, created_by, ended_at)
              VALUES (${channel}, ${report}, 'daily', -1, '09:00', 'Europe/Berlin', 'prod', 'slack', ${by},
                      ${ended ? ts(DEMO_NOW) : null})`,
        );
      await sub("C0FINANCE", "sla", USER, false);
      await sub("C0OTHER", "anomalies", OTHER, false);
      await sub("C0ENDED", "resources", USER, true);
    }
  });
  after(async () => {
    await h.close();
    await store.dispose();
  });

  const open = async (user: string, tab = "home"): Promise<SlackCall | undefined> => {
    const before = h.slack.callsTo("views.publish").length;
    const ack = await h.event({ type: "app_home_opened", user, channel: "D0HOME", tab, event_ts: "1.0" });
    assert.equal(ack.status, 200);
    if (tab !== "home") {
      // Give a wrong publish time to appear before saying it didn't.
      await new Promise((r) => setTimeout(r, 300));
      return h.slack.callsTo("views.publish")[before];
    }
    return h.slack.waitFor(
      () =>
        h.slack
          .callsTo("views.publish")
          .slice(before)
          .find((c) => c.params["user_id"] === user),
      10_000,
      "views.publish",
    );
  };

  it("publishes the fleet at a glance for whoever opened it, in their time zone", async () => {
    const call = (await open(USER))!;
    assert.equal(call.status, 200);
    const view =
      typeof call.params["view"] === "string" ? JSON.parse(call.params["view"]) : call.params["view"];
    assert.equal(view.type, "home");
    assertWithinLimits(view.blocks);
    const text = textOf(view.blocks);

    // The same fleet /houston status describes.
    const status = await askDemo(await loadCommands(), store, "status");
    const m = /(\d+) failing, (\d+) late, (\d+) stale/.exec(status.head);
    assert.ok(m, status.head);
    const [, failing, late, stale] = m;
    assert.match(text, new RegExp(`\\*Failing now\\*\\n${failing}\\b`));
    assert.match(text, new RegExp(`\\*Late\\*\\n${late}\\b`));
    assert.match(text, new RegExp(`\\*Stale datasets\\*\\n${stale}\\b`));
    assert.ok(Number(failing) + Number(late) + Number(stale) > 0, "the demo plants trouble");
    // Each failing job /houston status names is on the Home tab too (up to the list limit).
    const firstFailing = /`([a-z0-9_.]+)`/.exec(status.out.split("Failing")[1] ?? "")?.[1];
    if (firstFailing) assert.ok(text.includes(`\`${firstFailing}\``), `${firstFailing} listed`);

    assert.match(text, /\*Open incidents\*\n2\b/);
    assert.match(text, /:red_circle: \*triggered\* · error — gl_summary failed 3 times in a row/);
    assert.match(text, /:large_yellow_circle: \*acknowledged\* · error — fct_orders is stale/);
    assert.ok(!text.includes("an old resolved one"));

    // 09:00 UTC is 10:00 in Berlin: the day began at 00:00 Berlin time.
    assert.match(text, /As of 10:00 \(Europe\/Berlin\)/);
    const sla =
      /\*Today's SLA so far\* \(since 00:00 Europe\/Berlin\)\n(\d+) expected · (\d+) ran · (\d+) missed · (\d+) not due yet/.exec(
        text,
      );
    assert.ok(sla, text);
    const [expected, ran, missed, notDue] = sla.slice(1).map(Number) as [number, number, number, number];
    assert.ok(expected > 0);
    assert.equal(expected, ran + missed + notDue);

    if (hasSubscriptions) {
      assert.match(text, /`sla` daily at 09:00 Europe\/Berlin in <#C0FINANCE> \(env `prod`\)/);
      assert.ok(!text.includes("C0OTHER"), "someone else's subscription is not shown");
      assert.ok(!text.includes("C0ENDED"), "an ended subscription is not shown");
    } else assert.match(text, /Digest subscriptions are not set up/);

    const line = await h.slack.waitFor(
      () =>
        h.app.logs
          .map((l) => JSON.parse(l) as Record<string, any>)
          .find((l) => l["msg"] === "home tab published" && l["userId"] === USER),
      5_000,
      "the home log line",
    );
    assert.equal(line["incidents"], 2);
    assert.equal(typeof line["correlationId"], "string");
  });

  it("counts today from the opener's own midnight", async () => {
    const call = (await open(OTHER))!;
    const view =
      typeof call.params["view"] === "string" ? JSON.parse(call.params["view"]) : call.params["view"];
    const text = textOf(view.blocks);
    // 09:00 UTC is 01:00 in Los Angeles: one hour of today so far.
    assert.match(text, /As of 01:00 \(America\/Los_Angeles\)/);
    assert.match(text, /since 00:00 America\/Los_Angeles/);
    if (hasSubscriptions) {
      assert.match(text, /`anomalies` daily at 09:00/);
      assert.ok(!text.includes("C0FINANCE"));
    }
  });

  it("publishes nothing when the Messages tab is opened", async () => {
    assert.equal(await open(USER, "messages"), undefined);
  });
});

describe("rendering the Home tab", () => {
  it("stays within Slack's limits for a fleet in trouble everywhere", () => {
    const now = new Date("2026-11-22T09:00:00Z");
    const many = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));
    const data: HomeData = {
      now,
      timezone: "UTC",
      failing: many(10, (i) => ({
        name: `job_${i}_${"x".repeat(200)}`,
        runAt: now,
        error: "e".repeat(5_000),
      })),
      failingTotal: 4_000,
      late: many(10, (i) => ({ name: `late_${i}`, firstSlotAt: now, slots: 3 })),
      lateTotal: 900,
      stale: many(10, (i) => ({ name: `ds_${i}`, updatedAt: null, maxAgeSeconds: 3_600 })),
      staleTotal: 700,
      incidents: {
        byState: { triggered: 300, acknowledged: 20 },
        list: many(10, () => ({
          state: "triggered",
          severity: "critical",
          summary: "s".repeat(2_000),
          openedAt: now,
          silenced: false,
        })),
      },
      sla: { since: new Date("2026-11-22T00:00:00Z"), expected: 10, ran: 7, missed: 2, notDueYet: 1 },
      subscriptions: many(20, () => ({
        channel: "C0X",
        report: "sla",
        cadence: "weekly",
        weekday: 1,
        localTime: "08:30",
        timezone: "UTC",
        environment: "",
        group: "finance",
      })),
    };
    const view = renderHome(data);
    assertWithinLimits(view.blocks);
    const text = textOf(view.blocks);
    // Long names and errors: fewer lines fit, and the count of the rest says so.
    const shown = (text.match(/^• `job_/gm) ?? []).length;
    assert.ok(shown >= 5 && shown <= 10, `${shown} failing jobs shown`);
    assert.match(text, new RegExp(`…and ${4_000 - shown} more`));
    assert.match(text, /\*Late\* \(900\)[^*]*…and 890 more/);
    assert.match(text, /\*Open incidents\* \(320\)/);
    assert.match(text, /78%\* of the runs due so far arrived/);
    assert.match(text, /weekly on Mondays at 08:30 UTC in <#C0X> \(group `finance`\)/);
  });
});
