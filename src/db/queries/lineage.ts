// The lineage graph: what is upstream of a job or dataset (who wrote what it reads, and so
// on), what is downstream (who reads what it writes, and so on), and the impact of a dataset
// (every job and dataset downstream of it: what breaks if it is stale, late or wrong).
//
// The graph is bipartite, job → dataset edges read or write (lineage_edges, filled by
// ingest: src/ingest/lineage.ts). A dataset is its lineage name (src/ingest/dataset-names.ts);
// houston.yml's aliases (dataset_aliases) are applied here, when the graph is read: a name
// that is an alias stands for its dataset wherever it appears.
//
// Each walk is one recursive statement, breadth-first: a row per depth holding that depth's
// frontier and every node seen so far, so a node is reached once, at its smallest depth —
// the cycle guard (a → x → b → x … stops at x) — and the depth limit bounds the rest. (A
// row per path instead, the path as the guard, reaches a node once per path to it:
// exponentially many in a graph of diamonds.) A depth is one edge: from a dataset, its writers (upstream) or readers (downstream) are at
// depth 1, the datasets those jobs read (upstream) or write (downstream) at depth 2.
//
// "Nothing found" and "nothing known" differ: every answer says how many edges the start
// has in each direction, so a dataset no edge names reads "no known readers", never
// "nothing reads it".
import { type SQL, sql } from "drizzle-orm";
import type { DatasetName } from "../../ingest/events.ts";
import { lineageName, parseDatasetRef } from "../../ingest/dataset-names.ts";
import type { Store } from "../client.ts";

/** Where a walk starts: a job (by name, in any namespace unless one is given) or a dataset. */
export type LineageStart =
  | { job: string; namespace?: string }
  /** A native reference ("namespace/name" or a plain name) or a stored dataset's namespace and name. */
  | { dataset: string | DatasetName };

export interface LineageNode {
  kind: "job" | "dataset";
  /** A job's name, or a dataset's lineage name. */
  name: string;
  /** A job's namespace; null for a dataset. */
  namespace: string | null;
  /** Edges from the start: 1 for its direct writers / readers / inputs / outputs. */
  depth: number;
  /** The node one edge nearer the start it was reached through (a job's name or a dataset's lineage name). */
  via: string;
}

export interface LineageWalk {
  /** What the walk started from: the job's ids, or the dataset's lineage name after aliases. */
  start: { kind: "job"; jobIds: number[] } | { kind: "dataset"; name: string };
  /**
   * Edges the start has: for a dataset, jobs that read it and that write it; for a job,
   * datasets it reads and writes. Both 0: nothing is known about it (say "no known …").
   */
  startEdges: { read: number; write: number };
  /** Nodes within the depth limit, nearest first (then jobs before datasets, then by name). */
  nodes: LineageNode[];
  /** The graph goes on beyond the depth limit. */
  truncated: boolean;
}

/** The deepest walk asked for: far beyond any real pipeline's length. */
export const MAX_LINEAGE_DEPTH = 20;
export const DEFAULT_LINEAGE_DEPTH = 5;

type Direction = "upstream" | "downstream";

/** Jobs that wrote the start (or what a job reads), then their writers, … up to `depth` edges. */
export function upstream(
  store: Store,
  start: LineageStart,
  opts: { depth?: number } = {},
): Promise<LineageWalk> {
  return walk(store, start, "upstream", opts.depth ?? DEFAULT_LINEAGE_DEPTH);
}

/** Jobs that read the start (or what a job writes), then what they write, … up to `depth` edges. */
export function downstream(
  store: Store,
  start: LineageStart,
  opts: { depth?: number } = {},
): Promise<LineageWalk> {
  return walk(store, start, "downstream", opts.depth ?? DEFAULT_LINEAGE_DEPTH);
}

export interface Impact {
  /** The dataset's lineage name (after aliases). */
  dataset: string;
  startEdges: { read: number; write: number };
  /** Every job and dataset downstream, nearest first. */
  jobs: LineageNode[];
  datasets: LineageNode[];
  truncated: boolean;
}

/** What will break if `dataset` is stale, late or wrong: every job and dataset downstream of it. */
export async function impact(
  store: Store,
  dataset: string | DatasetName,
  opts: { depth?: number } = {},
): Promise<Impact> {
  const w = await walk(store, { dataset }, "downstream", opts.depth ?? MAX_LINEAGE_DEPTH);
  return {
    dataset: w.start.kind === "dataset" ? w.start.name : "",
    startEdges: w.startEdges,
    jobs: w.nodes.filter((n) => n.kind === "job"),
    datasets: w.nodes.filter((n) => n.kind === "dataset"),
    truncated: w.truncated,
  };
}

