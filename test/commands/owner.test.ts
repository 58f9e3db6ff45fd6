// The owner measure on the demo fleet: owners and channels as the fleet declares them
// (not read back from the store), a dataset without an owner answered with its producer's,
// and the router running the measure for "who owns X".
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import owner, { type OwnerData } from "../../commands/owner.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import { askDemo, DEMO_NOW, demoContext, demoFleet, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const ALL: MeasureWindow = { from: new Date(0), to: DEMO_NOW, label: "all", given: false };

describeEachStore("the owner measure on the demo fleet", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  it("a job's owner and channel are the fleet's", async () => {
    const j = fleet.jobs.find((x) => x.job === "finance_close.gl_summary")!;
    const d = (await owner.compute(
      demoContext(store),
      { measure: "owner", subject: { kind: "job", name: j.job } },
      ALL,
    )) as OwnerData;
    assert.deepEqual(
      d.jobs.map((x) => [x.job, x.owner, x.channel]),
      [[j.job, j.owner, j.slackChannel]],
    );
  });

  it("a group's owners with how many of its jobs each owns", async () => {
    const group = "ml_features";
    const want = new Map<string, number>();
    for (const j of fleet.jobs.filter((x) => x.group === group))
      want.set(j.owner, (want.get(j.owner) ?? 0) + 1);
    const d = (await owner.compute(
      demoContext(store),
      { measure: "owner", subject: { kind: "group", name: group } },
      ALL,
    )) as OwnerData;
    assert.deepEqual(new Map(d.byOwner.map((o) => [o.owner, o.jobs])), want);
    assert.equal(d.jobs.length, fleet.jobs.filter((x) => x.group === group).length);
  });

  it("a dataset without an owner of its own is answered with the job that writes it", async () => {
    const j = fleet.jobs.find((x) => x.job === "orders_daily.fct_orders")!;
    const declared = fleet.datasets.find((x) => x.name === j.output.name);
    const d = (await owner.compute(
      demoContext(store),
      { measure: "owner", subject: { kind: "dataset", name: j.output.name } },
      ALL,
    )) as OwnerData;
    const mine = d.datasets.find((x) => x.namespace === j.output.namespace);
    assert.ok(mine, `no ${j.output.namespace} ${j.output.name} in ${JSON.stringify(d.datasets)}`);
    assert.equal(mine.owner, declared?.owner ?? null);
    assert.deepEqual(mine.producer, { job: j.job, owner: j.owner });
  });

  it("a supplier's dataset says its supplier", async () => {
    const ds = fleet.datasets.find((x) => x.supplier)!;
    const d = (await owner.compute(
      demoContext(store),
      { measure: "owner", subject: { kind: "dataset", name: ds.name } },
      ALL,
    )) as OwnerData;
    assert.equal(d.datasets[0]!.supplier, ds.supplier);
    assert.equal(d.datasets[0]!.owner, ds.owner ?? null);
  });

  it("'who owns X' is answered by the owner measure, opening with what was understood", async () => {
    const r = await askDemo(commands, store, "who owns gl summary?");
    assert.equal(r.family, "owner");
    assert.equal(r.understood, "Understood: Owner of job `finance_close.gl_summary`");
    assert.match(r.head, /@finance-data/);
  });
});
