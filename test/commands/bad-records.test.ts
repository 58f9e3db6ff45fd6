// The bad-records measure: figures computed from the events written here (not read back
// from the store), for a job, a group ranked by job, a dataset, and runs that never report.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import badRecords, { type BadRecordsData } from "../../commands/bad-records.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { DatasetEvent, RunEvent } from "../../src/ingest/events.ts";
import { ask } from "../../src/questions/router.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import type { Frame } from "../../src/understanding/frame.ts";
import { answerBody } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const now = new Date("2026-03-10T12:00:00Z");
const WEEK: MeasureWindow = {
  from: new Date("2026-03-03T12:00:00Z"),
  to: now,
  label: "the last 7 days",
  given: true,
};

// Three jobs of one group over five days: load_a and load_b report, load_c never does.
const runs: RunEvent[] = [];
for (let day = 5; day <= 9; day++)
  for (const [job, bad, rows] of [
    ["load_a", day * 10, 1000],
    ["load_b", day === 9 ? 500 : 0, 2000],
    ["load_c", undefined, 3000],
  ] as const) {
    const startedAt = new Date(`2026-03-0${day}T02:00:00Z`);
    runs.push({
      type: "run",
      namespace: "etl",
      job: `vendors.${job}`,
      group: "vendors",
      runId: `${job}-${day}`,
      status: "success",
      startedAt,
      endedAt: new Date(startedAt.getTime() + 60_000),
      rows,
      ...(bad === undefined ? {} : { badRecords: bad }),
      eventTime: new Date(startedAt.getTime() + 60_000),
    });
  }
const updates: DatasetEvent[] = [5, 6, 7].map((day) => ({
  type: "dataset",
  namespace: "s3://landing",
  dataset: "vendor/orders",
  updatedAt: new Date(`2026-03-0${day}T05:00:00Z`),
  rows: 100,
  badRecords: day,
}));

const inWeek = (r: RunEvent) => r.startedAt! >= WEEK.from && r.startedAt! < WEEK.to;
const truth = (job: string) => {
  const mine = runs.filter((r) => r.job === job && inWeek(r) && r.badRecords !== undefined);
  const bad = mine.reduce((a, r) => a + r.badRecords!, 0);
  const rows = mine.reduce((a, r) => a + r.rows!, 0);
  return { bad, rows, reporting: mine.length };
};

describeEachStore("the bad-records measure", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openTestStore(kind);
    commands = await loadCommands();
    await new Ingestor(store).apply([...runs, ...updates], { rollup: "wait" });
  });
  after(() => store.dispose());
  const ctx = () => ({ store, now, timezone: "UTC" });
  const compute = async (frame: Frame) => (await badRecords.compute(ctx(), frame, WEEK)) as BadRecordsData;

  it("one job: the records it rejected over the window and the rate against what it saw", async () => {
    const t = truth("vendors.load_a");
    const d = await compute({ measure: "bad_records", subject: { kind: "job", name: "vendors.load_a" } });
    assert.equal(d.whole.bad, t.bad);
    assert.equal(d.whole.reporting, t.reporting);
    assert.equal(d.whole.lastBad, 90);
    assert.ok(Math.abs(d.rate! - t.bad / (t.rows + t.bad)) < 1e-12);
  });

  it("a group ranked by job: only jobs that report, most rejected first", async () => {
    const d = await compute({ measure: "bad_records", subject: { kind: "group", name: "vendors" } });
    const want = ["vendors.load_b", "vendors.load_a"]
      .map((job) => ({ job, bad: truth(job).bad }))
      .sort((a, b) => b.bad - a.bad);
    assert.deepEqual(
      d.rows.map((r) => [r.key, r.bad]),
      want.map((w) => [w.job, w.bad]),
    );
    assert.equal(d.whole.bad, truth("vendors.load_a").bad + truth("vendors.load_b").bad);
  });

  it("a job that never reports has no rate, not a rate of zero", async () => {
    const d = await compute({ measure: "bad_records", subject: { kind: "job", name: "vendors.load_c" } });
    assert.equal(d.whole.reporting, 0);
    assert.equal(d.rate, null);
    assert.ok(d.whole.runs > 0);
  });

  it("a dataset: the bad records its updates reported", async () => {
    const d = await compute({ measure: "bad_records", subject: { kind: "dataset", name: "vendor/orders" } });
    const inW = updates.filter((u) => u.updatedAt >= WEEK.from && u.updatedAt < WEEK.to);
    assert.equal(
      d.whole.bad,
      inW.reduce((a, u) => a + u.badRecords!, 0),
    );
    assert.equal(d.whole.reporting, inW.length);
  });

  it("'how many bad records did X reject yesterday' is answered by the measure", async () => {
    const r = await ask(commands, ctx(), "how many bad records did vendors.load_b reject yesterday");
    assert.equal(r.family, "bad-records");
    assert.match(answerBody(r.answer).split("\n")[0]!, /rejected 500 records/);
  });
});
