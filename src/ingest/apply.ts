// Writes validated events to the store: one transaction per request (all or nothing),
// set-based statements (a 1,000-event batch is a handful of round trips), idempotent on
// event ids, and order-independent for a run's start and finish.
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Executor, Store } from "../db/client.ts";
import { RollupFlusher } from "../db/rollup.ts";
import { jsonChunks } from "../db/sql.ts";
import type {
  DatasetEvent,
  DeployEvent,
  HoustonEvent,
  IngestResult,
  JobEvent,
  RunEvent,
  TestEvent,
} from "./events.ts";
import { DEFAULT_NAMESPACE } from "./events.ts";
import { lineageName } from "./dataset-names.ts";
import { EdgeCache, EdgeSet, queueEdges, type WriteClaim, writeClaims } from "./lineage.ts";

interface JobAttrs {
  group?: string | undefined;
  environment?: string | undefined;
  tool?: string | undefined;
  owner?: string | undefined;
}

/** Sorted `name:type` list: column order does not make a schema change, a new column does. */
export function schemaFingerprint(fields: { name: string; type: string }[] | undefined): string | null {
  if (!fields || fields.length === 0) return null;
  const canon = fields
    .map((f) => `${f.name}:${f.type.toLowerCase()}`)
    .sort()
    .join(",");
  return createHash("sha1").update(canon).digest("hex").slice(0, 16);
}

/** Merges two events of one run in memory, with the same rules as the SQL upsert. */
export function mergeRun(a: RunEvent, b: RunEvent): RunEvent {
  const aTerminal = a.status !== "running";
  const bTerminal = b.status !== "running";
  let winner: RunEvent;
  let loser: RunEvent;
  if (aTerminal !== bTerminal) [winner, loser] = bTerminal ? [b, a] : [a, b];
  else [winner, loser] = b.eventTime >= a.eventTime ? [b, a] : [a, b];
  const starts = [a.startedAt, b.startedAt].filter((d): d is Date => d !== undefined);
  const merged: RunEvent = { ...loser, ...stripUndefined(winner) };
  if (starts.length) merged.startedAt = new Date(Math.min(...starts.map((d) => d.getTime())));
  merged.endedAt = winner.endedAt ?? loser.endedAt;
  if (!merged.endedAt) delete merged.endedAt;
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code;
}

const key = (ns: string, name: string) => `${ns}\u001f${name}`;

interface JobRow {
  id: number;
  namespace: string;
  name: string;
  group_name: string | null;
  environment: string | null;
  tool: string | null;
  owner: string | null;
}

function jobAttrs(r: JobRow): JobAttrs {
  return {
    group: r.group_name ?? undefined,
    environment: r.environment ?? undefined,
    tool: r.tool ?? undefined,
    owner: r.owner ?? undefined,
  };
}

/**
 * Whether the upsert in resolveJobs would change a stored job: an incoming attribute that
 * differs, except owner, which only fills a gap (houston.yml's owner outranks the events').
 */
function needsWrite(stored: JobAttrs, incoming: JobAttrs): boolean {
  return Object.entries(incoming).some(
    ([a, v]) => v && stored[a as keyof JobAttrs] !== v && !(a === "owner" && stored.owner),
  );
}

export interface ApplyOutcome extends IngestResult {
  /** (job, day) rollup marks written: days whose daily rollup row must be recomputed. */
  marked: number;
  /** Lineage sightings queued: edges the flush folds into lineage_edges. */
  sighted: number;
}

/**
 * Applies events in one transaction. Holds small id caches (jobs, datasets, tests) that
 * are only updated after a commit, so a rolled-back batch never leaves a phantom id.
 */
export class Ingestor {
  private jobIds = new Map<string, { id: number; attrs: JobAttrs }>();
  private datasetIds = new Map<
    string,
    { id: number; supplier?: string | undefined; owner?: string | undefined }
  >();
  private testIds = new Map<string, number>();
  private readonly edges = new EdgeCache();

  constructor(
    private readonly store: Store,
    readonly rollups = new RollupFlusher(store),
  ) {}

