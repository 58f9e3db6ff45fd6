// Lineage benchmark: a graph of 50,000 job → dataset edges over the loaded fleet's jobs,
// then the latency of upstream and downstream walks to depth 5 from random datasets and
// jobs (src/db/queries/lineage.ts). Run by `npm run bench` (step lineage-graph).
//
// The graph: the jobs in 10 layers; each job writes its own datasets and reads datasets
// written by jobs of earlier layers (mostly the layer just before), so a walk from the
// middle of the graph keeps finding nodes for 5 edges; 1 % of reads go to a later layer,
// which makes cycles. Datasets are named `bench_lineage/ds_<n>` (the namespace bench_lineage
// keeps them apart from anything else): each run first deletes the edges of earlier runs.
import { sql } from "drizzle-orm";
import type { Store } from "../src/db/client.ts";
import { downstream, type LineageStart, upstream } from "../src/db/queries/lineage.ts";
import { jsonChunks } from "../src/db/sql.ts";
import { Rng } from "./generate.ts";

export const BENCH_LINEAGE_NAMESPACE = "bench_lineage";
const LAYERS = 10;

export interface LineageGraph {
  edges: number;
  reads: number;
  writes: number;
  datasets: string[];
  jobIds: number[];
  ms: number;
}

/** Replaces the bench's edges with `edges` new ones (half reads, half writes) over `jobIds`. */
export async function seedLineageGraph(store: Store, jobIds: number[], edges: number): Promise<LineageGraph> {
  const t0 = performance.now();
  await store.query(sql`DELETE FROM lineage_edges WHERE dataset LIKE ${`${BENCH_LINEAGE_NAMESPACE}/%`}`);
  const rng = new Rng(23);
  const perJob = Math.max(1, Math.round(edges / 2 / jobIds.length));
  const layerOf = (i: number) => Math.floor((i * LAYERS) / jobIds.length);
  // Each job's outputs, by layer.
  const outputs: string[][] = Array.from({ length: LAYERS }, () => []);
  const rows: { job_id: number; direction: "read" | "write"; dataset: string; at: string }[] = [];
  const at = new Date().toISOString();
  let n = 0;
  jobIds.forEach((jobId, i) => {
    for (let k = 0; k < perJob && rows.length < edges; k++) {
      const ds = `${BENCH_LINEAGE_NAMESPACE}/ds_${n++}`;
      outputs[layerOf(i)]!.push(ds);
      rows.push({ job_id: jobId, direction: "write", dataset: ds, at });
    }
  });
  const sources = Array.from({ length: perJob * 50 }, (_, k) => `${BENCH_LINEAGE_NAMESPACE}/source_${k}`);
  jobIds.forEach((jobId, i) => {
    const layer = layerOf(i);
    const seen = new Set<string>();
    // perJob distinct inputs (a pick already made is drawn again, a bounded number of times).
    for (let tries = 0; seen.size < perJob && rows.length < edges && tries < perJob * 20; tries++) {
      const r = rng.next();
      const from =
        layer === 0
          ? sources
          : r < 0.01 && layer < LAYERS - 1
            ? outputs[layer + 1]!
            : r < 0.8
              ? outputs[layer - 1]!
              : outputs[rng.int(layer)]!;
      const ds = rng.pick(from);
      if (seen.has(ds)) continue;
      seen.add(ds);
      rows.push({ job_id: jobId, direction: "read", dataset: ds, at });
    }
  });
  for (const chunk of jsonChunks(rows)) {
    await store.query(
      sql`INSERT INTO lineage_edges (job_id, direction, dataset, first_seen, last_seen)
          SELECT job_id, direction, dataset, at, at
          FROM jsonb_to_recordset(${chunk.param}) AS x(job_id int, direction text, dataset text, at timestamptz)
          ON CONFLICT DO NOTHING`,
    );
  }
  await store.query(sql`ANALYZE lineage_edges`);
  const [c] = await store.query<{ reads: number; writes: number }>(
    sql`SELECT count(*) FILTER (WHERE direction = 'read')::int AS reads,
          count(*) FILTER (WHERE direction = 'write')::int AS writes
        FROM lineage_edges WHERE dataset LIKE ${`${BENCH_LINEAGE_NAMESPACE}/%`}`,
  );
  return {
    edges: Number(c!.reads) + Number(c!.writes),
    reads: Number(c!.reads),
    writes: Number(c!.writes),
    datasets: outputs.flat(),
    jobIds,
    ms: performance.now() - t0,
  };
}

export interface WalkFigure {
  name: string;
  p50: number;
  p99: number;
  max: number;
  /** Mean nodes a walk returned (so the figure is not of empty walks). */
  meanNodes: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** Upstream and downstream, depth 5, from random datasets and jobs of the graph: `calls` each after 50 warm-ups. */
export async function walkLatencies(
  store: Store,
  graph: LineageGraph,
  jobNames: Map<number, { namespace: string; name: string }>,
  calls: number,
): Promise<WalkFigure[]> {
  const rng = new Rng(29);
  const anyDataset = (): LineageStart => ({ dataset: rng.pick(graph.datasets) });
  const anyJob = (): LineageStart => {
    const j = jobNames.get(rng.pick(graph.jobIds))!;
    return { job: j.name, namespace: j.namespace };
  };
  const specs = [
    { name: "upstream from a dataset", walk: upstream, start: anyDataset },
    { name: "downstream from a dataset", walk: downstream, start: anyDataset },
    { name: "upstream from a job", walk: upstream, start: anyJob },
    { name: "downstream from a job", walk: downstream, start: anyJob },
  ];
  const figures: WalkFigure[] = [];
  for (const spec of specs) {
    for (let i = 0; i < 50; i++) await spec.walk(store, spec.start(), { depth: 5 });
    const times: number[] = [];
    let nodes = 0;
    for (let i = 0; i < calls; i++) {
      const start = spec.start();
      const t = performance.now();
      const w = await spec.walk(store, start, { depth: 5 });
      times.push(performance.now() - t);
      nodes += w.nodes.length;
    }
    times.sort((a, b) => a - b);
    figures.push({
      name: `${spec.name}, depth 5`,
      p50: percentile(times, 0.5),
      p99: percentile(times, 0.99),
      max: times[times.length - 1]!,
      meanNodes: nodes / calls,
    });
  }
  return figures;
}
