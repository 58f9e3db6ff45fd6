// Lineage: what a job or a dataset reads from (upstream) and what reads it (downstream) —
// for a dataset, downstream is also the impact: what breaks if it is stale, late or wrong.
// Walks the lineage graph that ingest keeps from OpenLineage inputs/outputs and native
// events (src/db/queries/lineage.ts). What Houston has not been told is said as unknown
// ("no known readers"), never as "nothing reads it".
import { datasetsCalled } from "../src/db/queries/dataset-figures.ts";
import { type LineageNode, type LineageWalk, downstream, upstream } from "../src/db/queries/lineage.ts";
import { AnswerBuilder, code } from "../src/questions/answer.ts";
import { defineMeasure } from "../src/questions/measure.ts";

export interface LineageData {
  direction: "upstream" | "downstream";
  /** Edges the subject has in the graph: reads and writes (0 and 0: nothing is known). */
  startEdges: { read: number; write: number };
  /** Jobs and datasets reached, nearest first; one entry per node. */
  nodes: LineageNode[];
  /** The graph goes on past the depth walked. */
  truncated: boolean;
}

/** The walks from each stored dataset of that name (or the name itself), merged nearest first. */
function merge(walks: LineageWalk[]): Omit<LineageData, "direction"> {
  const seen = new Map<string, LineageNode>();
  for (const w of walks)
    for (const n of w.nodes) {
      const key = `${n.kind}\0${n.namespace ?? ""}\0${n.name}`;
      const had = seen.get(key);
      if (!had || n.depth < had.depth) seen.set(key, n);
    }
  return {
    startEdges: {
      read: walks.reduce((a, w) => a + w.startEdges.read, 0),
      write: walks.reduce((a, w) => a + w.startEdges.write, 0),
    },
    nodes: [...seen.values()].sort(
      (a, b) => a.depth - b.depth || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
    ),
    truncated: walks.some((w) => w.truncated),
  };
}

export default defineMeasure<LineageData>({
  id: "lineage",
  title: "Lineage",
  summary:
    "what a job or dataset reads from (upstream), what reads it (downstream), what breaks if it is late",
  examples: [
    "what is upstream of exec_kpis",
    "what depends on analytics.fct_orders",
    "what will break if analytics.fct_orders is late",
  ],
  measure: ["upstream", "downstream"],
  subjects: ["job", "dataset"],
  defaultDays: null,
  // The graph has no period: the opening says none.
  openingWindow: "asked",
  async compute(ctx, frame) {
    const direction = frame.measure === "upstream" ? "upstream" : "downstream";
    const walk = direction === "upstream" ? upstream : downstream;
    const name = frame.subject.name!;
    let walks: LineageWalk[];
    if (frame.subject.kind === "job") walks = [await walk(ctx.store, { job: name })];
    else {
      // Each producer's naming of the table is a start; the graph joins what its rule can.
      const stored = await datasetsCalled(ctx.store, name);
      const starts = stored.length ? stored : [name];
      walks = await Promise.all(starts.map((dataset) => walk(ctx.store, { dataset })));
    }
    return { direction, ...merge(walks) };
  },
  render(d, frame) {
    const b = new AnswerBuilder();
    const name = code(frame.subject.name!);
    const up = d.direction === "upstream";
    const jobs = d.nodes.filter((n) => n.kind === "job");
    const sets = d.nodes.filter((n) => n.kind === "dataset");
    if (!d.startEdges.read && !d.startEdges.write)
      b.headline(
        `Houston knows no lineage for ${name}: no run has reported reading or writing it (OpenLineage inputs and outputs, or \`inputs\` / \`outputs\` on run events).`,
      );
    else if (!d.nodes.length)
      b.headline(
        up
          ? `${name} has no known ${frame.subject.kind === "job" ? "inputs" : "writers"}.`
          : `${name} has no known ${frame.subject.kind === "job" ? "outputs" : "readers"}.`,
      );
    else
      b.headline(
        `${up ? "Upstream of" : "Downstream of"} ${name}: ${jobs.length} job${jobs.length === 1 ? "" : "s"} and ${sets.length} dataset${sets.length === 1 ? "" : "s"}${d.truncated ? " (and more, further away)" : ""}.`,
      );
    const byDepth = new Map<number, LineageNode[]>();
    for (const n of d.nodes) byDepth.set(n.depth, [...(byDepth.get(n.depth) ?? []), n]);
    for (const [depth, nodes] of byDepth)
      b.list(
        depth === 1 ? "Directly" : `${depth} steps away`,
        nodes.map(
          (n) =>
            `${n.kind === "job" ? "job" : "dataset"} ${code(n.name)}${depth > 1 ? ` (via ${code(n.via)})` : ""}`,
        ),
      );
    return b.from(
      "from the lineage Houston has been told (edges only where runs reported inputs or outputs)",
    );
  },
});
