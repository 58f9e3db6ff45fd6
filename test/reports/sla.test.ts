import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import sla, { computeSla, type SlaData, slaChartSpec } from "../../reports/sla.ts";
import { digestToTerminal } from "../../src/digests/common.ts";
import type { DigestRequest } from "../../src/digests/types.ts";
import { demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { daysBefore, demoRequest, median, truth } from "./truth.ts";

const DAY = "2026-11-21";
const T = truth(demoFleet());
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

describeEachStore("SLA digest on the demo fleet", (kind) => {
  let store: TestStore;
  let data: SlaData;
  const req = (over: Partial<DigestRequest> = {}) => demoRequest(store, over);
  before(async () => {
    store = await openDemoStore(kind);
    data = await computeSla(req());
  });
  after(() => store.dispose());

  it("counts expected, ran, missed and on-time runs of the day as the seeded schedules and runs say", () => {
    const t = T.slots(DAY);
    assert.ok(t.expected > 50);
    assert.equal(data.expected.value, t.expected);
    assert.equal(data.ran.value, t.ran);
    assert.equal(data.missed.value, t.missed);
    assert.equal(data.lateCount.value, t.late);
    close(data.onTimePct.value!, (100 * t.onTime) / t.expected);
    // Compared with the day before and the average of the 7 days before.
    const prev = T.slots("2026-11-20");
    assert.equal(data.expected.previous, prev.expected);
    close(data.lateCount.average, mean(daysBefore(DAY, 7).map((d) => T.slots(d).late)));
  });

  it("splits late into the late starter (gl_summary) and the long runner (train_churn_model)", () => {
    assert.deepEqual(
      data.lateStarts.map((l) => l.name),
      ["finance_close.gl_summary"],
    );
    const late = data.lateStarts[0]!;
    const run = T.runsOn("finance_close.gl_summary", DAY)[0]!;
    assert.equal(late.delayMs, run.startedAt!.getTime() - run.scheduledFor!.getTime());
    assert.ok(late.delayMs >= 2.25 * 3_600_000, "2h15m late");
    assert.equal(late.owner, "@finance-data");
    assert.deepEqual(
      data.longRuns.map((l) => l.name),
      ["ml_features.train_churn_model"],
    );
    const long = data.longRuns[0]!;
    const job = "ml_features.train_churn_model";
    assert.equal(long.durationMs, T.duration(T.runsOn(job, DAY)[0]!));
    // Usual = median of the daily medians of the 14 UTC days before (one run a day).
    const usual = median(daysBefore(DAY, 14).flatMap((d) => T.runsOn(job, d).map(T.duration)));
    close(long.usualMs, usual, 1e-6);
    assert.ok(long.durationMs / long.usualMs > 4);
    // The long runner started on time; the late starter did not run long.
    assert.ok(!data.lateStarts.some((l) => l.name === job));
  });

  it("counts failures and names the flapping job with its owner", () => {
    assert.equal(data.failures.value, T.failures(DAY));
    assert.equal(data.failures.previous, T.failures("2026-11-20"));
    close(data.failures.average, mean(daysBefore(DAY, 7).map((d) => T.failures(d))));
    assert.equal(data.failing[0]?.name, "marketing_attribution.attribution_model");
    assert.equal(data.failing[0]?.owner, "@analytics");
    assert.equal(data.failing[0]?.streak, 1);
    // Alternating since 11-12: failed on 11-15, 11-17, 11-19, 11-21 within the 8-day span.
    assert.equal(data.failing[0]?.spanFailures, 4);
  });

  it("finds analytics.dim_customers stale and every other dataset fresh", () => {
    const t = T.freshness(DAY);
    assert.equal(data.datasets.withSla, t.withSla);
    assert.equal(data.datasets.stale.value, t.stale.length);
    assert.deepEqual(t.stale, ["analytics.dim_customers"]);
    assert.deepEqual(
      data.datasets.staleList.map((s) => s.name),
      ["analytics.dim_customers"],
    );
    assert.equal(data.datasets.stale.previous, T.freshness("2026-11-20").stale.length);
  });

  it("reports shipfast_logistics late and the other suppliers on time", () => {
    const t = T.deliveries(DAY);
    assert.equal(data.deliveries.due.value, t.length);
    assert.equal(data.deliveries.bad.value, t.filter((d) => d.late || d.missing).length);
    const bad = data.deliveries.bySupplier.filter((s) => s.late + s.missing > 0);
    assert.deepEqual(
      bad.map((s) => s.supplier),
      ["shipfast_logistics"],
    );
    assert.equal(bad[0]!.late, t.filter((d) => d.supplier === "shipfast_logistics" && d.late).length);
    assert.equal(bad[0]!.worstMs, Math.max(...t.filter((d) => d.late).map((d) => d.delayMs)));
  });

  it("gives the production test pass rate of the day", () => {
    const t = T.testsOn(DAY);
    assert.ok(t.run > 0);
    assert.equal(data.tests.run.value, t.run);
    assert.equal(data.tests.passed.value, t.passed);
    close(data.tests.passPct.value!, (100 * t.passed) / t.run);
    const p = T.testsOn("2026-11-20");
    close(data.tests.passPct.previous!, (100 * p.passed) / p.run);
    assert.ok(
      data.tests.failing.some((x) => x.name === "not_null_fct_refunds_refund_reason" && x.status === "warn"),
    );
    // QA's failing test is not production's.
    assert.ok(!data.tests.failing.some((x) => x.name === "accepted_values_stg_payments_method"));
  });

  it("narrows every number to an environment or a group", async () => {
    const prod = await computeSla(req({ environment: "prod" }));
    assert.equal(prod.expected.value, T.slots(DAY, { environment: "prod" }).expected);
    assert.ok(prod.expected.value < data.expected.value);
    const fin = await computeSla(req({ group: "finance_close" }));
    assert.equal(fin.expected.value, T.slots(DAY, { group: "finance_close" }).expected);
    assert.equal(fin.failures.value, T.failures(DAY, { group: "finance_close" }));
    assert.deepEqual(
      fin.lateStarts.map((l) => l.name),
      ["finance_close.gl_summary"],
    );
    assert.deepEqual(fin.longRuns, []);
    assert.deepEqual(fin.datasets.staleList, [], "dim_customers belongs to orders_daily");
    assert.equal(fin.deliveries.shown, false);
    const staging = await computeSla(req({ environment: "staging" }));
    assert.equal(staging.tests.environment, "staging");
    assert.equal(staging.expected.value, T.slots(DAY, { environment: "staging" }).expected);
  });

  it("sums a week for a weekly digest and compares it with the week before", async () => {
    const w = await computeSla(req({ days: 7 }));
    const week = ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", DAY];
    assert.equal(w.expected.value, sum(week.map((d) => T.slots(d).expected)));
    assert.equal(w.failures.value, sum(week.map((d) => T.failures(d))));
    assert.equal(w.failures.previous, sum(daysBefore("2026-11-15", 7).map((d) => T.failures(d))));
  });

  it("renders headline numbers first, within Slack's limits, readable in a terminal, with a chart", async () => {
    const d = await sla.build(req({ chart: true }));
    assert.equal(d.empty, false);
    assert.ok(d.blocks.length <= 50);
    for (const b of d.blocks) if (b.type === "section" && b.text) assert.ok(b.text.text.length <= 3000);
    assert.equal(d.title, "SLA digest — Sat 21 Nov 2026 (UTC)");
    const out = digestToTerminal(d);
    const lines = out.split("\n");
    assert.match(
      lines[2]!,
      /^\d+(\.\d)?% of \d+ expected runs started on time — .*1 started late, 1 ran long/,
    );
    assert.match(out, /`finance_close\.gl_summary` started 2h 1\dm after its 05:25 slot .* — @finance-data/);
    assert.match(
      out,
      /`ml_features\.train_churn_model` ran 2h \d\dm, 4\.\d× its usual 3\d min — @ml-platform/,
    );
    assert.match(out, /`analytics\.dim_customers` last updated .* \(SLA 26h 00m\) — @data-eng/);
    assert.match(out, /`shipfast_logistics`: 2 late of 2, up to 3h \d\dm late — @data-eng/);
    assert.match(out, /vs yesterday, .* vs 7-day avg/);
    assert.ok(!/\*[^*\s]/.test(out), "no mrkdwn bold left in the terminal text");
    assert.ok(d.chart && d.chart.png.subarray(1, 4).toString() === "PNG");
  });

  it("charts attainment and failures in two panels on one time axis, never two y axes in one plot", async () => {
    const spec = slaChartSpec(await computeSla(req({ chart: true })))!.spec as any;
    assert.equal(spec.layer, undefined, "no layered dual-axis plot");
    assert.equal(spec.vconcat.length, 2);
    assert.deepEqual(
      spec.vconcat.map((p: any) => p.encoding.y.field),
      ["pct", "failed"],
    );
    assert.equal(spec.resolve.scale.x, "shared");
    assert.equal(spec.vconcat[0].encoding.y.scale.domain[1], 100);
  });

  it("bounds the day by Berlin midnights for a Berlin subscription", async () => {
    const b = await computeSla(req({ timezone: "Europe/Berlin" }));
    assert.equal(b.periods.period.from.toISOString(), "2026-11-20T23:00:00.000Z");
    assert.deepEqual(
      b.lateStarts.map((l) => l.name),
      ["finance_close.gl_summary"],
    );
    assert.ok(b.expected.value > 0);
  });
});

describeEachStore("SLA digest with no data", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());

  it("says in one line that there is nothing to report, without a chart", async () => {
    const d = await sla.build({ store, date: DAY, days: 1, timezone: "UTC", chart: true });
    assert.equal(d.empty, true);
    assert.equal(d.blocks.length, 1);
    assert.equal(d.chart, undefined);
    assert.match(digestToTerminal(d), /^SLA digest — Sat 21 Nov 2026 \(UTC\) — Nothing to report/);
    assert.equal(digestToTerminal(d).split("\n").length, 1);
  });
});
