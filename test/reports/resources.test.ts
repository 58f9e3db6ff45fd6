import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import resources, { computeResources, type ResourceData } from "../../reports/resources.ts";
import { flushAllRollups } from "../../src/db/rollup.ts";
import { digestToTerminal } from "../../src/digests/common.ts";
import type { DigestRequest } from "../../src/digests/types.ts";
import type { HoustonEvent } from "../../src/ingest/events.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";
import { daysBefore, demoRequest, median, truth } from "./truth.ts";

const DAY = "2026-11-21";
const fleet = demoFleet();
const T = truth(fleet);
const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

describeEachStore("resource digest on the demo fleet", (kind) => {
  let store: TestStore;
  let data: ResourceData;
  const req = (over: Partial<DigestRequest> = {}) => demoRequest(store, over);
  before(async () => {
    store = await openDemoStore(kind);
    data = await computeResources(req());
  });
  after(() => store.dispose());

  it("totals cost, cpu and peak memory of the day, the day before and the same day last week", () => {
    const t = T.usage(DAY);
    close(data.total.cost, t.cost);
    close(data.total.cpu, t.cpu, 1e-3);
    close(data.total.memMb, t.memMb);
    close(data.total.previous.cost, T.usage("2026-11-20").cost);
    close(data.total.weekAgo!.cost, T.usage("2026-11-14").cost);
  });

  it("ranks user_embeddings first and flags its cost spike, and only that one", () => {
    const top = data.jobs[0]!;
    assert.equal(top.name, "ml_features.user_embeddings");
    close(top.cost, T.jobUsage(top.name, DAY));
    assert.deepEqual(
      data.jobs.filter((j) => j.spike).map((j) => j.name),
      ["ml_features.user_embeddings"],
    );
    const usual = median(daysBefore(DAY, 14).map((d) => T.jobUsage(top.name, d)));
    close(top.spike!.median!, usual);
    assert.ok(top.cost / usual > 5);
    assert.equal(top.owner, "@ml-platform");
  });

  it("totals per group, owner and environment that add up to the whole", () => {
    const sum = (xs: { cost: number }[]) => xs.reduce((a, b) => a + b.cost, 0);
    close(sum(data.groups), data.total.cost);
    close(sum(data.owners), data.total.cost);
    close(sum(data.environments), data.total.cost);
    close(
      data.groups.find((g) => g.key === "ml_features")!.cost,
      T.usage(DAY, { group: "ml_features" }).cost,
    );
    close(data.environments.find((g) => g.key === "prod")!.cost, T.usage(DAY, { environment: "prod" }).cost);
    assert.equal(data.groups[0]!.key, "ml_features");
  });

  it("narrows to an environment or a group", async () => {
    const prod = await computeResources(req({ environment: "prod" }));
    close(prod.total.cost, T.usage(DAY, { environment: "prod" }).cost);
    assert.ok(prod.jobs.every((j) => j.environment === "prod"));
    assert.deepEqual(
      prod.environments.map((e) => e.key),
      ["prod"],
    );
    const fin = await computeResources(req({ group: "finance_close" }));
    close(fin.total.cost, T.usage(DAY, { group: "finance_close" }).cost);
    assert.ok(fin.jobs.every((j) => j.group === "finance_close"));
    assert.ok(!fin.jobs.some((j) => j.spike));
  });

  it("compares a week with the week before", async () => {
    const w = await computeResources(req({ days: 7 }));
    const week = ["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", DAY];
    close(
      w.total.cost,
      week.reduce((a, d) => a + T.usage(d).cost, 0),
    );
    close(
      w.total.previous.cost,
      daysBefore("2026-11-15", 7).reduce((a, d) => a + T.usage(d).cost, 0),
    );
    assert.equal(w.total.weekAgo, undefined);
  });

  it("finds no 30-day cost growth in a fleet whose costs are flat apart from one spike", () => {
    // Medians of the first and last 7 days: one spike day is not growth.
    assert.deepEqual(data.growth, []);
  });

  it("renders the top consumers with changes, the spike and a bar chart", async () => {
    const d = await resources.build(req({ chart: true }));
    const out = digestToTerminal(d);
    assert.match(
      out.split("\n")[2]!,
      /^\$\d+\.\d\d and [\d.]+[KM] cpu-seconds across \d+ jobs \([+−]\d+% d\/d, [+−]\d+% w\/w\); top consumer `ml_features\.user_embeddings`/,
    );
    assert.match(
      out,
      /Cost spikes\n• `ml_features\.user_embeddings` \$\d+\.\d\d, usual \$\d\.\d\d \(median of 14 days\), \d+σ — @ml-platform/,
    );
    assert.match(out, /Top consumers\n• `ml_features\.user_embeddings` .*:warning: spike — @ml-platform/);
    assert.match(out, /and \d+ more/);
    assert.ok(d.blocks.length <= 50);
    assert.ok(d.chart);
    assert.match(d.chart.title, /^Top 10 consumers by cost/);
  });
});

