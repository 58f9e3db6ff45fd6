import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import {
  downstream,
  impact,
  type LineageNode,
  type LineageWalk,
  MAX_LINEAGE_DEPTH,
  upstream,
} from "../../src/db/queries/lineage.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { RunEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

interface Edge {
  job: string;
  direction: "read" | "write";
  dataset: string;
}

/** A seeded graph: 24 jobs and 40 datasets with random reads and writes, cycles included. */
function randomGraph(): Edge[] {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const edges = new Map<string, Edge>();
  for (let j = 0; j < 24; j++) {
    const job = `job_${j}`;
    for (const direction of ["read", "write"] as const) {
      const n = 1 + Math.floor(next() * 3);
      for (let k = 0; k < n; k++) {
        const dataset = `ds_${Math.floor(next() * 40)}`;
        edges.set(`${job} ${direction} ${dataset}`, { job, direction, dataset });
      }
    }
  }
  return [...edges.values()];
}

/** The cycle a → x → b → y → c → x, and a dataset only read (raw.only_read). */
const CYCLE: Edge[] = [
  { job: "a", direction: "write", dataset: "x" },
  { job: "b", direction: "read", dataset: "x" },
  { job: "b", direction: "write", dataset: "y" },
  { job: "c", direction: "read", dataset: "y" },
  { job: "c", direction: "write", dataset: "x" },
  { job: "c", direction: "read", dataset: "raw.only_read" },
];

type Dir = "upstream" | "downstream";
type Start = { job: string } | { dataset: string };

/** Breadth-first over the edge list, in plain code: each node at its smallest depth. */
function bfs(edges: Edge[], start: Start, dir: Dir, maxDepth: number) {
  const into = dir === "upstream" ? "write" : "read";
  const out = dir === "upstream" ? "read" : "write";
  const seen = new Map<string, number>();
  const key = (kind: string, name: string) => `${kind} ${name}`;
  let frontier: string[] = "job" in start ? [key("job", start.job)] : [key("dataset", start.dataset)];
  seen.set(frontier[0]!, 0);
  let beyond = false;
  for (let depth = 1; frontier.length && depth <= maxDepth + 1; depth++) {
    const next = new Set<string>();
    for (const node of frontier) {
      const [kind, name] = [node.slice(0, node.indexOf(" ")), node.slice(node.indexOf(" ") + 1)];
      for (const e of edges) {
        const to =
          kind === "dataset" && e.dataset === name && e.direction === into
            ? key("job", e.job)
            : kind === "job" && e.job === name && e.direction === out
              ? key("dataset", e.dataset)
              : undefined;
        if (to && !seen.has(to)) next.add(to);
      }
    }
    if (depth > maxDepth) {
      beyond = next.size > 0;
      break;
    }
    for (const n of next) seen.set(n, depth);
    frontier = [...next];
  }
  seen.delete("job" in start ? key("job", start.job) : key("dataset", start.dataset));
  return { nodes: [...seen].map(([k, d]) => `${d} ${k}`).sort(), beyond };
}

const got = (w: LineageWalk) => w.nodes.map((n) => `${n.depth} ${n.kind} ${n.name}`).sort();

/** Each node's via is one edge nearer the start and linked to it in the walk's direction. */
function checkVia(edges: Edge[], w: LineageWalk, start: Start, dir: Dir): void {
  const depthOf = new Map(w.nodes.map((n) => [`${n.kind} ${n.name}`, n.depth]));
  const startName = "job" in start ? start.job : start.dataset;
  for (const n of w.nodes) {
    if (n.depth === 1) {
      assert.equal(n.via, startName, `${n.name} at depth 1`);
      continue;
    }
    const viaKind = n.kind === "job" ? "dataset" : "job";
    assert.equal(depthOf.get(`${viaKind} ${n.via}`), n.depth - 1, `${n.name} via ${n.via}`);
    const linked = edges.some((e) =>
      n.kind === "job"
        ? e.job === n.name && e.dataset === n.via && e.direction === (dir === "upstream" ? "write" : "read")
        : e.dataset === n.name && e.job === n.via && e.direction === (dir === "upstream" ? "read" : "write"),
    );
    assert.ok(linked, `${n.via} → ${n.name} is an edge`);
  }
}

function runsOf(edges: Edge[], namespace = "default"): RunEvent[] {
  const jobs = [...new Set(edges.map((e) => e.job))];
  return jobs.map((job, i) => ({
    type: "run",
    namespace,
    job,
    runId: `${namespace}-${job}`,
    status: "success",
    endedAt: new Date(Date.UTC(2026, 10, 21, 0, i)),
    eventTime: new Date(Date.UTC(2026, 10, 21, 0, i)),
    inputs: edges
      .filter((e) => e.job === job && e.direction === "read")
      .map((e) => ({ namespace: "default", name: e.dataset })),
    outputs: edges
      .filter((e) => e.job === job && e.direction === "write")
      .map((e) => ({ namespace: "default", name: e.dataset })),
  }));
}