  /**
   * Applies the events in one transaction, then brings the rollup rows they touched up to
   * date: before returning (`rollup: "wait"`, the default: the CLI, the demo, tests), or in
   * the background (`"background"`: HTTP ingest, where a request should not wait for a
   * recompute that the next pass shares with every request that arrived meanwhile).
   */
  async apply(events: HoustonEvent[], opts: { rollup?: "wait" | "background" } = {}): Promise<IngestResult> {
    const outcome = await this.applyOnly(events);
    // The rollup flusher also folds the lineage sightings (src/db/rollup.ts).
    if (outcome.marked > 0 || outcome.sighted > 0) {
      if (opts.rollup === "background") this.rollups.nudge();
      else await this.rollups.flush();
    }
    return { accepted: outcome.accepted, duplicates: outcome.duplicates };
  }

  /** Forgets cached ids (after an operator deleted jobs or datasets by hand). */
  resetCaches(): void {
    this.jobIds.clear();
    this.datasetIds.clear();
    this.testIds.clear();
    this.edges.clear();
  }

  async applyOnly(events: HoustonEvent[]): Promise<ApplyOutcome> {
    try {
      return await this.applyOnce(events);
    } catch (err) {
      // A cached id whose row was deleted out from under us: forget the cache and retry once.
      if (errorCode(err) !== "23503") throw err;
      this.resetCaches();
      return this.applyOnce(events);
    }
  }

  private async applyOnce(events: HoustonEvent[]): Promise<ApplyOutcome> {
    if (events.length === 0) return { accepted: 0, duplicates: 0, marked: 0, sighted: 0 };
    const pendingJobs = new Map<string, { id: number; attrs: JobAttrs }>();
    const pendingDatasets = new Map<
      string,
      { id: number; supplier?: string | undefined; owner?: string | undefined }
    >();
    const pendingTests = new Map<string, number>();
    let learnedEdges = new Map<string, { first: Date; last: Date }>();
    const outcome = await this.store.transaction(async (tx) => {
      const fresh = await this.dedupe(tx, events);
      const duplicates = events.length - fresh.length;
      const runs: RunEvent[] = [];
      const datasetsEv: DatasetEvent[] = [];
      const testsEv: TestEvent[] = [];
      const deploysEv: DeployEvent[] = [];
      const jobsEv: JobEvent[] = [];
      for (const e of fresh) {
        if (e.type === "run") runs.push(e);
        else if (e.type === "dataset") datasetsEv.push(e);
        else if (e.type === "test") testsEv.push(e);
        else if (e.type === "deploy") deploysEv.push(e);
        else jobsEv.push(e);
      }
      const jobIds = await this.resolveJobs(tx, runs, testsEv, datasetsEv, jobsEv, pendingJobs);
      // Dataset updates name their producing run: only then are the new run ids needed.
      const wantIds = datasetsEv.some((d) => d.runId !== undefined);
      const { runIds, marked } = await this.writeRuns(tx, runs, jobIds, wantIds);
      learnedEdges = await this.writeLineage(tx, runs, jobsEv, datasetsEv, jobIds);
      await this.writeDatasets(tx, datasetsEv, jobIds, runIds, pendingDatasets);
      await this.writeTests(tx, testsEv, jobIds, pendingDatasets, pendingTests);
      await this.writeDeploys(tx, deploysEv);
      return { accepted: fresh.length, duplicates, marked, sighted: learnedEdges.size };
    });
    for (const [k, v] of pendingJobs) this.jobIds.set(k, v);
    for (const [k, v] of pendingDatasets) this.datasetIds.set(k, v);
    for (const [k, v] of pendingTests) this.testIds.set(k, v);
    this.edges.merge(learnedEdges);
    return outcome;
  }

