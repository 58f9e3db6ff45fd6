// The name index of a store, kept current: rebuilt from the database when it is older than
// REFRESH_MS, so a job ingested through any replica is understood by every other within
// seconds. Building it reads the small catalogue tables (jobs, datasets, deploys, tests),
// never the run history; concurrent questions share one rebuild.
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import type { SubjectKind } from "./frame.ts";
import { type KnownName, NameIndex } from "./names.ts";

export const REFRESH_MS = 5_000;

const LISTS: [SubjectKind, ReturnType<typeof sql>][] = [
  ["job", sql`SELECT DISTINCT name FROM jobs`],
  ["group", sql`SELECT DISTINCT group_name AS name FROM jobs WHERE group_name IS NOT NULL`],
  ["owner", sql`SELECT DISTINCT owner AS name FROM jobs WHERE owner IS NOT NULL`],
  ["environment", sql`SELECT DISTINCT environment AS name FROM jobs WHERE environment IS NOT NULL`],
  ["dataset", sql`SELECT DISTINCT name FROM datasets`],
  ["supplier", sql`SELECT DISTINCT supplier AS name FROM datasets WHERE supplier IS NOT NULL`],
  ["artifact", sql`SELECT DISTINCT artifact AS name FROM deploys`],
  ["project", sql`SELECT DISTINCT project AS name FROM deploys WHERE project IS NOT NULL`],
  ["test", sql`SELECT DISTINCT name FROM tests`],
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
  loading?: Promise<NameIndex>;
}
const entries = new WeakMap<Store, Entry>();

/**
 * The store's name index, rebuilt when older than `maxAgeMs` (callers arriving during a
 * rebuild share it). A failed rebuild keeps the previous index rather than failing the
 * question; with no index yet, the error reaches the caller.
 */
export async function nameIndex(store: Store, now = Date.now(), maxAgeMs = REFRESH_MS): Promise<NameIndex> {
  let e = entries.get(store);
  if (!e) entries.set(store, (e = { at: 0 }));
  const entry = e;
  if (entry.index && now - entry.at < maxAgeMs) return entry.index;
  entry.loading ??= loadNames(store)
    .then((names) => {
      entry.index = new NameIndex(names);
      entry.at = now;
      return entry.index;
    })
    .finally(() => {
      entry.loading = undefined;
    });
  try {
    return await entry.loading;
  } catch (err) {
    if (entry.index) return entry.index;
    throw err;
  }
}

/** Drops the cached index (tests that change the catalogue between questions). */
export function forgetNameIndex(store: Store): void {
  entries.delete(store);
}
