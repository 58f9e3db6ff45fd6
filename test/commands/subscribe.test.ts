// The subscribe / unsubscribe / subscriptions families through the real router, as Slack
// asks them (an asker with a channel) and as the terminal does (no channel).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { markChannelGone } from "../../src/digests/subscriptions.ts";
import { answerBody } from "../helpers/demo.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { AskContext, Command } from "../../src/questions/types.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const NOW = new Date("2026-11-22T09:30:00Z"); // a Sunday

describeEachStore("digest subscription families", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openTestStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  /** channelId null: asked in the terminal, no Slack channel. */
  const askIn = async (text: string, channelId: string | null = "C0DIGEST", timezone = "Europe/Berlin") => {
    const ctx: AskContext = {
      store,
      now: NOW,
      timezone,
      ...(channelId ? { asker: { userId: "U0ANA", channelId } } : {}),
    };
    const r = await ask(commands, ctx, text);
    return { family: r.family, out: answerBody(r.answer) };
  };

  it("subscribes the channel in the asker's time zone and says when the next one comes", async () => {
    const r = await askIn("subscribe sla daily 09:00 env prod");
    assert.equal(r.family, "subscribe");
    assert.match(
      r.out,
      /^Subscribed: this channel gets the daily SLA digest at 09:00 Europe\/Berlin \(env prod\)\./,
    );
    // 09:30 UTC is 10:30 in Berlin: today's 09:00 has passed, so the next is Monday's, about Sunday.
    assert.match(r.out, /Next: Mon 23 Nov 09:00 CET, covering Sun 22 Nov\./);
    assert.match(r.out, /\/invite @Houston/);
    const rows = await store.query<{
      channel: string;
      timezone: string;
      environment: string;
      created_by: string;
    }>(
      sql`SELECT channel, timezone, environment, created_by FROM subscriptions WHERE ended_at IS NULL AND report = 'sla'`,
    );
    assert.deepEqual(rows, [
      { channel: "C0DIGEST", timezone: "Europe/Berlin", environment: "prod", created_by: "U0ANA" },
    ]);
    const again = await askIn("subscribe sla daily 09:00 env prod");
    assert.match(again.out, /^This channel already gets the daily SLA digest/);
  });

  it("subscribes weekly with an explicit zone, and reports a 7-day period", async () => {
    const r = await askIn("subscribe anomalies weekly mon 08:30 America/New_York sensitivity 2.5");
    assert.match(r.out, /weekly anomalies digest at Mon 08:30 America\/New_York/);
    assert.match(r.out, /Next: Mon 23 Nov 08:30 EST, covering the 7 days to Sun 22 Nov\./);
  });

  it("explains a mistake instead of failing, with an example", async () => {
    const r = await askIn("subscribe sla sometimes 09:00");
    assert.equal(r.family, "subscribe");
    assert.match(
      r.out,
      /"sometimes" is not a cadence: say daily or weekly\. Write it as .*e\.g\. `subscribe sla daily 09:00 Europe\/Berlin env prod`/,
    );
  });

  it("lists the channel's digests with next delivery and last outcome, and a gone channel as stopped", async () => {
    let r = await askIn("subscriptions");
    assert.equal(r.family, "subscriptions");
    assert.match(r.out, /^This channel gets 2 digests\./);
    assert.match(
      r.out,
      /SLA daily 09:00 Europe\/Berlin · env prod\nnext Mon 23 Nov 09:00 CET · nothing sent yet/,
    );
    const [sla] = await store.query<{ id: number }>(
      sql`SELECT id FROM subscriptions WHERE report = 'sla' AND ended_at IS NULL`,
    );
    await store.query(
      sql`INSERT INTO digest_deliveries (subscription_id, slot_at, report, channel, reported_date, state, claimed_by, finished_at, attempts)
          VALUES (${sla!.id}, '2026-11-22T08:00:00Z', 'sla', 'C0DIGEST', '2026-11-21', 'delivered', 'test', '2026-11-22T08:00:04Z', 1)`,
    );
    r = await askIn("which digests does this channel get?");
    assert.equal(r.family, "subscriptions");
    assert.match(r.out, /last sent Sun 22 Nov 09:00 CET \(for Sat 21 Nov\)/);
    await markChannelGone(store, "C0DIGEST", "not_in_channel", NOW);
    r = await askIn("list subscriptions");
    assert.match(r.out, /^This channel gets 0 digests; 2 stopped because Houston can no longer post\./);
    assert.match(
      r.out,
      /stopped Sun 22 Nov 10:30 CET: Houston can no longer post here \(not_in_channel\)\. Invite @Houston/,
    );
    // Another channel sees none of these.
    assert.match((await askIn("subscriptions", "C0OTHER")).out, /^This channel gets no digests\./);
  });

  it("unsubscribes by report, leaves houston.yml's alone and says so", async () => {
    await store.query(
      sql`INSERT INTO subscriptions (channel, report, cadence, local_time, timezone, source)
          VALUES ('C0YML', 'resources', 'daily', '07:00', 'UTC', 'config'),
                 ('C0YML', 'sla', 'daily', '07:00', 'UTC', 'slack')`,
    );
    let r = await askIn("unsubscribe resources", "C0YML");
    assert.equal(r.family, "unsubscribe");
    assert.match(
      r.out,
      /^This channel has no resource usage digest subscription to stop|Declared in houston\.yml/,
    );
    assert.match(r.out, /Declared in houston\.yml, so not stopped here.*\n• resource usage daily 07:00 UTC/s);
    r = await askIn("unsubscribe all", "C0YML");
    assert.match(r.out, /Unsubscribed: this channel no longer gets this digest\n• SLA daily 07:00 UTC/);
    r = await askIn("unsubscribe sla", "C0YML");
    assert.match(r.out, /^This channel has no SLA digest subscription to stop\./);
    const active = await store.query<{ report: string }>(
      sql`SELECT report FROM subscriptions WHERE channel = 'C0YML' AND ended_at IS NULL`,
    );
    assert.deepEqual(active, [{ report: "resources" }]);
  });

  it("explains in the terminal that digests belong to a Slack channel", async () => {
    for (const text of ["subscribe sla daily 09:00", "unsubscribe sla"]) {
      const r = await askIn(text, null);
      assert.match(r.out, /delivered to a Slack channel: type `\/houston (un)?subscribe …` in the channel/);
    }
    const all = await askIn("subscriptions", null);
    assert.match(all.out, /digest subscriptions? in \d+ channel/);
  });
});