  /** Drops events whose id was applied before (or repeats earlier in this batch). */
  private async dedupe(tx: Executor, events: HoustonEvent[]): Promise<HoustonEvent[]> {
    const seen = new Set<string>();
    const ids: string[] = [];
    const firstOf: HoustonEvent[] = [];
    for (const e of events) {
      if (e.id === undefined) continue;
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      ids.push(e.id);
    }
    if (ids.length === 0) return events;
    const fresh = new Set<string>();
    for (const chunk of jsonChunks(ids)) {
      const inserted = await this.store.query<{ id: string }>(
        sql`INSERT INTO ingested_events (id) SELECT value FROM jsonb_array_elements_text(${chunk.param})
            ON CONFLICT (id) DO NOTHING RETURNING id`,
        tx,
      );
      for (const r of inserted) fresh.add(r.id);
    }
    for (const e of events) {
      if (e.id === undefined) firstOf.push(e);
      else if (fresh.delete(e.id)) firstOf.push(e);
    }
    return firstOf;
  }

  private async resolveJobs(
    tx: Executor,
    runs: RunEvent[],
    testsEv: TestEvent[],
    datasetsEv: DatasetEvent[],
    jobsEv: JobEvent[],
    pending: Map<string, { id: number; attrs: JobAttrs }>,
  ): Promise<Map<string, number>> {
    // Last non-empty attribute wins within the batch (events are in arrival order).
    const wanted = new Map<string, { namespace: string; name: string; attrs: JobAttrs }>();
    const want = (namespace: string, name: string, attrs: JobAttrs) => {
      const k = key(namespace, name);
      const cur = wanted.get(k) ?? { namespace, name, attrs: {} };
      for (const [a, v] of Object.entries(attrs)) if (v) (cur.attrs as Record<string, string>)[a] = v;
      wanted.set(k, cur);
    };
    for (const r of runs) {
      want(r.namespace, r.job, { group: r.group, environment: r.environment, tool: r.tool, owner: r.owner });
    }
    for (const j of jobsEv) want(j.namespace, j.job, { group: j.group, tool: j.tool, owner: j.owner });
    for (const t of testsEv) if (t.job) want(t.jobNamespace ?? DEFAULT_NAMESPACE, t.job, {});
    for (const d of datasetsEv) if (d.producer) want(d.producer.namespace, d.producer.job, {});

    const ids = new Map<string, number>();
    const unresolved: { namespace: string; name: string; attrs: JobAttrs }[] = [];
    for (const [k, w] of wanted) {
      const cached = this.jobIds.get(k);
      if (cached && !needsWrite(cached.attrs, w.attrs)) ids.set(k, cached.id);
      else unresolved.push(w);
    }
    // Jobs this process has not seen yet (after a restart: most of them) usually exist with
    // the same attributes: read them without a write, so concurrent requests do not queue on
    // the row locks an upsert would hold until commit.
    if (unresolved.length) {
      const existing = new Map<string, JobRow>();
      for (const chunk of jsonChunks(unresolved.map(({ namespace, name }) => ({ namespace, name })))) {
        const rows = await this.store.query<JobRow>(
          sql`SELECT j.id, j.namespace, j.name, j.group_name, j.environment, j.tool, j.owner
              FROM jsonb_to_recordset(${chunk.param}) AS x(namespace text, name text)
              JOIN jobs j ON j.namespace = x.namespace AND j.name = x.name`,
          tx,
        );
        for (const r of rows) existing.set(key(r.namespace, r.name), r);
      }
      for (const w of unresolved.splice(0)) {
        const k = key(w.namespace, w.name);
        const row = existing.get(k);
        if (row && !needsWrite(jobAttrs(row), w.attrs)) {
          ids.set(k, row.id);
          pending.set(k, { id: row.id, attrs: jobAttrs(row) });
        } else unresolved.push(w);
      }
    }
    const toWrite = unresolved.map((w) => ({
      namespace: w.namespace,
      name: w.name,
      ...(w.attrs.group ? { group_name: w.attrs.group } : {}),
      ...(w.attrs.environment ? { environment: w.attrs.environment } : {}),
      ...(w.attrs.tool ? { tool: w.attrs.tool } : {}),
      ...(w.attrs.owner ? { owner: w.attrs.owner } : {}),
    }));
    if (toWrite.length) {
      toWrite.sort((a, b) => (key(a.namespace, a.name) < key(b.namespace, b.name) ? -1 : 1));
      // DO UPDATE (not DO NOTHING) so RETURNING yields every row, existing or new.
      for (const chunk of jsonChunks(toWrite)) {
        const rows = await this.store.query<JobRow>(
          sql`INSERT INTO jobs AS j (namespace, name, group_name, environment, tool, owner)
            SELECT namespace, name, group_name, environment, tool, owner
            FROM jsonb_to_recordset(${chunk.param})
              AS x(namespace text, name text, group_name text, environment text, tool text, owner text)
            ON CONFLICT (namespace, name) DO UPDATE SET
              group_name = coalesce(excluded.group_name, j.group_name),
              environment = coalesce(excluded.environment, j.environment),
              tool = coalesce(excluded.tool, j.tool),
              owner = coalesce(j.owner, excluded.owner),
              updated_at = CASE WHEN (excluded.group_name, excluded.environment, excluded.tool)
                IS DISTINCT FROM (j.group_name, j.environment, j.tool) THEN now() ELSE j.updated_at END
            RETURNING id, namespace, name, group_name, environment, tool, owner`,
          tx,
        );
        for (const r of rows) {
          const k = key(r.namespace, r.name);
          ids.set(k, r.id);
          pending.set(k, { id: r.id, attrs: jobAttrs(r) });
        }
      }
    }
    return ids;
  }

