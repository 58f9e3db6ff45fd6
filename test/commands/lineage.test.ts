// The lineage measure over a graph written here by run events' inputs and outputs: upstream
// and downstream of jobs and datasets, compared with a walk of the same edges done here;
// a dbt-style warehouse name meeting a native one; and unknown said as unknown.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import lineage, { type LineageData } from "../../commands/lineage.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { DEFAULT_NAMESPACE, type DatasetName, type RunEvent } from "../../src/ingest/events.ts";
import type { MeasureWindow } from "../../src/questions/measure.ts";
import { ask } from "../../src/questions/router.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import type { Frame } from "../../src/understanding/frame.ts";
import { answerBody } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const now = new Date("2026-03-10T12:00:00Z");
const ALL: MeasureWindow = { from: new Date(0), to: now, label: "all", given: false };
const plain = (name: string): DatasetName => ({ namespace: DEFAULT_NAMESPACE, name });

// extract → raw.orders → transform → analytics.fct_orders → report → bi.kpis
//                                   analytics.fct_orders → dashboard (read by dbt's name for it)
const GRAPH: { job: string; inputs: DatasetName[]; outputs: DatasetName[] }[] = [
  { job: "shop.extract", inputs: [], outputs: [plain("raw.orders")] },
  { job: "shop.transform", inputs: [plain("raw.orders")], outputs: [plain("analytics.fct_orders")] },
  { job: "shop.report", inputs: [plain("analytics.fct_orders")], outputs: [plain("bi.kpis")] },
  {
    job: "shop.dashboard",
    inputs: [{ namespace: "postgres://warehouse:5432", name: "shop.analytics.fct_orders" }],
    outputs: [],
  },
];
const runs: RunEvent[] = GRAPH.map((g, i) => ({
  type: "run",
  namespace: "etl",
  job: g.job,
  runId: `r${i}`,
  status: "success",
  startedAt: new Date(`2026-03-09T0${i}:00:00Z`),
  endedAt: new Date(`2026-03-09T0${i}:30:00Z`),
  inputs: g.inputs,
  outputs: g.outputs,
  eventTime: new Date(`2026-03-09T0${i}:30:00Z`),
}));
// The tables by the one name both producers meet at (schema.table).
const node = (d: DatasetName) => d.name.split(".").slice(-2).join(".");

/** The same walk, done here over GRAPH: every job and dataset within `depth` edges. */
function walk(start: { job?: string; dataset?: string }, dir: "up" | "down", depth = 5): string[] {
  const out = new Map<string, number>();
  let frontier: string[] = start.job ? [`job:${start.job}`] : [`dataset:${start.dataset}`];
  for (let d = 1; d <= depth && frontier.length; d++) {
    const next: string[] = [];
    for (const f of frontier) {
      const [kind, name] = f.split(/:(.*)/) as [string, string];
      for (const g of GRAPH) {
        const ins = g.inputs.map(node);
        const outs = g.outputs.map(node);
        if (kind === "job" && g.job === name)
          for (const ds of dir === "up" ? ins : outs) next.push(`dataset:${ds}`);
        if (kind === "dataset" && (dir === "up" ? outs : ins).includes(name)) next.push(`job:${g.job}`);
      }
    }
    frontier = [...new Set(next)].filter(
      (n) => !out.has(n) && n !== `job:${start.job}` && n !== `dataset:${start.dataset}`,
    );
    for (const n of frontier) out.set(n, d);
  }
  return [...out].map(([n, d]) => `${d} ${n}`).sort();
}
const got = (d: LineageData) => d.nodes.map((n) => `${n.depth} ${n.kind}:${n.name}`).sort();

describeEachStore("the lineage measure", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openTestStore(kind);
    commands = await loadCommands();
    await new Ingestor(store).apply(runs, { rollup: "wait" });
  });
  after(() => store.dispose());
  const ctx = () => ({ store, now, timezone: "UTC" });
  const compute = async (frame: Frame) => (await lineage.compute(ctx(), frame, ALL)) as LineageData;

  it("upstream of a job: what it reads, who wrote that, and so on", async () => {
    const d = await compute({ measure: "upstream", subject: { kind: "job", name: "shop.report" } });
    assert.deepEqual(got(d), walk({ job: "shop.report" }, "up"));
    assert.ok(got(d).length >= 3);
  });

  it("downstream of a dataset — its impact — reaches the dashboard that reads it by dbt's name", async () => {
    const d = await compute({ measure: "downstream", subject: { kind: "dataset", name: "raw.orders" } });
    assert.deepEqual(got(d), walk({ dataset: "raw.orders" }, "down"));
    assert.ok(got(d).includes("3 job:shop.dashboard"));
  });

  it("a dataset nothing is known about says so, and one without readers says 'no known readers'", async () => {
    const none = await compute({ measure: "downstream", subject: { kind: "dataset", name: "bi.unknown" } });
    assert.deepEqual(none.startEdges, { read: 0, write: 0 });
    const r = await ask(commands, ctx(), "what reads bi.kpis");
    assert.equal(r.family, "lineage");
    assert.match(answerBody(r.answer).split("\n")[0]!, /no known readers/);
  });

  it("'what will break if analytics.fct_orders is late' lists what is downstream", async () => {
    const r = await ask(commands, ctx(), "what will break if analytics.fct_orders is late");
    assert.equal(r.family, "lineage");
    const body = answerBody(r.answer);
    for (const n of walk({ dataset: "analytics.fct_orders" }, "down"))
      assert.ok(body.includes(n.split(":")[1]!), n);
  });
});
