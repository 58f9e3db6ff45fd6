// The name index of a store, kept current: rebuilt from the database when it is older than
// REFRESH_MS, so a job ingested through any replica is understood by every other within
// seconds. Building it reads the small catalogue tables (jobs, datasets, deploys, tests),
// never the run history (the lineage graph's dataset names included); concurrent questions share one rebuild.
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import type { SubjectKind } from "./frame.ts";
import { type KnownName, NameIndex } from "./names.ts";

export const REFRESH_MS = 5_000;

const LISTS: [SubjectKind, ReturnType<typeof sql>][] = [
  ["job", sql`SELECT DISTINCT name FROM jobs ORDER BY 1`],
  ["group", sql`SELECT DISTINCT group_name AS name FROM jobs WHERE group_name IS NOT NULL ORDER BY 1`],
  ["owner", sql`SELECT DISTINCT owner AS name FROM jobs WHERE owner IS NOT NULL ORDER BY 1`],
  [
    "environment",
    sql`SELECT DISTINCT environment AS name FROM jobs WHERE environment IS NOT NULL ORDER BY 1`,
  ],
  // Datasets stored, and those only the lineage graph names (read by some job, never
  // updated). A stored dataset's lineage name (src/ingest/dataset-names.ts: schema.table,
  // the plain name, or namespace/name) is the same dataset, not a second one to ask about.
  [
    "dataset",
    sql`WITH known AS (
          SELECT lower(name) AS k FROM datasets
          UNION SELECT namespace || '/' || name FROM datasets
          UNION SELECT lower(array_to_string((string_to_array(name, '.'))[greatest(cardinality(string_to_array(name, '.')) - 1, 1):], '.')) FROM datasets)
        SELECT name FROM datasets
        UNION SELECT e.dataset FROM (SELECT DISTINCT dataset FROM lineage_edges) e
          WHERE e.dataset NOT IN (SELECT k FROM known)
        ORDER BY 1`,
  ],
  ["supplier", sql`SELECT DISTINCT supplier AS name FROM datasets WHERE supplier IS NOT NULL ORDER BY 1`],
  ["artifact", sql`SELECT DISTINCT artifact AS name FROM deploys ORDER BY 1`],
  ["project", sql`SELECT DISTINCT project AS name FROM deploys WHERE project IS NOT NULL ORDER BY 1`],
  ["test", sql`SELECT DISTINCT name FROM tests ORDER BY 1`],
];

/** Reads every known name from the store. */
export async function loadNames(store: Store): Promise<KnownName[]> {
  const lists = await Promise.all(
    LISTS.map(async ([kind, q]) =>
      (await store.query<{ name: string }>(q)).map((r) => ({ kind, name: r.name })),
    ),
  );
  return lists.flat();
}

interface Entry {
  at: number;
  index?: NameIndex;
  /** What the index was built from, so an unchanged catalogue is not indexed again. */
  fingerprint?: string;
  loading?: Promise<NameIndex>;
}
const entries = new WeakMap<Store, Entry>();

/**
 * The store's name index, refreshed when older than `maxAgeMs` (callers arriving during a
 * refresh share it). Up to twice that age the current index answers at once while the
 * refresh runs behind it, so a question never waits on the catalogue's queries (30–50 ms
 * at 10,000 names); older, the question waits for the fresh one. So a name ingested
 * through any replica is understood by every other within 2 × REFRESH_MS. A failed
 * refresh keeps the previous index rather than failing the question; with no index yet,
 * the error reaches the caller.
 */
export async function nameIndex(store: Store, now = Date.now(), maxAgeMs = REFRESH_MS): Promise<NameIndex> {
  let e = entries.get(store);
  if (!e) entries.set(store, (e = { at: 0 }));
  const entry = e;
  if (entry.index && now - entry.at < maxAgeMs) return entry.index;
  entry.loading ??= refresh(store, entry, now);
  if (entry.index && now - entry.at < 2 * maxAgeMs) {
    entry.loading.catch(() => undefined);
    return entry.index;
  }
  try {
    return await entry.loading;
  } catch (err) {
    if (entry.index) return entry.index;
    throw err;
  }
}

function refresh(store: Store, entry: Entry, now: number): Promise<NameIndex> {
  return loadNames(store)
    .then((names) => {
      // Building the index of a large fleet takes tens of milliseconds on the event loop;
      // most refreshes find the same names, and keep the index they have.
      const fingerprint = fingerprintOf(names);
      if (!entry.index || fingerprint !== entry.fingerprint) {
        entry.index = new NameIndex(names);
        entry.fingerprint = fingerprint;
      }
      entry.at = now;
      return entry.index;
    })
    .finally(() => {
      entry.loading = undefined;
    });
}

/** A cheap digest of the names (FNV-1a over kind and name), order included. */
function fingerprintOf(names: KnownName[]): string {
  let h = 0x811c9dc5;
  for (const n of names) {
    const s = `${n.kind}\0${n.name}\n`;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `${names.length}:${h.toString(16)}`;
}

/** Drops the cached index (tests that change the catalogue between questions). */
export function forgetNameIndex(store: Store): void {
  entries.delete(store);
}
