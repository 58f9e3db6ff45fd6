// Parameter helpers shared by raw SQL. Both drivers get values as text with an explicit
// cast: postgres.js under drizzle does not serialise Date parameters, and one JSON
// document per batch is how set-based writes pass many rows in one round trip.
import { type SQL, sql } from "drizzle-orm";

/** A JS value as one jsonb parameter. */
export const json = (v: unknown): SQL => sql`${JSON.stringify(v)}::jsonb`;

/** A Date as a timestamptz parameter. */
export const ts = (d: Date): SQL => sql`${d.toISOString()}::timestamptz`;

/**
 * How much JSON one set-based write statement carries at most (about 1 MB). A 10 MB ingest
 * batch passed as one parameter grew the embedded store's WebAssembly memory from 189 to
 * 272 MB for that one statement (the text, its jsonb, the rows it expands to; RSS rose
 * ~150 MB), and that memory is never given back; written a chunk at a time, inside the same
 * transaction, a statement takes a bounded amount whatever the batch.
 */
export const JSON_CHUNK_CHARS = 1 << 20;

export interface JsonChunk<T> {
  /** The chunk's rows as one jsonb parameter. */
  param: SQL;
  rows: T[];
}

/**
 * `rows` as consecutive jsonb parameters of at most about `maxChars` characters of JSON each,
 * in order; a row is never split, so one larger than that goes alone. With `group`, rows of
 * one group (consecutive rows with the same key) stay in one chunk unless the group alone is
 * larger than a chunk: a statement that treats a group as a whole (a job's runs competing
 * for its expected slots) then sees all of it, as it did when a batch was one statement.
 * With `as`, each row is passed as what it returns, made only while its chunk is: the rows
 * of a whole batch, made at once, outlived several collections of the young generation and
 * stayed in the old one until the next full collection.
 */
export function* jsonChunks<T>(
  rows: readonly T[],
  opts: { maxChars?: number; group?: (row: T) => unknown; as?: (row: T) => unknown } = {},
): Generator<JsonChunk<T>> {
  const max = opts.maxChars ?? JSON_CHUNK_CHARS;
  let texts: string[] = [];
  let held: T[] = [];
  let chars = 0;
  // Where the group being read starts in `held`, and its characters.
  let groupStart = 0;
  let groupChars = 0;
  let groupKey: unknown;
  const take = (n: number): JsonChunk<T> => {
    const out = { param: sql`${`[${texts.slice(0, n).join(",")}]`}::jsonb`, rows: held.slice(0, n) };
    texts = texts.slice(n);
    held = held.slice(n);
    return out;
  };
  for (const row of rows) {
    const text = JSON.stringify(opts.as ? opts.as(row) : row);
    const size = text.length + 1;
    const key = opts.group?.(row);
    if (!opts.group || held.length === 0 || key !== groupKey) {
      groupStart = held.length;
      groupChars = 0;
      groupKey = key;
    }
    if (held.length && chars + size > max && groupStart > 0) {
      // Whole groups precede the open one: they go, the open group stays together.
      yield take(groupStart);
      chars = groupChars;
      groupStart = 0;
    }
    if (held.length && chars + size > max) {
      // The open group alone is larger than a chunk: it is split after all.
      yield take(held.length);
      chars = 0;
      groupChars = 0;
    }
    texts.push(text);
    held.push(row);
    chars += size;
    groupChars += size;
  }
  if (held.length) yield take(held.length);
}
