import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { type Breach, evaluate } from "../../src/monitors/evaluate.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { at, configOf, DAY, HOUR, MIN, plus, World } from "./world.ts";

const kinds = (bs: Breach[]) => bs.map((b) => `${b.kind} ${b.subject}`);

describeEachStore("evaluate", (kind) => {
  let store: TestStore;
  let w: World;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());
  beforeEach(async () => {
    await store.reset();
    w = new World(store);
  });

  const T = at("2026-03-10T00:00:00Z");
  const SLOT = at("2026-03-10T02:00:00Z");

  /** A daily 02:00 UTC job with a 1 h grace and two clean days of history. */
  async function nightly(config = configOf()) {
    await w.history("nightly", T, "02:00", ["success", "success"]);
    await w.schedule("nightly", "0 2 * * *", T, { graceSeconds: 3600, group: "orders", channel: "#orders" });
    return config;
  }

  it("reports a missed run at slot + grace, not a minute before, with a stable key and details", async () => {
    const config = await nightly();
    assert.deepEqual(await evaluate(store, plus(SLOT, 59 * MIN), config), []);
    const [b, ...rest] = await evaluate(store, plus(SLOT, HOUR), config);
    assert.equal(rest.length, 0);
    assert.equal(b!.kind, "missed_run");
    assert.equal(b!.key, "missed_run:job:dbt/nightly:2026-03-10T02:00:00.000Z");
    assert.equal(b!.subject, "nightly");
    assert.equal(b!.group, "orders");
    assert.equal(b!.channel, "#orders");
    assert.equal(b!.routingKey, "RK");
    assert.equal(b!.severity, "error");
    assert.match(
      b!.summary,
      /^nightly did not run: expected at 2026-03-10 02:00 UTC \(grace 1h\), no run by 2026-03-10 03:00 UTC$/,
    );
    assert.equal(b!.details.slotAt, SLOT.toISOString());
    assert.equal(b!.details.lastRuns!.length, 2);
    assert.equal(b!.details.lastRuns![0]!.status, "success");
    const later = await evaluate(store, plus(SLOT, 5 * HOUR), config);
    assert.deepEqual(
      later.map((x) => x.key),
      [b!.key],
      "the same slot gives the same key hours later",
    );
  });

  it("turns a missed run into a late start under the same key, and clears it when the late run succeeds", async () => {
    const config = await nightly();
    await w.run("nightly", "late-1", { start: plus(SLOT, 70 * MIN) });
    const [late] = await evaluate(store, plus(SLOT, 71 * MIN), config);
    assert.equal(late!.kind, "late_start");
    assert.equal(late!.key, "missed_run:job:dbt/nightly:2026-03-10T02:00:00.000Z");
    assert.match(late!.summary, /^nightly started 1h10m late: .*; still running$/);
    await w.run("nightly", "late-1", { start: plus(SLOT, 70 * MIN), end: plus(SLOT, 95 * MIN) });
    assert.deepEqual(await evaluate(store, plus(SLOT, 96 * MIN), config), []);
  });

  it("reports no late start for a run that began within grace", async () => {
    const config = await nightly();
    await w.run("nightly", "ok-1", { start: plus(SLOT, 59 * MIN) });
    assert.deepEqual(await evaluate(store, plus(SLOT, 2 * HOUR), config), []);
  });

  it("reports a long run past a fixed max_duration, strictly after the limit", async () => {
    const config = await nightly(configOf("jobs:\n  - name: nightly\n    max_duration: 90m\n"));
    await w.run("nightly", "long-1", { start: SLOT });
    assert.deepEqual(kinds(await evaluate(store, plus(SLOT, 90 * MIN), config)), []);
    const [b] = await evaluate(store, plus(SLOT, 91 * MIN), config);
    assert.equal(b!.kind, "long_run");
    assert.match(b!.key, /^long_run:job:dbt\/nightly:run:\d+$/);
    assert.match(b!.summary, /^nightly has been running 1h31m .*limit 1h30m \(max_duration\)$/);
    await w.run("nightly", "long-1", { start: SLOT, end: plus(SLOT, 95 * MIN) });
    assert.deepEqual(await evaluate(store, plus(SLOT, 96 * MIN), config), []);
  });

  it("reports a long run past p95 × factor of the job's last 14 days", async () => {
    // 14 days of 30-minute runs: p95 = 30 m, so "p95 x 2" is one hour.
    await w.history("p95job", T, "02:00", Array(14).fill("success"), 30 * MIN);
    const config = configOf('jobs:\n  - match: "p95*"\n    max_duration: p95 x 2\n');
    await w.run("p95job", "r", { start: SLOT });
    assert.deepEqual(await evaluate(store, plus(SLOT, HOUR), config), []);
    const [b] = await evaluate(store, plus(SLOT, HOUR + MIN), config);
    assert.equal(b!.kind, "long_run");
    assert.match(b!.summary, /limit 1h \(p95 30m over 14 day\(s\) × 2\)$/);
  });

  it("ignores a run's duration when no max_duration applies", async () => {
    const config = await nightly();
    await w.run("nightly", "slow", { start: SLOT });
    assert.deepEqual(await evaluate(store, plus(SLOT, 20 * HOUR), config), []);
  });

  it("reports a failed run as a warning anchored at the failure, and a second failure as a paging streak", async () => {
    const config = await nightly();
    await w.run("nightly", "f1", { start: SLOT });
    assert.deepEqual(await evaluate(store, plus(SLOT, 10 * MIN), config), [], "running is not failing");
    await w.run("nightly", "f1", {
      start: SLOT,
      end: plus(SLOT, 10 * MIN),
      status: "failed",
      error: "OOM\nstack",
    });
    assert.deepEqual(await evaluate(store, plus(SLOT, 9 * MIN), config), [], "not before it ended");
    const [failed, ...none] = await evaluate(store, plus(SLOT, 10 * MIN), config);
    assert.equal(none.length, 0);
    assert.equal(failed!.kind, "failed_run");
    assert.equal(failed!.severity, "warning");
    assert.match(failed!.summary, /^nightly failed at 2026-03-10 02:10 UTC: OOM$/);
    const anchor = failed!.key.split(":").at(-1);

    const next = plus(SLOT, DAY);
    await w.run("nightly", "f2", { start: next, end: plus(next, 5 * MIN), status: "failed", error: "OOM" });
    const both = await evaluate(store, plus(next, 5 * MIN), config);
    assert.deepEqual(kinds(both), ["failed_run nightly", "failure_streak nightly"]);
    assert.equal(both[0]!.key, failed!.key, "still the same failed_run incident");
    assert.equal(both[1]!.key, `failure_streak:job:dbt/nightly:run:${anchor}`);
    assert.equal(both[1]!.severity, "error");
    assert.match(
      both[1]!.summary,
      /^nightly failed 2 time\(s\) in a row since 2026-03-10 02:00 UTC \(pages at 2\): OOM$/,
    );

    const third = plus(next, DAY);
    await w.run("nightly", "ok", { start: third, end: plus(third, 5 * MIN) });
    assert.deepEqual(await evaluate(store, plus(third, 5 * MIN), config), []);
  });

  it("pages on the first failure and skips failed_run when failure_streak is 1", async () => {
    const config = await nightly(configOf("jobs:\n  - name: nightly\n    failure_streak: 1\n"));
    await w.run("nightly", "f1", { start: SLOT, end: plus(SLOT, 10 * MIN), status: "failed" });
    assert.deepEqual(kinds(await evaluate(store, plus(SLOT, 10 * MIN), config)), ["failure_streak nightly"]);
  });

  it("reports flapping at the fourth success↔failure flip in seven days, as a warning", async () => {
    const config = configOf();
    // Oldest first: S F S F — three flips.
    await w.history("flappy", T, "02:00", ["success", "failed", "success", "failed"]);
    await w.run("flappy", "today", { start: SLOT });
    assert.deepEqual(kinds(await evaluate(store, plus(SLOT, MIN), config)), ["failed_run flappy"]);
    await w.run("flappy", "today", { start: SLOT, end: plus(SLOT, 30 * MIN) });
    const [b] = await evaluate(store, plus(SLOT, 30 * MIN), config);
    assert.equal(b!.kind, "flapping");
    assert.equal(b!.severity, "warning");
    assert.equal(b!.key, "flapping:job:dbt/flappy:2026-03-10");
    assert.equal(b!.episode, "flapping:job:dbt/flappy:");
    assert.match(
      b!.summary,
      /4 success↔failure flips in the last 7 days \(limit 4\); 2 of 5 finished runs failed$/,
    );
  });

  it("reports a stale dataset once its last update is older than max_age, keyed by that update", async () => {
    const config = configOf();
    await w.sla("analytics.orders", { maxAgeSeconds: 26 * 3600 });
    const last = at("2026-03-09T03:00:00Z");
    await w.update("analytics.orders", last);
    assert.deepEqual(await evaluate(store, plus(last, 26 * HOUR), config), []);
    const [b] = await evaluate(store, plus(last, 26 * HOUR + MIN), config);
    assert.equal(b!.kind, "stale_dataset");
    assert.equal(b!.key, "stale_dataset:dataset:warehouse/analytics.orders:since:2026-03-09T03:00:00.000Z");
    assert.equal(b!.subjectType, "dataset");
    assert.match(
      b!.summary,
      /^analytics\.orders is stale: last updated 2026-03-09 03:00 UTC, 26h01m ago \(max age 26h\)$/,
    );
    await w.update("analytics.orders", plus(last, 27 * HOUR));
    assert.deepEqual(await evaluate(store, plus(last, 27 * HOUR), config), []);
  });

  it("reports a late supplier delivery at arrival + grace in the supplier's zone (after a DST change)", async () => {
    const config = configOf();
    await w.sla("acme/settlements", {
      expectedArrival: "05:30",
      timezone: "America/New_York",
      supplier: "acme",
    });
    await w.update("acme/settlements", at("2026-03-09T09:20:00Z"), { supplier: "acme" });
    // 2026-03-10 is EDT (UTC−4): 05:30 + 30 m grace = 10:00 UTC.
    assert.deepEqual(await evaluate(store, at("2026-03-10T09:59:00Z"), config), []);
    const [b] = await evaluate(store, at("2026-03-10T10:00:00Z"), config);
    assert.equal(b!.kind, "late_arrival");
    assert.equal(b!.key, "late_arrival:dataset:warehouse/acme/settlements:2026-03-10");
    assert.equal(b!.group, "acme", "a supplier dataset without a producing job is grouped by supplier");
    assert.match(
      b!.summary,
      /^acme\/settlements from acme has not arrived: expected by 05:30 America\/New_York \(\+30m grace\) on 2026-03-10; last delivery 2026-03-09 05:20 America\/New_York$/,
    );
    // Still late after midnight UTC and before the next day's deadline (same local day key).
    assert.equal((await evaluate(store, at("2026-03-11T03:00:00Z"), config))[0]!.key, b!.key);
    await w.update("acme/settlements", at("2026-03-10T10:20:00Z"), { supplier: "acme" });
    assert.deepEqual(await evaluate(store, at("2026-03-10T10:21:00Z"), config), []);
  });

  it("takes arrival_grace from a match rule", async () => {
    const config = configOf('datasets:\n  - match: "acme/*"\n    arrival_grace: 1h\n');
    await w.sla("acme/settlements", { expectedArrival: "05:30", timezone: "UTC", supplier: "acme" });
    await w.update("acme/settlements", at("2026-03-09T05:00:00Z"));
    assert.deepEqual(await evaluate(store, at("2026-03-10T06:29:00Z"), config), []);
    assert.deepEqual(kinds(await evaluate(store, at("2026-03-10T06:30:00Z"), config)), [
      "late_arrival acme/settlements",
    ]);
  });

  it("reports a failing prod test until it passes, ignoring other environments", async () => {
    const config = configOf();
    const t1 = at("2026-03-10T04:00:00Z");
    await w.testResult("unique_orders_id", "analytics.orders", "pass", plus(t1, -DAY));
    await w.testResult("unique_orders_id", "analytics.orders", "fail", plus(t1, -HOUR), "qa");
    assert.deepEqual(await evaluate(store, t1, config), [], "a qa failure is not a breach");
    await w.testResult("unique_orders_id", "analytics.orders", "fail", t1);
    assert.deepEqual(await evaluate(store, plus(t1, -MIN), config), []);
    const [b] = await evaluate(store, t1, config);
    assert.equal(b!.kind, "failing_test");
    assert.equal(b!.subjectType, "test");
    assert.equal(
      b!.key,
      `failing_test:test:warehouse/analytics.orders:unique_orders_id:since:${t1.toISOString()}`,
    );
    assert.match(b!.summary, /^test unique_orders_id on analytics\.orders fails in prod: 3 failing rows/);
    await w.testResult("unique_orders_id", "analytics.orders", "error", plus(t1, HOUR));
    assert.equal((await evaluate(store, plus(t1, HOUR), config))[0]!.key, b!.key, "same failing streak");
    await w.testResult("unique_orders_id", "analytics.orders", "pass", plus(t1, 2 * HOUR));
    assert.deepEqual(await evaluate(store, plus(t1, 2 * HOUR), config), []);
  });

  it("applies a job's severity to its paging breaches and caps warnings at it", async () => {
    const config = await nightly(
      configOf("jobs:\n  - name: nightly\n    severity: info\n    routing_key: RK-nightly\n"),
    );
    await w.run("nightly", "f1", { start: SLOT, end: plus(SLOT, MIN), status: "failed" });
    const [b] = await evaluate(store, plus(SLOT, MIN), config);
    assert.equal(b!.severity, "info");
    assert.equal(b!.routingKey, "RK-nightly");
  });
});
