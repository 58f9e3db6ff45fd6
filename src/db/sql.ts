// Parameter helpers shared by raw SQL. Both drivers get values as text with an explicit
// cast: postgres.js under drizzle does not serialise Date parameters, and one JSON
// document per batch is how set-based writes pass many rows in one round trip.
import { type SQL, sql } from "drizzle-orm";

/** A JS value as one jsonb parameter. */
export const json = (v: unknown): SQL => sql`${JSON.stringify(v)}::jsonb`;

/** A Date as a timestamptz parameter. */
export const ts = (d: Date): SQL => sql`${d.toISOString()}::timestamptz`;