  private async writeRuns(
    tx: Executor,
    runs: RunEvent[],
    jobIds: Map<string, number>,
    wantIds: boolean,
  ): Promise<{ runIds: Map<string, number>; marked: number }> {
    const runIds = new Map<string, number>();
    if (runs.length === 0) return { runIds, marked: 0 };
    // A start and its finish in one batch become one row (ON CONFLICT may touch a row once).
    const merged = new Map<string, { r: RunEvent; jobId: number }>();
    for (const r of runs) {
      const jobId = jobIds.get(key(r.namespace, r.job))!;
      const k = `${jobId}\u001f${r.runId}`;
      const prev = merged.get(k);
      merged.set(k, { r: prev ? mergeRun(prev.r, r) : r, jobId });
    }
    const input = [...merged.values()].sort((a, b) => a.jobId - b.jobId || (a.r.runId < b.r.runId ? -1 : 1));
    const row = ({ r, jobId }: { r: RunEvent; jobId: number }) => ({
      job_id: jobId,
      external_id: r.runId,
      status: r.status,
      scheduled_for: r.scheduledFor,
      started_at: r.startedAt,
      ended_at: r.endedAt,
      rows: r.rows,
      bad_records: r.badRecords,
      cpu_seconds: r.cpuSeconds,
      memory_mb: r.memoryMb,
      cost: r.cost,
      exit_code: r.exitCode,
      error: r.error,
      parent_run_id: r.parentRunId,
      environment: r.environment,
      status_at: r.eventTime,
    });
    // "newer": the incoming status replaces the stored one. A terminal status always beats
    // "running"; between two terminal statuses the later event wins.
    const newer = sql.raw(
      `(excluded.status <> 'running' AND (r.status = 'running' OR excluded.status_at >= r.status_at))`,
    );
    // One statement per chunk: upsert the runs, mark their days for the rollup, and match
    // them to expected slots (a run belongs to the slot whose [opens_at, closes_at) window
    // holds its nominal time, else its start; each slot takes its first run, so a retry of a
    // fulfilled slot matches nothing). A job's runs share a chunk, so that "first" is the
    // first of the whole request (unless one job's runs alone are over a chunk's size).
    let marked = 0;
    for (const chunk of jsonChunks(input, { group: (r) => r.jobId, as: row })) {
      const [res] = await this.store.query<{ runs: RunRow[] | null; marked: number }>(
        sql`WITH input AS (
            SELECT * FROM jsonb_to_recordset(${chunk.param}) AS x(
              job_id int, external_id text, status text, scheduled_for timestamptz, started_at timestamptz,
              ended_at timestamptz, rows bigint, bad_records bigint, cpu_seconds float8, memory_mb float8, cost float8,
              exit_code int, error text, parent_run_id text, environment text, status_at timestamptz)
          ),
          prev AS (
            SELECT r.job_id, r.run_at FROM runs r
            JOIN input i ON r.job_id = i.job_id AND r.external_id = i.external_id
          ),
          up AS (
            INSERT INTO runs AS r (job_id, external_id, status, scheduled_for, started_at, ended_at, rows,
              bad_records, cpu_seconds, memory_mb, cost, exit_code, error, parent_run_id, environment, status_at)
            SELECT job_id, external_id, status, scheduled_for, started_at, ended_at, rows,
              bad_records, cpu_seconds, memory_mb, cost, exit_code, error, parent_run_id, environment, status_at
            FROM input
            ON CONFLICT (job_id, external_id) DO UPDATE SET
              status = CASE WHEN ${newer} THEN excluded.status ELSE r.status END,
              status_at = CASE WHEN ${newer} THEN excluded.status_at
                WHEN r.status = 'running' THEN greatest(r.status_at, excluded.status_at) ELSE r.status_at END,
              ended_at = CASE WHEN ${newer} THEN coalesce(excluded.ended_at, r.ended_at)
                ELSE coalesce(r.ended_at, excluded.ended_at) END,
              error = CASE WHEN ${newer} THEN
                  coalesce(excluded.error, CASE WHEN excluded.status = 'success' THEN NULL ELSE r.error END)
                ELSE coalesce(r.error, excluded.error) END,
              exit_code = CASE WHEN ${newer} THEN coalesce(excluded.exit_code, r.exit_code)
                ELSE coalesce(r.exit_code, excluded.exit_code) END,
              started_at = least(r.started_at, excluded.started_at),
              scheduled_for = coalesce(excluded.scheduled_for, r.scheduled_for),
              rows = coalesce(excluded.rows, r.rows),
              bad_records = coalesce(excluded.bad_records, r.bad_records),
              cpu_seconds = coalesce(excluded.cpu_seconds, r.cpu_seconds),
              memory_mb = coalesce(excluded.memory_mb, r.memory_mb),
              cost = coalesce(excluded.cost, r.cost),
              parent_run_id = coalesce(excluded.parent_run_id, r.parent_run_id),
              environment = coalesce(excluded.environment, r.environment),
              updated_at = now()
            RETURNING r.id, r.job_id, r.external_id, r.run_at, r.started_at, r.scheduled_for
          ),
          dirty AS (
            INSERT INTO rollup_dirty (job_id, day)
            SELECT DISTINCT job_id, (run_at AT TIME ZONE 'UTC')::date
            FROM (SELECT job_id, run_at FROM up UNION ALL SELECT job_id, run_at FROM prev) k
            RETURNING 1
          ),
          cand AS (
            SELECT DISTINCT ON (s.job_id, s.slot_at) s.job_id, s.slot_at, u.id
            FROM (SELECT id, job_id, coalesce(scheduled_for, started_at) AS t FROM up) u
            CROSS JOIN LATERAL (
              SELECT e.job_id, e.slot_at, e.closes_at, e.run_id FROM expected_runs e
              WHERE e.job_id = u.job_id AND e.opens_at <= u.t
              ORDER BY e.opens_at DESC LIMIT 1
            ) s
            WHERE s.closes_at > u.t AND s.run_id IS NULL
            ORDER BY s.job_id, s.slot_at, u.t
          ),
          slotted AS (
            UPDATE expected_runs e SET run_id = c.id
            FROM cand c
            WHERE e.job_id = c.job_id AND e.slot_at = c.slot_at AND e.run_id IS NULL
          ),
          -- Dataset events that named one of these runs before it arrived (src/ingest/lineage.ts)
          -- become write edges of its job; a run id two jobs of this chunk share names no writer.
          pending AS (
            DELETE FROM lineage_pending_writes p
            USING (SELECT external_id, min(job_id) AS job_id FROM up
                   GROUP BY external_id HAVING count(DISTINCT job_id) = 1) u
            WHERE p.run_external_id = u.external_id
            RETURNING u.job_id, p.dataset, p.first_seen, p.last_seen
          ),
          pending_edges AS (
            INSERT INTO lineage_edges AS le (job_id, direction, dataset, first_seen, last_seen)
            SELECT job_id, 'write', dataset, min(first_seen), max(last_seen) FROM pending
            GROUP BY job_id, dataset ORDER BY job_id, dataset
            ON CONFLICT (job_id, direction, dataset) DO UPDATE SET
              first_seen = least(le.first_seen, excluded.first_seen),
              last_seen = greatest(le.last_seen, excluded.last_seen)
          )
          SELECT ${
            wantIds
              ? sql`(SELECT json_agg(json_build_object('id', id, 'job_id', job_id, 'external_id', external_id))
                     FROM up)`
              : sql`NULL`
          } AS runs, (SELECT count(*) FROM dirty)::int AS marked`,
        tx,
      );
      for (const r of res?.runs ?? []) runIds.set(`${r.job_id}\u001f${r.external_id}`, Number(r.id));
      marked += res?.marked ?? 0;
    }
    return { runIds, marked };
  }

