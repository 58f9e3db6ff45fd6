// The SLA and anomaly measures on the demo fleet, against its planted stories (written into
// the fleet, not read back from the store): yesterday's late start of gl_summary, the stale
// dim_customers, train_churn_model's duration anomaly and user_embeddings' CPU spike.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import anomalies, { type AnomaliesData } from "../../commands/anomalies.ts";
import sla, { type SlaAnswerData } from "../../commands/sla.ts";
import { digestPeriodOf, type MeasureWindow } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import type { Frame } from "../../src/understanding/frame.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const story = (kind: string) => fleet.stories.find((s) => s.kind === kind)!;
const YESTERDAY: MeasureWindow = {
  from: new Date("2026-11-21T00:00:00Z"),
  to: new Date("2026-11-22T00:00:00Z"),
  label: "yesterday",
  given: true,
};

it("a window is the digest's day or the 7 days ending on its last day; none is yesterday", () => {
  assert.deepEqual(digestPeriodOf(YESTERDAY, DEMO_NOW, "UTC"), { date: "2026-11-21", days: 1 });
  const week: MeasureWindow = { ...YESTERDAY, from: new Date("2026-11-16T00:00:00Z"), to: DEMO_NOW };
  assert.deepEqual(digestPeriodOf(week, DEMO_NOW, "UTC"), { date: "2026-11-22", days: 7 });
  assert.deepEqual(digestPeriodOf({ ...YESTERDAY, given: false }, DEMO_NOW, "Europe/Berlin"), {
    date: "2026-11-21",
    days: 1,
  });
});

describeEachStore("the SLA and anomaly measures on the demo fleet", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());
  const frame = (measure: Frame["measure"], subject: Frame["subject"] = { kind: "fleet" }): Frame => ({
    measure,
    subject,
  });

  it("SLA yesterday: gl_summary's 2h15m late start and the stale dim_customers break it", async () => {
    const d = (await sla.compute(demoContext(store), frame("sla"), YESTERDAY)) as SlaAnswerData;
    assert.equal(story("late_start").subject, "finance_close.gl_summary");
    const late = d.lateStarts.find((l) => l.name === "finance_close.gl_summary");
    assert.ok(late, JSON.stringify(d.lateStarts));
    // The story's "2h15m" is to the minute; the run started some seconds into it.
    assert.equal(Math.floor(late.delayMs / 60_000), 2 * 60 + 15);
    assert.ok(
      d.stale.some((s) => s.name.endsWith(story("stale_dataset").subject)),
      JSON.stringify(d.stale),
    );
    assert.equal(d.met, false);
    assert.ok(d.expected > 0 && d.ran <= d.expected);
  });

  it("SLA of one group counts only its expected runs", async () => {
    const all = (await sla.compute(demoContext(store), frame("sla"), YESTERDAY)) as SlaAnswerData;
    const fin = (await sla.compute(
      demoContext(store),
      frame("sla", { kind: "group", name: "finance_close" }),
      YESTERDAY,
    )) as SlaAnswerData;
    assert.ok(fin.expected > 0 && fin.expected < all.expected);
    assert.ok(fin.lateStarts.every((l) => l.name.startsWith("finance_close.")));
  });

  it("'did we meet our data SLAs yesterday' says No, for the reasons", async () => {
    const r = await askDemo(commands, store, "did we meet our data SLAs yesterday?");
    assert.equal(r.family, "sla");
    assert.match(r.head, /^No — SLAs missed/);
  });

  it("anomalies yesterday: train_churn_model's duration is the only duration anomaly, user_embeddings' cpu is one", async () => {
    const d = (await anomalies.compute(demoContext(store), frame("anomalies"), YESTERDAY)) as AnomaliesData;
    const duration = d.anomalies.filter((a) => a.metric === "duration");
    assert.deepEqual(
      duration.map((a) => [a.name, a.day]),
      [[story("duration_anomaly").subject, story("duration_anomaly").day]],
    );
    assert.ok(
      d.anomalies.some((a) => a.name === story("cost_spike").subject && a.metric === "cpu"),
      JSON.stringify(d.anomalies.map((a) => [a.name, a.metric])),
    );
  });

  it("anomalies of one job are its own; 'anything unusual with X' asks for them", async () => {
    const job = story("cost_spike").subject;
    const d = (await anomalies.compute(
      demoContext(store),
      frame("anomalies", { kind: "job", name: job }),
      YESTERDAY,
    )) as AnomaliesData;
    assert.ok(d.anomalies.length > 0);
    assert.ok(d.anomalies.every((a) => a.name === job));
    const r = await askDemo(commands, store, "anything unusual with user embeddings yesterday?");
    assert.equal(r.family, "anomalies");
    assert.match(r.head, /^Yes — \d+ anomal/);
  });
});