describeEachStore("resource digest with no data", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(() => store.dispose());

  it("says so in one line", async () => {
    const d = await resources.build({ store, date: DAY, days: 1, timezone: "UTC", chart: true });
    assert.equal(d.empty, true);
    assert.equal(d.chart, undefined);
    assert.equal(
      digestToTerminal(d),
      "Resource usage digest — Sat 21 Nov 2026 (UTC) — Nothing to report: no run recorded cpu, memory or cost in Sat 21 Nov 2026.",
    );
  });
});

describeEachStore("resource digest: 30-day cost growth", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
    // 30 days ending 2026-11-21: grow.up's cost climbs from $1.00 by $0.05 a day, grow.flat
    // stays at $3 with a one-day spike to $9 on the last day.
    const events: HoustonEvent[] = [];
    for (let i = 0; i < 30; i++) {
      const start = Date.parse("2026-10-23T06:00:00Z") + i * 86_400_000;
      for (const [job, cost] of [
        ["grow.up", 1 + 0.05 * i],
        ["grow.flat", i === 29 ? 9 : 3],
      ] as const) {
        events.push({
          type: "run",
          id: `${job}:${i}`,
          namespace: "g",
          job,
          runId: `${job}:${i}`,
          status: "success",
          startedAt: new Date(start),
          endedAt: new Date(start + 600_000),
          group: "growth",
          environment: "prod",
          cost,
          cpuSeconds: 600,
          memoryMb: 512,
          eventTime: new Date(start + 600_000),
        });
      }
    }
    await new Ingestor(store).applyOnly(events);
    await flushAllRollups(store);
  });
  after(() => store.dispose());

  it("names the job whose median daily cost grew, not the one with a single spike", async () => {
    const d = await computeResources({ store, date: DAY, days: 1, timezone: "UTC", chart: false });
    // First week: days 0–6, median day 3 → $1.15; last week: days 23–29, median day 26 → $2.30.
    assert.deepEqual(
      d.growth.map((g) => g.name),
      ["grow.up"],
    );
    close(d.growth[0]!.early, 1.15);
    close(d.growth[0]!.recent, 2.3);
    close(d.growth[0]!.ratio, 2);
    assert.deepEqual(
      d.jobs.filter((j) => j.spike).map((j) => j.name),
      ["grow.flat"],
    );
    const out = digestToTerminal(
      await resources.build({ store, date: DAY, days: 1, timezone: "UTC", chart: false }),
    );
    assert.match(
      out,
      /Fastest cost growth over 30 days\n• `grow\.up` \+100%: median \$1\.15\/day in the first week → \$2\.30\/day in the last/,
    );
  });
});

