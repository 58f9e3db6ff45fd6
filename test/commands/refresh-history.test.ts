// The refresh-history measure on the demo fleet: the latest updates of a dataset, their
// gaps and the usual gap, computed here from the fleet's own dataset events (not read back
// from the store); the stale dim_customers' last update is its story's.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import refreshHistory, { type RefreshHistoryData } from "../../commands/refresh-history.ts";
import type { DatasetEvent } from "../../src/ingest/events.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const ALL: MeasureWindow = { from: new Date(0), to: DEMO_NOW, label: "all", given: false };
const DAY = 86_400_000;

// Gaps are per namespace: a table kept in two warehouses (prod and staging) is two series.
function truth(name: string, shown: number) {
  const events = fleet.events.filter((e): e is DatasetEvent => e.type === "dataset" && e.dataset === name);
  const all: { at: number; gap: number | null }[] = [];
  for (const ns of new Set(events.map((e) => e.namespace))) {
    const times = events
      .filter((e) => e.namespace === ns)
      .map((e) => e.updatedAt.getTime())
      .sort((a, b) => a - b);
    times.forEach((t, i) => all.push({ at: t, gap: i ? t - times[i - 1]! : null }));
  }
  // The usual gap: between consecutive updates both within the last 30 days.
  const recent = all
    .filter(
      (x) =>
        x.at >= DEMO_NOW.getTime() - 30 * DAY &&
        x.gap !== null &&
        x.at - x.gap >= DEMO_NOW.getTime() - 30 * DAY,
    )
    .map((x) => x.gap!)
    .sort((a, b) => a - b);
  const mid = (recent.length - 1) / 2;
  const usual = (recent[Math.floor(mid)]! + recent[Math.ceil(mid)]!) / 2;
  const latest = all.sort((a, b) => b.at - a.at).slice(0, shown);
  return { latest, usual };
}

describeEachStore("the refresh-history measure on the demo fleet", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  it("the latest updates with their gaps, against the usual gap; a late one is marked", async () => {
    const name = "analytics.fct_orders";
    const t = truth(name, 10);
    const d = (await refreshHistory.compute(
      demoContext(store),
      { measure: "refresh_history", subject: { kind: "dataset", name } },
      ALL,
    )) as RefreshHistoryData;
    assert.deepEqual(
      d.updates.map((u) => [u.at.getTime(), u.gapMs]),
      t.latest.map((x) => [x.at, x.gap]),
    );
    assert.equal(d.usualGapMs, t.usual);
    for (const u of d.updates) assert.equal(u.late, u.gapMs! > t.usual * 1.5);
  });

  it("'last 3 updates of analytics.dim_customers': the stale table's last update is days old", async () => {
    const r = await askDemo(commands, store, "last 3 updates of analytics.dim_customers");
    assert.equal(r.family, "refresh-history");
    const t = truth("analytics.dim_customers", 3);
    const d = (await refreshHistory.compute(
      demoContext(store),
      {
        measure: "refresh_history",
        subject: { kind: "dataset", name: "analytics.dim_customers" },
        rank: { order: "most", n: 3 },
      },
      ALL,
    )) as RefreshHistoryData;
    assert.equal(d.updates.length, 3);
    assert.equal(d.updates[0]!.at.getTime(), t.latest[0]!.at);
    assert.equal(d.updates[0]!.at.toISOString(), "2026-11-18T03:58:01.000Z");
    assert.match(r.head, /the last 3 updates/);
  });
});
