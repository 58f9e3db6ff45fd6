// The embedded store (PGlite in a data directory): a small buffer pool, since PGlite keeps all
// of it resident.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { openStore } from "../../src/db/client.ts";

const tempDir = (what: string) => mkdtempSync(path.join(tmpdir(), `houston-${what}-`));

describe("the embedded store's buffer pool", () => {
  it("is 32 MB in memory and in a data directory, not PostgreSQL's 128 MB, all of which PGlite keeps resident", async () => {
    const dir = tempDir("buffers");
    try {
      for (const store of [await openStore({}), await openStore({ dataDir: dir })]) {
        const [row] = await store.query<{ shared_buffers: string }>(sql`SHOW shared_buffers`);
        await store.close();
        assert.equal(row?.shared_buffers, "32MB");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