// ---------------------------------------------------------------------------------------

/** A dataset's lineage name as a start: a native reference or a stored (namespace, name). */
function startName(d: string | DatasetName): string {
  return lineageName(typeof d === "string" ? parseDatasetRef(d) : d);
}

/** The alias-resolved name of a lineage name (the SQL side of houston.yml's aliases). */
const canonical = (name: SQL): SQL =>
  sql`coalesce((SELECT a.dataset FROM dataset_aliases a WHERE a.alias = ${name}), ${name})`;

interface StartRow {
  job_ids: number[] | string | null;
  /** A dataset start's lineage name after aliases (null for a job). */
  label: string | null;
  reads: number | string;
  writes: number | string;
}

interface NodeRow {
  depth: number | string;
  kind: "job" | "dataset";
  name: string;
  namespace: string | null;
  via: string | null;
  /** The same on every row: the deepest frontier has a step further. */
  more: boolean | null;
}

/** Postgres arrays come back as arrays (PGlite, postgres.js typed) or as "{1,2}" text. */
function intArray(v: number[] | string | null): number[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v.map(Number);
  const inner = v.replace(/^\{|\}$/g, "");
  return inner === "" ? [] : inner.split(",").map(Number);
}

async function walk(store: Store, start: LineageStart, dir: Direction, depth: number): Promise<LineageWalk> {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_LINEAGE_DEPTH)
    throw new RangeError(`depth must be a whole number from 1 to ${MAX_LINEAGE_DEPTH}, got ${depth}`);
  const s = await resolveStart(store, start);
  const walkStart =
    "job" in start
      ? ({ kind: "job", jobIds: intArray(s.job_ids) } as const)
      : ({ kind: "dataset", name: s.label! } as const);
  const startEdges = { read: Number(s.reads), write: Number(s.writes) };
  if (startEdges.read + startEdges.write === 0)
    return { start: walkStart, startEdges, nodes: [], truncated: false };
  const rows = await store.query<NodeRow>(walkSql(walkStart, dir, depth));
  const nodes = rows.map((r): LineageNode => ({
    kind: r.kind,
    name: r.name,
    namespace: r.namespace,
    depth: Number(r.depth),
    via: r.via ?? "",
  }));
  return { start: walkStart, startEdges, nodes, truncated: rows.some((r) => r.more === true) };
}

/** The start's job ids or alias-resolved lineage name, and how many edges it has each way. */
async function resolveStart(store: Store, start: LineageStart): Promise<StartRow> {
  if ("job" in start) {
    const ns = start.namespace === undefined ? sql`TRUE` : sql`j.namespace = ${start.namespace}`;
    const [row] = await store.query<StartRow>(
      sql`WITH s AS (SELECT j.id FROM jobs j WHERE j.name = ${start.job} AND ${ns})
          SELECT (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM s) AS job_ids, NULL AS label,
            (SELECT count(*) FROM lineage_edges e WHERE e.job_id IN (SELECT id FROM s) AND e.direction = 'read')::int AS reads,
            (SELECT count(*) FROM lineage_edges e WHERE e.job_id IN (SELECT id FROM s) AND e.direction = 'write')::int AS writes`,
    );
    return row!;
  }
  const name = startName(start.dataset);
  const [row] = await store.query<StartRow>(
    sql`WITH c AS (SELECT ${canonical(sql`${name}::text`)} AS name),
        raw AS (SELECT name FROM c UNION SELECT a.alias FROM dataset_aliases a, c WHERE a.dataset = c.name)
        SELECT NULL AS job_ids, (SELECT name FROM c) AS label,
          (SELECT count(*) FROM lineage_edges e WHERE e.dataset IN (SELECT name FROM raw) AND e.direction = 'read')::int AS reads,
          (SELECT count(*) FROM lineage_edges e WHERE e.dataset IN (SELECT name FROM raw) AND e.direction = 'write')::int AS writes`,
  );
  return row!;
}

