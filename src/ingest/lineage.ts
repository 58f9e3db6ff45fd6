// Lineage edges from ingest (src/ingest/apply.ts, in the request's transaction): job →
// dataset, read or write, keyed by the dataset's lineage name (dataset-names.ts).
// An edge seen again only widens [first_seen, last_seen]; the times are the events' own,
// so replays and late events land where they belong and the order of arrival is free.
//
// Queued, then folded: a request only appends sightings to lineage_sightings (no key, so
// concurrent requests naming the same job's edges never wait on each other's row locks),
// and the rollup flusher folds them into lineage_edges (foldSightings) a moment later, as
// it recomputes the daily rollup. Rewriting a job's edges inside each request made ingest
// with inputs/outputs half as fast (four rows more per run, their locks queueing the
// requests of concurrent clients); the graph now trails ingest as the rollup does.
//
// Kept to the day (SEEN_PRECISION_MS): a process queues a sighting only when an event falls
// more than a day outside the range it knows for the edge (EdgeCache: what it queued or
// folded), so a job's runs add about one sighting per edge a day whatever its schedule. A
// process that has not seen the edge yet queues it, and the fold widens the stored range
// exactly. A day is what the graph's questions need (who still reads Y), and what
// retention prunes by.
import { sql } from "drizzle-orm";
import type { Executor, Store } from "../db/client.ts";
import type { LineageDirection } from "../db/schema.ts";
import { jsonChunks } from "../db/sql.ts";

/** How far outside an edge's known [first, last] seen an event must fall to queue a sighting. */
export const SEEN_PRECISION_MS = 86_400_000;

interface Seen {
  first: Date;
  last: Date;
}

const widen = (s: Seen | undefined, at: Date): Seen =>
  s ? { first: at < s.first ? at : s.first, last: at > s.last ? at : s.last } : { first: at, last: at };

const inside = (known: Seen, s: Seen): boolean =>
  s.first.getTime() >= known.first.getTime() - SEEN_PRECISION_MS &&
  s.last.getTime() <= known.last.getTime() + SEEN_PRECISION_MS;

interface Edge extends Seen {
  jobId: number;
  direction: LineageDirection;
  dataset: string;
}

const edgeKey = (jobId: number, direction: string, dataset: string) =>
  `${jobId}\u001f${direction}\u001f${dataset}`;

/** A request's edges, one per (job, direction, dataset), each with the times it was seen. */
export class EdgeSet {
  private readonly edges = new Map<string, Edge>();

  add(jobId: number, direction: LineageDirection, dataset: string, at: Date): void {
    const k = edgeKey(jobId, direction, dataset);
    const cur = this.edges.get(k);
    this.edges.set(k, { jobId, direction, dataset, ...widen(cur, at) });
  }

  get size(): number {
    return this.edges.size;
  }

  entries(): [string, Edge][] {
    return [...this.edges];
  }
}

/**
 * The seen-ranges of edges this process queued, so runs inside them queue nothing. A range
 * here may be narrower than the stored one (another replica widened it), never wider: the
 * worst a stale entry costs is a sighting the store did not need. Edges deleted under a
 * running process are the exception: retention only drops edges not seen for its whole
 * period, which any new event falls far outside of (so it queues them again); edges deleted
 * by hand stay unknown until the process restarts (or Ingestor.resetCaches()).
 */
export class EdgeCache {
  private readonly seen = new Map<string, Seen>();
  /** Beyond this many edges the cache starts over (a few MB; real fleets have fewer). */
  constructor(private readonly max = 200_000) {}

  get(k: string): Seen | undefined {
    return this.seen.get(k);
  }

  /** Adds what a committed transaction queued. */
  merge(entries: Map<string, Seen>): void {
    if (this.seen.size + entries.size > this.max) this.seen.clear();
    for (const [k, v] of entries) this.seen.set(k, v);
  }

  clear(): void {
    this.seen.clear();
  }
}

/**
 * Queues sightings of the edges whose range this process does not know to hold them (to the
 * day): one row per job and seen-range, the datasets it read and wrote as lists. Returns the
 * ranges to remember once the transaction commits (their count is the edges sighted).
 */
export async function queueEdges(
  store: Store,
  tx: Executor,
  edges: EdgeSet,
  cache: EdgeCache,
): Promise<Map<string, Seen>> {
  const queued = new Map<string, Seen>();
  const rows = new Map<
    string,
    { job_id: number; first_seen: Date; last_seen: Date; reads: string[]; writes: string[] }
  >();
  for (const [k, e] of edges.entries()) {
    const known = cache.get(k);
    if (known && inside(known, e)) continue;
    queued.set(k, known ? widen(widen(known, e.first), e.last) : { first: e.first, last: e.last });
    // The edges of one run share its job and range: one row.
    const rk = `${e.jobId}\u001f${e.first.getTime()}\u001f${e.last.getTime()}`;
    let row = rows.get(rk);
    if (!row) {
      row = { job_id: e.jobId, first_seen: e.first, last_seen: e.last, reads: [], writes: [] };
      rows.set(rk, row);
    }
    (e.direction === "read" ? row.reads : row.writes).push(e.dataset);
  }
  for (const chunk of jsonChunks([...rows.values()])) {
    await store.query(
      sql`INSERT INTO lineage_sightings (job_id, first_seen, last_seen, reads, writes)
          SELECT job_id, first_seen, last_seen, reads, writes
          FROM jsonb_to_recordset(${chunk.param})
            AS x(job_id int, first_seen timestamptz, last_seen timestamptz, reads text[], writes text[])`,
      tx,
    );
  }
  return queued;
}