describeEachStore("resource digest: bad records", (kind) => {
  let store: TestStore;
  // 2026-11-21 (the digest's day) and the day before: jobs with costs and rejected records,
  // a job that rejected records but reported no cost, and datasets whose updates rejected some.
  const runs: [string, string, number | undefined, number][] = [
    // job, day, bad_records, cost
    ["acme.load_settlements", "2026-11-21", 120, 1],
    ["acme.load_settlements", "2026-11-21", 30, 1],
    ["acme.load_settlements", "2026-11-20", 50, 1],
    ["orders.clean", "2026-11-21", undefined, 2],
    ["orders.parse", "2026-11-21", 7, 0],
  ];
  before(async () => {
    store = await openTestStore(kind);
    const events: HoustonEvent[] = runs.map(([job, day, bad, cost], i) => ({
      type: "run",
      namespace: "default",
      job,
      runId: `r${i}`,
      status: "success",
      startedAt: new Date(`${day}T0${i}:00:00Z`),
      endedAt: new Date(`${day}T0${i}:30:00Z`),
      eventTime: new Date(`${day}T0${i}:30:00Z`),
      owner: "@payments",
      ...(cost ? { cost } : {}),
      ...(bad !== undefined ? { badRecords: bad } : {}),
    }));
    events.push(
      {
        type: "dataset",
        namespace: "s3://landing",
        dataset: "acme/settlements.csv",
        updatedAt: new Date("2026-11-21T01:00:00Z"),
        badRecords: 40,
      },
      {
        type: "dataset",
        namespace: "s3://landing",
        dataset: "acme/settlements.csv",
        updatedAt: new Date("2026-11-21T13:00:00Z"),
        badRecords: 2,
      },
      {
        type: "dataset",
        namespace: "default",
        dataset: "orders",
        updatedAt: new Date("2026-11-21T02:00:00Z"),
        badRecords: 0,
      },
      // The day before: not in the digest's day.
      {
        type: "dataset",
        namespace: "default",
        dataset: "orders",
        updatedAt: new Date("2026-11-20T02:00:00Z"),
        badRecords: 9,
      },
    );
    await new Ingestor(store).apply(events);
  });
  after(() => store.dispose());

  const req = (): DigestRequest => ({ store, date: DAY, days: 1, timezone: "UTC", chart: false });

  it("sums the runs' bad records of the day per job and for the whole, and the day before for comparison", async () => {
    const d = await computeResources(req());
    assert.equal(d.total.badRecords, 120 + 30 + 7);
    assert.equal(d.total.previous.badRecords, 50);
    assert.deepEqual(
      d.badJobs.map((j) => [j.name, j.badRecords, j.previous]),
      [
        ["acme.load_settlements", 150, 50],
        ["orders.parse", 7, 0],
      ],
    );
    assert.deepEqual(
      d.badDatasets.map((x) => [x.namespace, x.name, x.badRecords, x.updates]),
      [["s3://landing", "acme/settlements.csv", 42, 2]],
    );
  });

  it("shows bad records as figures and lists, with the job that reported no cost among them", async () => {
    const out = digestToTerminal(await resources.build(req()));
    assert.match(out, /; 157 bad records in runs, 42 in dataset updates\./);
    assert.match(out, /Bad records \(runs\): 157/);
    assert.match(out, /Bad records \(dataset updates\): 42/);
    assert.match(
      out,
      /Bad records\n• `acme\.load_settlements` 150 \(\+200% d\/d\) — @payments\n• `orders\.parse` 7/,
    );
    assert.match(out, /Bad records by dataset\n• `s3:\/\/landing\/acme\/settlements\.csv` 42 in 2 updates/);
    assert.match(
      out,
      /Top consumers\n• `acme\.load_settlements` \$2\.00 .* · 150 bad records .*\n• `orders\.clean` \$2\.00 [^\n]*peak 0 MB +▄/,
    );
  });

  it("shows no bad-records figure where there were none", async () => {
    const out = digestToTerminal(await resources.build({ ...req(), date: "2026-11-19" }));
    assert.doesNotMatch(out, /bad records/i);
  });
});