/**
 * The recursive walk. Each row of `walk` is one depth: `jobs` and `datasets` are that
 * depth's frontier (one of them empty: the graph alternates), each with the node of the
 * depth before it was reached through (`*_via`, in the same order), and `seen_*` is
 * everything reached so far. From datasets the next jobs are those with an edge `into`
 * them (writers going upstream, readers going downstream), the edge's dataset matched
 * through its aliases too; from jobs the next datasets are those the jobs have an edge
 * `out` to (reads upstream, writes downstream), named after aliases. One depth beyond the
 * limit is only probed (`more`), to tell whether the graph goes on.
 */
function walkSql(start: LineageWalk["start"], dir: Direction, depth: number): SQL {
  const into = dir === "upstream" ? "write" : "read";
  const out = dir === "upstream" ? "read" : "write";
  const first =
    start.kind === "job"
      ? sql`SELECT ARRAY[${sql.join(
          start.jobIds.map((id) => sql`${id}`),
          sql`, `,
        )}]::int[] AS jobs, '{}'::text[] AS datasets`
      : sql`SELECT '{}'::int[] AS jobs, ARRAY[${start.name}::text] AS datasets`;
  return sql`
    WITH RECURSIVE walk(depth, jobs, jobs_via, datasets, datasets_via, seen_jobs, seen_datasets) AS (
      SELECT 0, jobs, '{}'::text[], datasets, '{}'::int[], jobs, datasets FROM (${first}) s
      UNION ALL
      SELECT w.depth + 1, nj.jobs, nj.via, nd.datasets, nd.via,
        w.seen_jobs || nj.jobs, w.seen_datasets || nd.datasets
      FROM walk w
      CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(x.job_id ORDER BY x.job_id), '{}') AS jobs,
          coalesce(array_agg(x.via ORDER BY x.job_id), '{}') AS via
        FROM (
          SELECT e.job_id, min(f.name) AS via
          FROM (SELECT d AS name, d AS raw FROM unnest(w.datasets) AS d
                UNION ALL
                SELECT a.dataset, a.alias FROM dataset_aliases a WHERE a.dataset = ANY(w.datasets)) f
          JOIN lineage_edges e ON e.dataset = f.raw AND e.direction = ${into}
          WHERE e.job_id <> ALL(w.seen_jobs)
          GROUP BY e.job_id
        ) x
      ) nj
      CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(x.dataset ORDER BY x.dataset), '{}') AS datasets,
          coalesce(array_agg(x.via ORDER BY x.dataset), '{}') AS via
        FROM (
          SELECT coalesce(a.dataset, e.dataset) AS dataset, min(e.job_id) AS via
          FROM lineage_edges e LEFT JOIN dataset_aliases a ON a.alias = e.dataset
          WHERE e.direction = ${out} AND e.job_id = ANY(w.jobs)
            AND coalesce(a.dataset, e.dataset) <> ALL(w.seen_datasets)
          GROUP BY 1
        ) x
      ) nd
      WHERE w.depth < ${depth} AND (cardinality(nj.jobs) > 0 OR cardinality(nd.datasets) > 0)
    ),
    -- Whether the deepest frontier has a step to a node not yet seen: the graph goes on.
    more AS (
      SELECT EXISTS (
          SELECT 1
          FROM (SELECT d AS raw FROM unnest(w.datasets) AS d
                UNION ALL
                SELECT a.alias FROM dataset_aliases a WHERE a.dataset = ANY(w.datasets)) f
          JOIN lineage_edges e ON e.dataset = f.raw AND e.direction = ${into}
          WHERE e.job_id <> ALL(w.seen_jobs))
        OR EXISTS (
          SELECT 1 FROM lineage_edges e LEFT JOIN dataset_aliases a ON a.alias = e.dataset
          WHERE e.direction = ${out} AND e.job_id = ANY(w.jobs)
            AND coalesce(a.dataset, e.dataset) <> ALL(w.seen_datasets)) AS more
      FROM walk w WHERE w.depth = ${depth}
    )
    SELECT w.depth, 'job' AS kind, jb.name, jb.namespace, j.via, (SELECT more FROM more) AS more
    FROM walk w, unnest(w.jobs, w.jobs_via) AS j(id, via) JOIN jobs jb ON jb.id = j.id
    WHERE w.depth > 0
    UNION ALL
    SELECT w.depth, 'dataset', d.name, NULL, vj.name, (SELECT more FROM more)
    FROM walk w, unnest(w.datasets, w.datasets_via) AS d(name, via) LEFT JOIN jobs vj ON vj.id = d.via
    WHERE w.depth > 0
    ORDER BY 1, 2 DESC, 3, 4`;
}
