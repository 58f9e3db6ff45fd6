// The measures of the catalogue on the demo fleet: what compute() returns is checked
// against figures derived independently from the fleet's own run and dataset events (not
// from the store), and the router runs a measure for a frame it answers, opening with what
// was understood.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import cost, { type CostData } from "../../commands/cost.ts";
import duration, { type DurationData } from "../../commands/duration.ts";
import failureRate, { type FailureRateData } from "../../commands/failure-rate.ts";
import lastRun, { type LastRunData } from "../../commands/last-run.ts";
import resources, { type ResourcesData } from "../../commands/resources.ts";
import rows, { type RowsData } from "../../commands/rows.ts";
import { runFigures, sumFigures } from "../../src/db/queries/run-figures.ts";
import type { DatasetEvent, RunEvent } from "../../src/ingest/events.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import type { Frame } from "../../src/understanding/frame.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const DAY = 86_400_000;
const fleet = demoFleet();
const jobOf = new Map(fleet.jobs.map((j) => [j.job, j]));

// Each run's final state: the event with the latest event time per run id.
const finals = new Map<string, RunEvent>();
for (const e of fleet.events)
  if (e.type === "run") {
    const key = `${e.job}\0${e.runId}`;
    const prev = finals.get(key);
    if (!prev || prev.eventTime <= e.eventTime) finals.set(key, { ...prev, ...e });
  }
const runs = [...finals.values()];
const runAt = (r: RunEvent) => (r.startedAt ?? r.endedAt ?? r.scheduledFor)!.getTime();
const inWindow = (r: RunEvent, w: MeasureWindow) => runAt(r) >= w.from.getTime() && runAt(r) < w.to.getTime();
const ms = (r: RunEvent) => (r.startedAt && r.endedAt ? r.endedAt.getTime() - r.startedAt.getTime() : null);

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const close = (a: number | null | undefined, b: number, eps = 1e-6) =>
  assert.ok(
    a !== null && a !== undefined && Math.abs(a - b) <= eps * Math.max(1, Math.abs(b)),
    `${a} ≉ ${b}`,
  );

const window = (from: string, to: string | Date, label = "test window"): MeasureWindow => ({
  from: new Date(from),
  to: typeof to === "string" ? new Date(to) : to,
  label,
  given: true,
});
const LAST_30 = window(new Date(DEMO_NOW.getTime() - 30 * DAY).toISOString(), DEMO_NOW);
const YESTERDAY = window("2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z", "yesterday");
const THIS_MONTH = window("2026-11-01T00:00:00Z", DEMO_NOW, "this month");
const job = (name: string): Frame["subject"] => ({ kind: "job", name });

