// Supplier feeds for the arrivals question: each dataset with an expected arrival time, and
// its update times near a span (within DELIVERY_REACH_MS either side, where a day's
// delivery may land). Feeds are few; each is one range scan on dataset_updates
// (dataset_id, updated_at).
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import { ts } from "../sql.ts";
import { DELIVERY_REACH_MS } from "../../digests/deliveries.ts";

export interface SupplierFeed {
  id: number;
  name: string;
  supplier: string | null;
  owner: string | null;
  /** "HH:MM", each day in `timezone`. */
  expectedArrival: string;
  timezone: string | null;
  /** Update times (epoch ms, as a Date holds them) near the span, oldest first. */
  updates: number[];
}

interface Row {
  id: number;
  name: string;
  supplier: string | null;
  owner: string | null;
  expected_arrival: string;
  arrival_timezone: string | null;
  updates: unknown[] | null;
}

/** Which feeds: one supplier's, one dataset, or all. */
export type FeedFilter = { supplier: string } | { dataset: string } | Record<string, never>;

/** The feeds of `filter` with their updates near [from, to); by supplier then name. */
export async function supplierFeeds(
  store: Store,
  filter: FeedFilter,
  from: Date,
  to: Date,
): Promise<SupplierFeed[]> {
  const only =
    "supplier" in filter
      ? sql`AND d.supplier = ${filter.supplier}`
      : "dataset" in filter
        ? sql`AND d.name = ${filter.dataset}`
        : sql``;
  const rows = await store.query<Row>(
    sql`SELECT d.id, d.name, d.supplier, d.owner, d.expected_arrival, d.arrival_timezone,
          ARRAY(SELECT floor(extract(epoch FROM u.updated_at) * 1000)::float8 FROM dataset_updates u
                WHERE u.dataset_id = d.id AND u.updated_at >= ${ts(new Date(from.getTime() - DELIVERY_REACH_MS))}
                  AND u.updated_at < ${ts(new Date(to.getTime() + DELIVERY_REACH_MS))}
                ORDER BY u.updated_at) AS updates
        FROM datasets d
        WHERE d.expected_arrival IS NOT NULL ${only}
        ORDER BY d.supplier NULLS LAST, d.name`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    supplier: r.supplier,
    owner: r.owner,
    expectedArrival: r.expected_arrival,
    timezone: r.arrival_timezone,
    updates: (r.updates ?? []).map(Number),
  }));
}
