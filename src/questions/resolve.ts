// Resolving the names people type to jobs, groups, datasets, suppliers, artifacts and
// projects. An unknown name never yields an empty answer: it raises UnknownNameError with
// the closest known names, which the router turns into "did you mean …?".
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";

export type NameKind = "job" | "group" | "dataset" | "supplier" | "artifact" | "project";

export class UnknownNameError extends Error {
  override name = "UnknownNameError";
  constructor(
    readonly kind: NameKind,
    readonly given: string,
    readonly suggestions: string[],
  ) {
    super(`no ${kind} ${given}`);
  }
}

/** Levenshtein distance, bounded: stops early once every path exceeds `max`. */
export function editDistance(a: string, b: string, max = 64): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The last dotted/slashed segment: "orders_daily.nightly_orders" → "nightly_orders". */
function tail(name: string): string {
  const parts = name.split(/[./]/);
  return parts[parts.length - 1]!;
}

/** Up to `n` known names closest to `given` (by whole name or last segment). */
export function closest(given: string, known: string[], n = 3): string[] {
  const g = given.toLowerCase();
  const scored: { name: string; d: number }[] = [];
  for (const name of known) {
    const l = name.toLowerCase();
    let d = Math.min(editDistance(g, l, 12), editDistance(g, tail(l), 12));
    if (l.includes(g) || g.includes(tail(l))) d = Math.min(d, 2);
    const limit = Math.max(2, Math.floor(g.length / 3));
    if (d <= limit) scored.push({ name, d });
  }
  scored.sort((a, b) => a.d - b.d || a.name.length - b.name.length || (a.name < b.name ? -1 : 1));
  return [...new Set(scored.map((s) => s.name))].slice(0, n);
}

interface NameCache {
  at: number;
  names: Map<NameKind, string[]>;
}
const CACHE_MS = 30_000;
const caches = new WeakMap<Store, NameCache>();

const LISTS: Record<NameKind, ReturnType<typeof sql>> = {
  job: sql`SELECT DISTINCT name FROM jobs ORDER BY 1`,
  group: sql`SELECT DISTINCT group_name AS name FROM jobs WHERE group_name IS NOT NULL ORDER BY 1`,
  dataset: sql`SELECT DISTINCT name FROM datasets ORDER BY 1`,
  supplier: sql`SELECT DISTINCT supplier AS name FROM datasets WHERE supplier IS NOT NULL ORDER BY 1`,
  artifact: sql`SELECT DISTINCT artifact AS name FROM deploys ORDER BY 1`,
  project: sql`SELECT DISTINCT project AS name FROM deploys WHERE project IS NOT NULL ORDER BY 1`,
};

/** All known names of a kind; cached briefly (names change rarely, questions come often). */
export async function knownNames(store: Store, kind: NameKind): Promise<string[]> {
  let c = caches.get(store);
  if (!c || Date.now() - c.at > CACHE_MS) {
    c = { at: Date.now(), names: new Map() };
    caches.set(store, c);
  }
  let names = c.names.get(kind);
  if (!names) {
    names = (await store.query<{ name: string }>(LISTS[kind])).map((r) => r.name);
    c.names.set(kind, names);
  }
  return names;
}

/** Forget cached names (tests that load data between questions). */
export function forgetNames(store: Store): void {
  caches.delete(store);
}

/**
 * The known name a person meant: exact, then case-insensitive, then a unique match on
 * the last segment ("nightly_orders" for "orders_daily.nightly_orders"). Throws
 * UnknownNameError with suggestions otherwise.
 */
export async function resolveName(store: Store, kind: NameKind, given: string): Promise<string> {
  let names = await knownNames(store, kind);
  let found = pick(names, given);
  if (found === undefined) {
    // A name that appeared since the cache was filled.
    forgetNames(store);
    names = await knownNames(store, kind);
    found = pick(names, given);
  }
  if (found !== undefined) return found;
  throw new UnknownNameError(kind, given, closest(given, names));
}

function pick(names: string[], given: string): string | undefined {
  if (names.includes(given)) return given;
  const lower = given.toLowerCase();
  const ci = names.filter((n) => n.toLowerCase() === lower);
  if (ci.length === 1) return ci[0];
  const bySegment = names.filter((n) => tail(n.toLowerCase()) === lower);
  if (bySegment.length === 1) return bySegment[0];
  return undefined;
}

/**
 * The first of the question's names that is a known name of this kind, or undefined.
 * Lets a family tell "which of these words is the job?" without guessing.
 */
export async function findKnown(
  store: Store,
  kind: NameKind,
  candidates: string[],
): Promise<string | undefined> {
  const names = await knownNames(store, kind);
  for (const c of candidates) {
    const found = pick(names, c);
    if (found !== undefined) return found;
  }
  return undefined;
}
