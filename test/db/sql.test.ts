// Set-based writes pass their rows as jsonb parameters, a bounded chunk at a time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PgDialect } from "drizzle-orm/pg-core";
import { jsonChunks } from "../../src/db/sql.ts";

const dialect = new PgDialect();
/** The JSON text a chunk passes to the database. */
const textOf = (c: { param: Parameters<PgDialect["sqlToQuery"]>[0] }) =>
  String(dialect.sqlToQuery(c.param).params[0]);

describe("jsonChunks", () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({
    i,
    job: Math.floor(i / 7),
    pad: "x".repeat(i % 50),
  }));

  it("passes every row once, in order, in parameters of at most the given size", () => {
    const chunks = [...jsonChunks(rows, { maxChars: 2_000 })];
    assert.ok(chunks.length > 10, `${chunks.length} chunks`);
    for (const c of chunks) {
      assert.ok(textOf(c).length <= 2_001, `a chunk of ${textOf(c).length} characters`);
      assert.deepEqual(JSON.parse(textOf(c)), c.rows);
    }
    assert.deepEqual(
      chunks.flatMap((c) => c.rows),
      rows,
    );
  });

  it("passes a batch under the size as one parameter, and nothing for no rows", () => {
    const chunks = [...jsonChunks(rows)];
    assert.equal(chunks.length, 1);
    assert.deepEqual(JSON.parse(textOf(chunks[0]!)), rows);
    assert.equal([...jsonChunks([])].length, 0);
  });

  it("passes each row as `as` makes it, while `group` and the rows still see the originals", () => {
    const chunks = [...jsonChunks(rows, { maxChars: 2_000, group: (r) => r.job, as: (r) => [r.i, r.job] })];
    assert.deepEqual(
      chunks.flatMap((c) => JSON.parse(textOf(c)) as unknown[]),
      rows.map((r) => [r.i, r.job]),
    );
    assert.deepEqual(
      chunks.flatMap((c) => c.rows),
      rows,
    );
  });

  it("never splits a row: one larger than a chunk goes alone", () => {
    const big = { i: -1, pad: "y".repeat(5_000) };
    const chunks = [...jsonChunks([rows[0]!, big, rows[1]!], { maxChars: 1_000 })];
    assert.deepEqual(
      chunks.map((c) => c.rows),
      [[rows[0]], [big], [rows[1]]],
    );
  });

  it("keeps a group's rows in one chunk unless the group alone is larger than a chunk", () => {
    const chunks = [...jsonChunks(rows, { maxChars: 2_000, group: (r) => r.job })];
    const chunkOf = new Map<number, Set<number>>();
    chunks.forEach((c, n) => {
      assert.ok(textOf(c).length <= 2_001);
      for (const r of c.rows) chunkOf.set(r.job, (chunkOf.get(r.job) ?? new Set()).add(n));
    });
    for (const [job, where] of chunkOf) assert.equal(where.size, 1, `job ${job} is in chunks ${[...where]}`);
    assert.deepEqual(
      chunks.flatMap((c) => c.rows),
      rows,
    );
    // One group of 1,000 rows in chunks of 2,000 characters: split, in order, none too large.
    const one = [...jsonChunks(rows, { maxChars: 2_000, group: () => "same" })];
    assert.ok(one.length > 10);
    assert.ok(one.every((c) => textOf(c).length <= 2_001));
    assert.deepEqual(
      one.flatMap((c) => c.rows),
      rows,
    );
  });
});
