// Supplier deliveries for a span, with the rules `/houston arrivals` (commands/arrivals.ts) uses too:
// a feed (datasets.expected_arrival "HH:MM" in arrival_timezone) is due once per local
// calendar day; its delivery is the first update within 12 h either side of the expected
// time; on time when it lands by expected + 30 min, late after that, missing when nothing
// lands. Feeds are few; each is one range scan on dataset_updates (dataset_id, updated_at),
// returning only the update times near the span.
import { TZDate } from "@date-fns/tz";
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { ts } from "../db/sql.ts";
import { DAY_MS } from "./common.ts";

export const DELIVERY_GRACE_MS = 30 * 60_000;
export const DELIVERY_REACH_MS = 12 * 3_600_000;

export interface Feed {
  id: number;
  name: string;
  supplier: string;
  owner: string | null;
  expectedArrival: string;
  timezone: string;
}

export interface Delivery {
  feed: Feed;
  expected: Date;
  arrived?: Date;
  outcome: "on_time" | "late" | "missing";
  /** arrived − expected, ms (negative: early). */
  delayMs?: number;
}

/** Expected instants of a feed with from ≤ t < to, one per local calendar day. */
export function expectedTimes(
  feed: Pick<Feed, "expectedArrival" | "timezone">,
  from: Date,
  to: Date,
): Date[] {
  const m = /^(\d{1,2}):(\d{2})$/.exec(feed.expectedArrival.trim());
  if (!m) return [];
  const out: Date[] = [];
  const first = new TZDate(from.getTime() - DAY_MS, feed.timezone);
  // Calendar days stepped in UTC arithmetic, so a DST change never skips or repeats one.
  for (
    let day = Date.UTC(first.getFullYear(), first.getMonth(), first.getDate());
    day <= to.getTime() + DAY_MS;
    day += DAY_MS
  ) {
    const d = new Date(day);
    const t = new TZDate(
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      Number(m[1]),
      Number(m[2]),
      feed.timezone,
    );
    if (t.getTime() >= from.getTime() && t.getTime() < to.getTime()) out.push(new Date(t.getTime()));
  }
  return out;
}

/** Every delivery due with from ≤ expected < to (all of them are judged: the span is past). */
export async function loadDeliveries(store: Store, from: Date, to: Date): Promise<Delivery[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT d.id, d.name, coalesce(d.supplier, d.name) AS supplier, d.owner, d.expected_arrival,
          coalesce(d.arrival_timezone, 'UTC') AS tz,
          ARRAY(SELECT (extract(epoch FROM u.updated_at) * 1000)::float8 FROM dataset_updates u
                WHERE u.dataset_id = d.id
                  AND u.updated_at >= ${ts(new Date(from.getTime() - DELIVERY_REACH_MS))}
                  AND u.updated_at < ${ts(new Date(to.getTime() + DELIVERY_REACH_MS))}
                ORDER BY u.updated_at) AS updates
        FROM datasets d
        WHERE d.expected_arrival IS NOT NULL
        ORDER BY d.supplier, d.name`,
  );
  const out: Delivery[] = [];
  for (const r of rows) {
    const feed: Feed = {
      id: Number(r["id"]),
      name: String(r["name"]),
      supplier: String(r["supplier"]),
      owner: (r["owner"] as string | null) ?? null,
      expectedArrival: String(r["expected_arrival"]),
      timezone: String(r["tz"]),
    };
    const updates = ((r["updates"] as unknown[] | null) ?? []).map(Number);
    for (const expected of expectedTimes(feed, from, to)) {
      const e = expected.getTime();
      const first = updates.find((u) => u >= e - DELIVERY_REACH_MS && u < e + DELIVERY_REACH_MS);
      if (first === undefined) out.push({ feed, expected, outcome: "missing" });
      else
        out.push({
          feed,
          expected,
          arrived: new Date(first),
          delayMs: first - e,
          outcome: first > e + DELIVERY_GRACE_MS ? "late" : "on_time",
        });
    }
  }
  return out;
}
