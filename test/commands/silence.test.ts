// /houston silence and unsilence through the real router, on a small world of jobs: what is
// recorded (read back from the silences table), did-you-mean for unknown names, terminal
// refusal, and a breach under the silence recorded but not announced.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { listSilences } from "../../src/monitors/incidents.ts";
import { runMonitors } from "../../src/monitors/runner.ts";
import { answerBody } from "../helpers/demo.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { forgetNames } from "../../src/questions/resolve.ts";
import { ask } from "../../src/questions/router.ts";
import type { AskContext, Command } from "../../src/questions/types.ts";
import { parseSilenceDuration, parseSilenceRequest } from "../../commands/silence.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { at, configOf, HOUR, MIN, plus, World } from "../monitors/world.ts";

const T = at("2030-03-10T00:00:00Z");
const NOW = at("2030-03-10T01:00:00Z");
const DUE = at("2030-03-10T03:00:00Z");
const commands: Command[] = await loadCommands();

describe("reading a silence request", () => {
  it("reads durations as people write them", () => {
    assert.equal(parseSilenceDuration("30m"), 30 * MIN);
    assert.equal(parseSilenceDuration("2h"), 2 * HOUR);
    assert.equal(parseSilenceDuration("1d"), 24 * HOUR);
    assert.equal(parseSilenceDuration("1h30m"), 90 * MIN);
    assert.equal(parseSilenceDuration("2 hours"), 2 * HOUR);
    assert.equal(parseSilenceDuration("45 minutes"), 45 * MIN);
    assert.equal(parseSilenceDuration("2 parsecs"), undefined);
    assert.equal(parseSilenceDuration("0m"), undefined);
  });

  it("reads the kind, the name, the duration and the reason", () => {
    assert.deepEqual(parseSilenceRequest("group finance_close for 1d quarter close"), {
      subjectType: "group",
      subject: "finance_close",
      durationMs: 24 * HOUR,
      reason: "quarter close",
    });
    assert.deepEqual(parseSilenceRequest("`orders_*` for 2 hours because backfill"), {
      subject: "orders_*",
      durationMs: 2 * HOUR,
      reason: "backfill",
    });
    assert.deepEqual(parseSilenceRequest("nightly for 3 fortnights"), {
      subject: "nightly",
      badDuration: "3 fortnights",
    });
  });
});

describeEachStore("silence question family", (kind) => {
  let store: TestStore;
  let w: World;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());
  beforeEach(async () => {
    await store.reset();
    w = new World(store);
    for (const name of ["nightly_orders", "orders_export"]) {
      await w.history(name, T, "02:00", ["success", "success"]);
      await w.schedule(name, "0 2 * * *", T, { graceSeconds: 3600, group: "orders", channel: "C0ORDERS" });
    }
    forgetNames(store);
  });

  const ctx = (asker = true, now = NOW): AskContext => ({
    store,
    now,
    timezone: "UTC",
    ...(asker ? { asker: { userId: "U0ANA", channelId: "C0ORDERS" } } : {}),
  });
  const askIt = async (text: string, c = ctx()) => {
    const r = await ask(commands, c, text);
    return { family: r.family, out: answerBody(r.answer) };
  };

  it("silences a job for 2h with a reason, recording who", async () => {
    const r = await askIt("silence nightly_orders for 2h warehouse migration");
    assert.equal(r.family, "silence");
    assert.match(r.out, /Silenced job `nightly_orders` for 2h, until/);
    assert.match(r.out, /Reason: warehouse migration/);
    const [s, ...more] = await listSilences(store, NOW);
    assert.equal(more.length, 0);
    assert.deepEqual(
      [s!.subjectType, s!.subject, s!.reason, s!.createdBy, s!.endsAt.toISOString()],
      ["job", "nightly_orders", "warehouse migration", "U0ANA", plus(NOW, 2 * HOUR).toISOString()],
    );
  });

  it("silences a group for a day and a dataset-free pattern as typed", async () => {
    assert.equal((await askIt("silence group orders for 1d")).family, "silence");
    assert.equal((await askIt("silence orders_* for 30m")).family, "silence");
    const all = await listSilences(store, NOW);
    assert.deepEqual(
      all.map((s) => [s.subjectType, s.subject, s.endsAt.getTime() - NOW.getTime()]),
      [
        ["job", "orders_*", 30 * MIN],
        ["group", "orders", 24 * HOUR],
      ],
    );
  });

  it("suggests the closest name for a mistyped subject and records nothing", async () => {
    const r = await askIt("silence nightly_ordres for 2h");
    assert.equal(r.family, "did-you-mean");
    assert.match(r.out, /No job `nightly_ordres`; did you mean `nightly_orders`/);
    assert.deepEqual(await listSilences(store, NOW), []);
  });

  it("says it needs Slack when asked from the terminal", async () => {
    const r = await askIt("silence nightly_orders for 2h", ctx(false));
    assert.equal(r.family, "silence");
    assert.match(r.out, /Silencing needs Slack/);
    assert.deepEqual(await listSilences(store, NOW), []);
  });

  it("asks for a duration it understands", async () => {
    assert.match((await askIt("silence nightly_orders")).out, /For how long\?/);
    assert.match(
      (await askIt("silence nightly_orders for 3 fortnights")).out,
      /`3 fortnights` is not a duration/,
    );
    assert.match((await askIt("silence nightly_orders for 90d")).out, /at most 30 days/);
    assert.match((await askIt("silence")).out, /Say what and for how long/);
    assert.deepEqual(await listSilences(store, NOW), []);
  });

  it("records a breach under the silence without announcing it, and unsilence ends it", async () => {
    await askIt("silence nightly_orders for 4h");
    await runMonitors(store, DUE, configOf(), { replicaId: "t" });
    const incs = await store.query<{ subject: string; silenced: boolean }>(
      sql`SELECT subject, silenced FROM incidents ORDER BY subject`,
    );
    assert.deepEqual(
      incs.map((i) => [i.subject, i.silenced]),
      [
        ["nightly_orders", true],
        ["orders_export", false],
      ],
    );
    const out = await store.query<{ target: string; payload: any }>(
      sql`SELECT target, payload FROM outbox ORDER BY id`,
    );
    assert.equal(out.filter((o) => o.target === "pagerduty").length, 1, "only the unsilenced job pages");
    assert.equal(out.filter((o) => o.target === "slack").length, 1);

    const r = await askIt("unsilence nightly_orders", ctx(true, plus(DUE, MIN)));
    assert.equal(r.family, "silence");
    assert.match(r.out, /Ended the silence of job `nightly_orders`/);
    assert.deepEqual(await listSilences(store, plus(DUE, 2 * MIN)), []);
    const again = await askIt("unsilence nightly_orders", ctx(true, plus(DUE, 2 * MIN)));
    assert.match(again.out, /Nothing is silenced/);
  });
});