/**
 * Folds up to `limit` sightings (rows) into lineage_edges, in one statement (so one
 * transaction): new edges inserted, known ones' range widened (rows already covering it are
 * left alone), written in key order, so two folders never deadlock. The queue has no index
 * (its rows are taken by their physical address). Sightings of a job deleted meanwhile are
 * dropped. Returns how many rows it took.
 */
export async function foldSightings(store: Store, limit: number): Promise<number> {
  const [r] = await store.query<{ taken: number }>(
    sql`WITH taken AS (
          DELETE FROM lineage_sightings
          WHERE ctid IN (SELECT ctid FROM lineage_sightings LIMIT ${limit})
          RETURNING job_id, first_seen, last_seen, reads, writes
        ),
        seen AS (
          SELECT job_id, 'read' AS direction, d AS dataset, first_seen, last_seen FROM taken, unnest(reads) AS d
          UNION ALL
          SELECT job_id, 'write', d, first_seen, last_seen FROM taken, unnest(writes) AS d
        ),
        k AS (
          SELECT s.job_id, s.direction, s.dataset, min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen
          FROM seen s WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.id = s.job_id)
          GROUP BY s.job_id, s.direction, s.dataset
        ),
        up AS (
          INSERT INTO lineage_edges AS e (job_id, direction, dataset, first_seen, last_seen)
          SELECT job_id, direction, dataset, first_seen, last_seen FROM k
          ORDER BY job_id, direction, dataset
          ON CONFLICT (job_id, direction, dataset) DO UPDATE SET
            first_seen = least(e.first_seen, excluded.first_seen),
            last_seen = greatest(e.last_seen, excluded.last_seen)
          WHERE excluded.first_seen < e.first_seen OR excluded.last_seen > e.last_seen
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM taken)::int AS taken, (SELECT count(*) FROM up)::int AS written`,
  );
  return Number(r?.taken ?? 0);
}

/** A dataset event that names its producing run only by run_id. */
export interface WriteClaim {
  runExternalId: string;
  dataset: string;
  at: Date;
}

function claimRows(claims: WriteClaim[]) {
  const by = new Map<string, { external_id: string; dataset: string } & Seen>();
  for (const c of claims) {
    const k = `${c.runExternalId}\u001f${c.dataset}`;
    by.set(k, { external_id: c.runExternalId, dataset: c.dataset, ...widen(by.get(k), c.at) });
  }
  return [...by.values()]
    .sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0))
    .map((c) => ({ external_id: c.external_id, dataset: c.dataset, first_seen: c.first, last_seen: c.last }));
}

/**
 * Write edges for dataset events that name their run by run_id alone. The run's job is
 * looked up among stored runs (this request's included: they were written first); a run
 * id no run has yet is kept as a pending claim for the run to pick up when it arrives
 * (the runs statement of src/ingest/apply.ts takes the claims on its runs); a run id that
 * runs of several jobs share names no writer (any choice could be wrong), so it makes no edge.
 */
export async function writeClaims(store: Store, tx: Executor, claims: WriteClaim[]): Promise<void> {
  if (claims.length === 0) return;
  for (const chunk of jsonChunks(claimRows(claims))) {
    await store.query(
      sql`WITH c AS (
            SELECT * FROM jsonb_to_recordset(${chunk.param})
              AS c(external_id text, dataset text, first_seen timestamptz, last_seen timestamptz)
          ),
          w AS (
            SELECT k.external_id, min(r.job_id) AS job_id, count(DISTINCT r.job_id) AS jobs
            FROM (SELECT DISTINCT external_id FROM c) k JOIN runs r ON r.external_id = k.external_id
            GROUP BY k.external_id
          ),
          edges AS (
            INSERT INTO lineage_edges AS e (job_id, direction, dataset, first_seen, last_seen)
            SELECT w.job_id, 'write', c.dataset, min(c.first_seen), max(c.last_seen)
            FROM c JOIN w ON w.external_id = c.external_id AND w.jobs = 1
            GROUP BY w.job_id, c.dataset
            ORDER BY w.job_id, c.dataset
            ON CONFLICT (job_id, direction, dataset) DO UPDATE SET
              first_seen = least(e.first_seen, excluded.first_seen),
              last_seen = greatest(e.last_seen, excluded.last_seen)
            WHERE excluded.first_seen < e.first_seen OR excluded.last_seen > e.last_seen
            RETURNING 1
          ),
          pending AS (
            INSERT INTO lineage_pending_writes AS p (run_external_id, dataset, first_seen, last_seen)
            SELECT c.external_id, c.dataset, c.first_seen, c.last_seen
            FROM c WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.external_id = c.external_id)
            ON CONFLICT (run_external_id, dataset) DO UPDATE SET
              first_seen = least(p.first_seen, excluded.first_seen),
              last_seen = greatest(p.last_seen, excluded.last_seen)
            RETURNING 1
          )
          SELECT (SELECT count(*) FROM edges)::int AS edges, (SELECT count(*) FROM pending)::int AS pending`,
      tx,
    );
  }
}