  /**
   * The lineage edges of the request: reads and writes its run and job events declare,
   * writes of dataset events with a known producer, and writes of dataset events that name
   * their run by run_id (after the runs are written, so this request's runs count; claims
   * that waited for one of these runs were taken by writeRuns).
   */
  private async writeLineage(
    tx: Executor,
    runs: RunEvent[],
    jobsEv: JobEvent[],
    datasetsEv: DatasetEvent[],
    jobIds: Map<string, number>,
  ): Promise<Map<string, { first: Date; last: Date }>> {
    const edges = new EdgeSet();
    const claims: WriteClaim[] = [];
    // A request names the same datasets run after run: each lineage name computed once.
    const names = new Map<string, string>();
    const nameOf = (d: { namespace: string; name: string }): string => {
      const k = `${d.namespace}\u001f${d.name}`;
      let n = names.get(k);
      if (n === undefined) names.set(k, (n = lineageName(d)));
      return n;
    };
    const declared = (e: RunEvent | JobEvent, at: Date | undefined) => {
      if (!at || (!e.inputs && !e.outputs)) return;
      const jobId = jobIds.get(key(e.namespace, e.job))!;
      for (const d of e.inputs ?? []) edges.add(jobId, "read", nameOf(d), at);
      for (const d of e.outputs ?? []) edges.add(jobId, "write", nameOf(d), at);
    };
    for (const r of runs) declared(r, r.eventTime);
    for (const j of jobsEv) declared(j, j.at);
    for (const d of datasetsEv) {
      const dataset = nameOf({ namespace: d.namespace, name: d.dataset });
      if (d.producer) {
        edges.add(jobIds.get(key(d.producer.namespace, d.producer.job))!, "write", dataset, d.updatedAt);
      } else if (d.runId !== undefined) claims.push({ runExternalId: d.runId, dataset, at: d.updatedAt });
    }
    await writeClaims(this.store, tx, claims);
    return queueEdges(this.store, tx, edges, this.edges);
  }