describeEachStore("lineage queries", (kind) => {
  let store: TestStore;
  const graph = randomGraph();
  const all = [...graph, ...CYCLE];
  before(async () => {
    store = await openTestStore(kind);
    await new Ingestor(store).apply(runsOf(all));
  });
  after(() => store.dispose());

  it("walks up and down from every job and dataset to every depth as a plain breadth-first search does", async () => {
    const datasets = [...new Set(graph.map((e) => e.dataset))];
    const jobs = [...new Set(graph.map((e) => e.job))];
    const starts: Start[] = [...datasets.map((dataset) => ({ dataset })), ...jobs.map((job) => ({ job }))];
    let compared = 0;
    for (const start of starts) {
      for (const dir of ["upstream", "downstream"] as const) {
        for (const depth of [1, 2, 3, 5, 8]) {
          const w = await (dir === "upstream" ? upstream : downstream)(store, start, { depth });
          const want = bfs(all, start, dir, depth);
          const what = `${dir} of ${JSON.stringify(start)} to depth ${depth}`;
          assert.deepEqual(got(w), want.nodes, what);
          assert.equal(w.truncated, want.beyond, `${what}: truncated`);
          checkVia(all, w, start, dir);
          compared += w.nodes.length;
        }
      }
    }
    assert.ok(compared > 1000, `the graph is not trivially small (${compared} nodes compared)`);
  });

  it("counts the start's edges each way, so 'no known edges' is told apart from 'nothing found'", async () => {
    const known = await upstream(store, { dataset: "raw.only_read" });
    assert.deepEqual(known.startEdges, { read: 1, write: 0 });
    assert.deepEqual(known.nodes, [], "no known writer");
    const unknown = await downstream(store, { dataset: "never.seen" });
    assert.deepEqual(unknown.startEdges, { read: 0, write: 0 });
    assert.deepEqual(unknown.nodes, []);
    const job = await upstream(store, { job: "c" });
    assert.deepEqual(job.startEdges, { read: 2, write: 1 });
    const noJob = await downstream(store, { job: "no_such_job" });
    assert.deepEqual(noJob.start, { kind: "job", jobIds: [] });
    assert.deepEqual(noJob.startEdges, { read: 0, write: 0 });
  });

  it("stops a cycle where it closes (a → x → b → y → c → x) and names what each node was reached through", async () => {
    const w = await downstream(store, { dataset: "x" }, { depth: MAX_LINEAGE_DEPTH });
    assert.deepEqual(
      w.nodes.map((n: LineageNode) => `${n.depth} ${n.kind} ${n.name} via ${n.via}`),
      ["1 job b via x", "2 dataset y via b", "3 job c via y"],
    );
    assert.equal(w.truncated, false);
    const up = await upstream(store, { dataset: "x" }, { depth: 2 });
    assert.deepEqual(
      up.nodes.map((n) => `${n.depth} ${n.kind} ${n.name}`),
      ["1 job a", "1 job c", "2 dataset raw.only_read", "2 dataset y"],
    );
    assert.equal(up.truncated, true, "b writes y, one edge beyond depth 2");
  });

  it("lists the impact of a dataset: every job and dataset downstream, as the search finds them", async () => {
    for (const dataset of ["ds_0", "ds_7", "ds_19", "x"]) {
      const i = await impact(store, dataset);
      const want = bfs(all, { dataset }, "downstream", MAX_LINEAGE_DEPTH).nodes;
      assert.deepEqual(
        [...i.jobs, ...i.datasets].map((n) => `${n.depth} ${n.kind} ${n.name}`).sort(),
        want,
        dataset,
      );
      assert.ok(i.jobs.every((n) => n.kind === "job") && i.datasets.every((n) => n.kind === "dataset"));
    }
  });

  it("refuses a depth outside 1 to the maximum", async () => {
    for (const depth of [0, -1, 2.5, MAX_LINEAGE_DEPTH + 1])
      await assert.rejects(upstream(store, { dataset: "x" }, { depth }), RangeError, String(depth));
  });
});

describeEachStore("lineage queries over namespaces", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore(kind);
    await new Ingestor(store).apply([
      ...runsOf([{ job: "load", direction: "write", dataset: "orders" }], "prod"),
      ...runsOf([{ job: "load", direction: "write", dataset: "orders_staging" }], "staging"),
    ]);
  });
  after(() => store.dispose());

  it("starts from a job's name in every namespace unless one is given", async () => {
    const both = await downstream(store, { job: "load" });
    assert.deepEqual(got(both), ["1 dataset orders", "1 dataset orders_staging"]);
    const prod = await downstream(store, { job: "load", namespace: "prod" });
    assert.deepEqual(got(prod), ["1 dataset orders"]);
    const reader = await upstream(store, { dataset: "orders" });
    assert.deepEqual(
      reader.nodes.map((n) => [n.kind, n.namespace, n.name]),
      [["job", "prod", "load"]],
    );
  });
});