describeEachStore("measures of the catalogue on the demo fleet", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());
  const ctx = () => demoContext(store);

  it("duration: last, median, p95 and longest of one job's runs", async () => {
    const name = "finance_close.gl_summary";
    const d = (await duration.compute(
      ctx(),
      { measure: "duration", subject: job(name) },
      LAST_30,
    )) as DurationData;
    const mine = runs.filter((r) => r.job === name && inWindow(r, LAST_30) && ms(r) !== null);
    const times = mine.map((r) => ms(r)!);
    assert.equal(d.whole!.timed, mine.length);
    close(d.whole!.durationMedianMs, percentile(times, 0.5));
    close(d.whole!.durationP95Ms, percentile(times, 0.95));
    close(d.whole!.durationMaxMs, Math.max(...times));
    const latest = mine.reduce((a, b) => (runAt(a) > runAt(b) ? a : b));
    close(d.whole!.durationLastMs, ms(latest)!);
    // The sparkline's series: the latest 14 timed runs, oldest first.
    const recent = [...mine].sort((a, b) => runAt(a) - runAt(b)).slice(-14);
    assert.deepEqual(
      d.recentMs,
      recent.map((r) => ms(r)!),
    );
  });

  it("duration against usual: train_churn_model's long run yesterday, against the 30 days before", async () => {
    const name = "ml_features.train_churn_model";
    const frame: Frame = { measure: "duration", subject: job(name), stat: "vs_usual", polarity: "present" };
    const d = (await duration.compute(ctx(), frame, YESTERDAY)) as DurationData;
    const before = runs.filter(
      (r) =>
        r.job === name &&
        ms(r) !== null &&
        runAt(r) >= YESTERDAY.from.getTime() - 30 * DAY &&
        runAt(r) < YESTERDAY.from.getTime(),
    );
    const usual = percentile(
      before.map((r) => ms(r)!),
      0.5,
    );
    close(d.usual!.medianMs, usual);
    const last = runs.filter((r) => r.job === name && inWindow(r, YESTERDAY)).map((r) => ms(r)!);
    close(d.verdict!.ratio, last[last.length - 1]! / usual);
    assert.equal(d.verdict!.verdict, "more");
  });

  it("duration ranks the fleet's jobs, slowest first, and keeps the top n", async () => {
    const frame: Frame = {
      measure: "duration",
      subject: { kind: "fleet" },
      stat: "max",
      rank: { order: "most", n: 3 },
    };
    const d = (await duration.compute(ctx(), frame, YESTERDAY)) as DurationData;
    const byJob = new Map<string, number>();
    for (const r of runs.filter((x) => inWindow(x, YESTERDAY) && ms(x) !== null))
      byJob.set(r.job, Math.max(byJob.get(r.job) ?? 0, ms(r)!));
    const want = [...byJob].sort((a, b) => b[1] - a[1]).slice(0, 3);
    assert.deepEqual(
      d.rows.map((r) => [r.key, r.valueMs]),
      want,
    );
  });

  it("failure rate: a group's share of failed runs, and per job", async () => {
    const frame: Frame = { measure: "failure_rate", subject: { kind: "group", name: "ml_features" } };
    const d = (await failureRate.compute(ctx(), frame, THIS_MONTH)) as FailureRateData;
    const mine = runs.filter((r) => jobOf.get(r.job)?.group === "ml_features" && inWindow(r, THIS_MONTH));
    const ended = mine.filter((r) => r.status !== "running");
    const failed = ended.filter((r) => r.status === "failed").length;
    assert.equal(d.whole!.runs, ended.length);
    assert.equal(d.whole!.failures, failed);
    close(d.whole!.rate, failed / ended.length);
    assert.equal(d.rows.length, new Set(mine.map((r) => r.job)).size);
    assert.equal(sum(d.rows.map((r) => r.failures)), failed);
    assert.ok(
      d.rows.every((r, i) => i === 0 || d.rows[i - 1]!.rate >= r.rate),
      "highest rate first",
    );
  });

  it("cost: a job's total, last and most expensive run; the fleet's most expensive jobs and per environment", async () => {
    const name = "ml_features.user_embeddings";
    const c = (await cost.compute(ctx(), { measure: "cost", subject: job(name) }, THIS_MONTH)) as CostData;
    const mine = runs.filter((r) => r.job === name && inWindow(r, THIS_MONTH) && r.cost !== undefined);
    close(c.total, sum(mine.map((r) => r.cost!)));
    close(c.max, Math.max(...mine.map((r) => r.cost!)));
    assert.equal(c.costed, mine.length);

    const top = (await cost.compute(
      ctx(),
      { measure: "cost", subject: { kind: "fleet" }, rank: { order: "most", n: 5 } },
      THIS_MONTH,
    )) as CostData;
    const perJob = new Map<string, number>();
    for (const r of runs.filter((x) => inWindow(x, THIS_MONTH) && x.cost !== undefined))
      perJob.set(r.job, (perJob.get(r.job) ?? 0) + r.cost!);
    const want = [...perJob].sort((a, b) => b[1] - a[1]).slice(0, 5);
    assert.deepEqual(
      top.rows.map((r) => r.key),
      want.map(([k]) => k),
    );
    top.rows.forEach((r, i) => close(r.cost, want[i]![1]));

    const envs = (await cost.compute(
      ctx(),
      { measure: "cost", subject: { kind: "fleet" }, groupBy: "environment" },
      THIS_MONTH,
    )) as CostData;
    close(sum(envs.rows.map((r) => r.cost)), envs.total);
    const prod = sum(
      runs
        .filter(
          (x) =>
            inWindow(x, THIS_MONTH) &&
            x.cost !== undefined &&
            (x.environment ?? jobOf.get(x.job)?.environment) === "prod",
        )
        .map((x) => x.cost!),
    );
    close(envs.rows.find((r) => r.key === "prod")!.cost, prod);
  });

  it("resources: the fleet's memory hogs by peak memory, a job's CPU total", async () => {
    const frame: Frame = {
      measure: "resources",
      subject: { kind: "fleet" },
      figure: "memory",
      rank: { order: "most", n: 3 },
    };
    const d = (await resources.compute(ctx(), frame, YESTERDAY)) as ResourcesData;
    assert.equal(d.rankedBy, "memory");
    const peak = new Map<string, number>();
    for (const r of runs.filter((x) => inWindow(x, YESTERDAY) && x.memoryMb !== undefined))
      peak.set(r.job, Math.max(peak.get(r.job) ?? 0, r.memoryMb!));
    const want = [...peak].sort((a, b) => b[1] - a[1]).slice(0, 3);
    assert.deepEqual(
      d.rows.map((r) => [r.key, r.memoryMb]),
      want,
    );
    const name = "ml_features.user_embeddings";
    const one = (await resources.compute(
      ctx(),
      { measure: "resources", subject: job(name) },
      THIS_MONTH,
    )) as ResourcesData;
    close(
      one.cpuTotal,
      sum(runs.filter((r) => r.job === name && inWindow(r, THIS_MONTH)).map((r) => r.cpuSeconds ?? 0)),
      1e-9,
    );
  });

  it("rows: a job's rows yesterday, a dataset's updates this month, and polarity for 'did it write 0 rows'", async () => {
    const name = "orders_daily.extract_orders";
    const r1 = (await rows.compute(ctx(), { measure: "rows", subject: job(name) }, YESTERDAY)) as RowsData;
    close(
      r1.total,
      sum(runs.filter((r) => r.job === name && inWindow(r, YESTERDAY)).map((r) => r.rows ?? 0)),
    );

    const updates = fleet.events.filter(
      (e): e is DatasetEvent =>
        e.type === "dataset" &&
        `${e.dataset}` === "analytics.fct_orders" &&
        e.updatedAt.getTime() >= THIS_MONTH.from.getTime() &&
        e.updatedAt.getTime() < THIS_MONTH.to.getTime(),
    );
    const ds = (await rows.compute(
      ctx(),
      { measure: "rows", subject: { kind: "dataset", name: "analytics.fct_orders" } },
      THIS_MONTH,
    )) as RowsData;
    assert.equal(ds.events, updates.length);
    close(ds.total, sum(updates.map((u) => u.rows ?? 0)));
  });

  it("last run, success and failure: the latest such run of a job, and of each job of a group", async () => {
    const latest = (xs: RunEvent[]) => xs.reduce((a, b) => (runAt(a) > runAt(b) ? a : b));
    const name = "ml_features.feature_backfill_dev";
    const failed = (await lastRun.compute(
      ctx(),
      { measure: "last_failure", subject: job(name) },
      { from: new Date(0), to: DEMO_NOW, label: "all", given: false },
    )) as LastRunData;
    const want = latest(runs.filter((r) => r.job === name && r.status === "failed"));
    assert.equal(failed.runs.length, 1);
    assert.equal(failed.runs[0]!.runAt.getTime(), runAt(want));
    assert.equal(failed.runs[0]!.error, want.error);
    // Its latest run succeeded after that failure, and the answer says so.
    assert.equal(failed.latestAny!.runAt.getTime(), runAt(latest(runs.filter((r) => r.job === name))));

    const group = (await lastRun.compute(
      ctx(),
      { measure: "last_success", subject: { kind: "group", name: "finance_close" } },
      { from: new Date(0), to: DEMO_NOW, label: "all", given: false },
    )) as LastRunData;
    const jobs = fleet.jobs.filter((j) => j.group === "finance_close").map((j) => j.job);
    assert.deepEqual(new Set(group.runs.map((r) => r.job)), new Set(jobs));
    for (const r of group.runs)
      assert.equal(
        r.runAt.getTime(),
        runAt(latest(runs.filter((x) => x.job === r.job && x.status === "success"))),
        r.job,
      );
    assert.ok(
      group.runs.every((r, i) => i === 0 || group.runs[i - 1]!.runAt >= r.runAt),
      "latest first",
    );
  });

  it("sums over many jobs from the day rollup plus raw edges equal the raw runs' sums, on a ragged window", async () => {
    const from = new Date("2026-11-18T13:30:00Z");
    const to = new Date("2026-11-22T07:15:00Z");
    for (const key of ["job", "group", "day"] as const) {
      const fast = await sumFigures(store, {}, from, to, key);
      const raw = await runFigures(store, {}, from, to, key);
      assert.equal(fast.length, raw.length, key);
      const byKey = new Map(raw.map((r) => [r.key, r]));
      for (const f of fast) {
        const r = byKey.get(f.key)!;
        assert.equal(f.runs, r.runs, `${key} ${f.key}`);
        assert.equal(f.failures, r.failures, `${key} ${f.key}`);
        close(f.costTotal, r.costTotal ?? 0);
        close(f.cpuTotal, r.cpuTotal ?? 0);
        close(f.rowsTotal, r.rowsTotal ?? 0);
        close(f.durationTotalMs, r.durationTotalMs ?? 0);
        assert.equal(f.memoryMaxMb, r.memoryMaxMb, `${key} ${f.key}`);
        assert.equal(f.durationMaxMs, r.durationMaxMs, `${key} ${f.key}`);
      }
    }
  });

  it("the router runs a measure for a frame it answers, and the answer opens with what was understood", async () => {
    const cases: [string, string, RegExp][] = [
      ["how long does gl_summary usually take", "duration", /finance_close\.gl_summary/],
      ["failure rate of gl_summary over the last 7 days", "failure-rate", /finance_close\.gl_summary/],
      ["how much did user_embeddings cost this month", "cost", /ml_features\.user_embeddings/],
      ["top 5 memory hogs yesterday", "resources", /peak/i],
      ["how many rows did extract_orders write yesterday", "rows", /orders_daily\.extract_orders/],
      ["when did feature_backfill_dev last fail", "last-run", /ml_features\.feature_backfill_dev/],
    ];
    for (const [text, family, subject] of cases) {
      const r = await askDemo(commands, store, text);
      assert.equal(r.family, family, text);
      assert.ok(r.understood, `${text}: opens with what was understood`);
      assert.match(r.understood, subject, text);
      assert.match(r.understood, /\(UTC\)$/, `${text}: the zone of the window`);
    }
  });

  it("a measure that does not apply to the subject is said so, not answered with another question", async () => {
    const r = await askDemo(commands, store, "how much did the analytics.fct_orders dataset cost this month");
    assert.equal(r.family, "not-yet");
  });
});