  private async resolveDatasets(
    tx: Executor,
    refs: { namespace: string; name: string; supplier?: string | undefined; owner?: string | undefined }[],
    pending: Map<string, { id: number; supplier?: string | undefined; owner?: string | undefined }>,
  ): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    const wanted = new Map<string, { namespace: string; name: string; supplier?: string; owner?: string }>();
    for (const r of refs) {
      const k = key(r.namespace, r.name);
      const cur = wanted.get(k) ?? { namespace: r.namespace, name: r.name };
      if (r.supplier) cur.supplier = r.supplier;
      if (r.owner) cur.owner = r.owner;
      wanted.set(k, cur);
    }
    const toWrite: { namespace: string; name: string; supplier?: string; owner?: string }[] = [];
    for (const [k, w] of wanted) {
      const cached = pending.get(k) ?? this.datasetIds.get(k);
      if (
        cached &&
        (!w.supplier || cached.supplier === w.supplier) &&
        (!w.owner || cached.owner === w.owner)
      ) {
        ids.set(k, cached.id);
      } else toWrite.push(w);
    }
    if (toWrite.length) {
      toWrite.sort((a, b) => (key(a.namespace, a.name) < key(b.namespace, b.name) ? -1 : 1));
      for (const chunk of jsonChunks(toWrite)) {
        const rows = await this.store.query<{
          id: number;
          namespace: string;
          name: string;
          supplier: string | null;
          owner: string | null;
        }>(
          sql`INSERT INTO datasets AS d (namespace, name, supplier, owner)
            SELECT namespace, name, supplier, owner
            FROM jsonb_to_recordset(${chunk.param}) AS x(namespace text, name text, supplier text, owner text)
            ON CONFLICT (namespace, name) DO UPDATE SET
              supplier = coalesce(excluded.supplier, d.supplier),
              owner = coalesce(excluded.owner, d.owner)
            RETURNING id, namespace, name, supplier, owner`,
          tx,
        );
        for (const r of rows) {
          const k = key(r.namespace, r.name);
          ids.set(k, r.id);
          pending.set(k, { id: r.id, supplier: r.supplier ?? undefined, owner: r.owner ?? undefined });
        }
      }
    }
    return ids;
  }

  private async writeDatasets(
    tx: Executor,
    events: DatasetEvent[],
    jobIds: Map<string, number>,
    runIds: Map<string, number>,
    pending: Map<string, { id: number; supplier?: string | undefined; owner?: string | undefined }>,
  ): Promise<void> {
    if (events.length === 0) return;
    const ids = await this.resolveDatasets(
      tx,
      events.map((e) => ({ namespace: e.namespace, name: e.dataset, supplier: e.supplier, owner: e.owner })),
      pending,
    );
    const items = events
      .map((e) => ({ e, datasetId: ids.get(key(e.namespace, e.dataset))!, fp: schemaFingerprint(e.schema) }))
      .sort((a, b) => a.datasetId - b.datasetId || a.e.updatedAt.getTime() - b.e.updatedAt.getTime());
    // A schema change is a fingerprint different from the previous update's (in time).
    const firsts = new Map<number, Date>();
    for (const it of items) if (it.fp && !firsts.has(it.datasetId)) firsts.set(it.datasetId, it.e.updatedAt);
    const prevFp = new Map<number, string>();
    for (const chunk of jsonChunks([...firsts].map(([d, at]) => ({ dataset_id: d, at })))) {
      const rows = await this.store.query<{ dataset_id: number; fp: string | null }>(
        sql`SELECT k.dataset_id, (
              SELECT u.schema_fingerprint FROM dataset_updates u
              WHERE u.dataset_id = k.dataset_id AND u.updated_at < k.at AND u.schema_fingerprint IS NOT NULL
              ORDER BY u.updated_at DESC LIMIT 1) AS fp
            FROM jsonb_to_recordset(${chunk.param}) AS k(dataset_id int, at timestamptz)`,
        tx,
      );
      for (const r of rows) if (r.fp) prevFp.set(r.dataset_id, r.fp);
    }
    const input = items.map(({ e, datasetId, fp }) => {
      const before = prevFp.get(datasetId);
      const changed = fp !== null && before !== undefined && before !== fp;
      if (fp) prevFp.set(datasetId, fp);
      let runId: number | undefined;
      if (e.producer && e.runId) {
        const jobId = jobIds.get(key(e.producer.namespace, e.producer.job));
        if (jobId !== undefined) runId = runIds.get(`${jobId}\u001f${e.runId}`);
      }
      return {
        dataset_id: datasetId,
        updated_at: e.updatedAt,
        rows: e.rows,
        bytes: e.bytes,
        bad_records: e.badRecords,
        schema_fingerprint: fp,
        schema_fields: e.schema ?? null,
        schema_changed: changed,
        run_external_id: e.runId,
        run_id: runId,
      };
    });
    for (const chunk of jsonChunks(input)) {
      await tx.execute(
        sql`INSERT INTO dataset_updates (dataset_id, updated_at, rows, bytes, bad_records, schema_fingerprint,
            schema_fields, schema_changed, run_external_id, run_id)
          SELECT dataset_id, updated_at, rows, bytes, bad_records, schema_fingerprint, schema_fields, schema_changed,
            run_external_id, run_id
          FROM jsonb_to_recordset(${chunk.param}) AS x(dataset_id int, updated_at timestamptz, rows bigint,
            bytes bigint, bad_records bigint, schema_fingerprint text, schema_fields jsonb, schema_changed boolean,
            run_external_id text, run_id bigint)`,
      );
    }
  }

  private async writeTests(
    tx: Executor,
    events: TestEvent[],
    jobIds: Map<string, number>,
    pendingDatasets: Map<string, { id: number; supplier?: string | undefined; owner?: string | undefined }>,
    pending: Map<string, number>,
  ): Promise<void> {
    if (events.length === 0) return;
    const dsIds = await this.resolveDatasets(
      tx,
      events
        .filter((e) => e.dataset)
        .map((e) => ({ namespace: e.datasetNamespace ?? DEFAULT_NAMESPACE, name: e.dataset! })),
      pendingDatasets,
    );
    const testKey = (e: TestEvent) =>
      [
        e.test,
        e.dataset ? key(e.datasetNamespace ?? DEFAULT_NAMESPACE, e.dataset) : "",
        e.job ? key(e.jobNamespace ?? DEFAULT_NAMESPACE, e.job) : "",
      ].join("\u001e");
    const toWrite = new Map<string, { key: string; name: string; dataset_id?: number; job_id?: number }>();
    for (const e of events) {
      const k = testKey(e);
      if (this.testIds.has(k) || pending.has(k) || toWrite.has(k)) continue;
      const row: { key: string; name: string; dataset_id?: number; job_id?: number } = {
        key: k,
        name: e.test,
      };
      if (e.dataset) row.dataset_id = dsIds.get(key(e.datasetNamespace ?? DEFAULT_NAMESPACE, e.dataset))!;
      if (e.job) row.job_id = jobIds.get(key(e.jobNamespace ?? DEFAULT_NAMESPACE, e.job))!;
      toWrite.set(k, row);
    }
    const newTests = [...toWrite.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    for (const chunk of jsonChunks(newTests)) {
      const rows = await this.store.query<{ id: number; key: string }>(
        sql`INSERT INTO tests AS t (key, name, dataset_id, job_id)
            SELECT key, name, dataset_id, job_id
            FROM jsonb_to_recordset(${chunk.param}) AS x(key text, name text, dataset_id int, job_id int)
            ON CONFLICT (key) DO UPDATE SET name = excluded.name
            RETURNING id, key`,
        tx,
      );
      for (const r of rows) pending.set(r.key, r.id);
    }
    const input = events.map((e) => {
      const k = testKey(e);
      return {
        test_id: pending.get(k) ?? this.testIds.get(k)!,
        status: e.status,
        environment: e.environment,
        value: e.value,
        at: e.at,
        run_external_id: e.runId,
      };
    });
    for (const chunk of jsonChunks(input)) {
      await tx.execute(
        sql`INSERT INTO test_results (test_id, status, environment, value, at, run_external_id)
          SELECT test_id, status, environment, value, at, run_external_id
          FROM jsonb_to_recordset(${chunk.param}) AS x(test_id int, status text, environment text, value text,
            at timestamptz, run_external_id text)`,
      );
    }
  }

  private async writeDeploys(tx: Executor, events: DeployEvent[]): Promise<void> {
    if (events.length === 0) return;
    const input = events.map((e) => ({
      artifact: e.artifact,
      kind: e.kind,
      version: e.version,
      environment: e.environment,
      status: e.status,
      at: e.at,
      project: e.project,
      tickets: e.tickets,
    }));
    for (const chunk of jsonChunks(input)) {
      await tx.execute(
        sql`INSERT INTO deploys (artifact, kind, version, environment, status, at, project, tickets)
          SELECT artifact, kind, version, environment, status, at, project,
            coalesce(ARRAY(SELECT jsonb_array_elements_text(tickets)), '{}')
          FROM jsonb_to_recordset(${chunk.param}) AS x(artifact text, kind text, version text, environment text,
            status text, at timestamptz, project text, tickets jsonb)`,
      );
    }
  }
}

interface RunRow {
  id: number | string;
  job_id: number;
  external_id: string;
}
