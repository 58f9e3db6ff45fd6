import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { openStore } from "../../src/db/client.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { createPgDatabase, TEST_DATABASE_URL } from "../helpers/store.ts";

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../../bin/houston.mjs");

describe("migrations", () => {
  it(
    "let three processes migrate one empty PostgreSQL database at the same moment",
    {
      skip: TEST_DATABASE_URL ? false : "needs TEST_DATABASE_URL (real PostgreSQL)",
    },
    async () => {
      const db = await createPgDatabase();
      try {
        const env = { ...process.env, DATABASE_URL: db.url, HOUSTON_CONFIG: "" };
        const results = await Promise.allSettled(
          [1, 2, 3].map(() => run(process.execPath, [BIN, "migrate"], { env })),
        );
        for (const r of results)
          assert.equal(r.status, "fulfilled", r.status === "rejected" ? String(r.reason) : "");
        const store = await openStore({ databaseUrl: db.url, maxConnections: 1 });
        const rows = await store.query<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
        );
        const ready = await store.ready();
        await store.close();
        assert.ok(rows[0]!.n >= 1);
        assert.equal(ready, true);
      } finally {
        await db.drop();
      }
    },
  );
});

describe("houston run against PostgreSQL", () => {
  it(
    "records the run through a one-connection pool, migrating an empty database first",
    {
      skip: TEST_DATABASE_URL ? false : "needs TEST_DATABASE_URL (real PostgreSQL)",
    },
    async () => {
      const db = await createPgDatabase();
      try {
        const env = { ...process.env, DATABASE_URL: db.url, HOUSTON_URL: "", HOUSTON_CONFIG: "" };
        const out = await run(
          process.execPath,
          [BIN, "run", "--job", "pg_wrapped", "--", process.execPath, "-e", "1"],
          {
            env,
          },
        );
        assert.equal(out.stderr, "");
        const store = await openStore({ databaseUrl: db.url, maxConnections: 1 });
        const rows = await store.query<{ status: string; exit_code: number }>(
          sql`SELECT r.status, r.exit_code FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'pg_wrapped'`,
        );
        await store.close();
        assert.deepEqual(rows, [{ status: "success", exit_code: 0 }]);
      } finally {
        await db.drop();
      }
    },
  );
});

describe("the embedded PGlite store", () => {
  it("keeps its data across a restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "houston-pglite-"));
    try {
      const first = await openStore({ dataDir: dir });
      await first.migrate();
      await new Ingestor(first).apply([
        {
          type: "run",
          namespace: "default",
          job: "persisted",
          runId: "1",
          status: "success",
          endedAt: new Date("2026-11-21T01:00:00Z"),
          eventTime: new Date("2026-11-21T01:00:00Z"),
        },
      ]);
      await first.close();
      const second = await openStore({ dataDir: dir });
      await second.migrate();
      const rows = await second.query<{ name: string }>(
        sql`SELECT j.name FROM runs r JOIN jobs j ON j.id = r.job_id`,
      );
      await second.close();
      assert.deepEqual(rows, [{ name: "persisted" }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a second process with a message saying what to do, and frees the lock on close", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "houston-pglite-"));
    try {
      const owner = await openStore({ dataDir: dir });
      await owner.migrate();
      const other = run(process.execPath, [BIN, "migrate"], {
        env: { ...process.env, HOUSTON_DATA_DIR: dir, DATABASE_URL: "" },
      });
      await assert.rejects(other, (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /in use by process \d+.*HOUSTON_URL/s);
        return true;
      });
      await owner.close();
      const again = await run(process.execPath, [BIN, "migrate"], {
        env: { ...process.env, HOUSTON_DATA_DIR: dir, DATABASE_URL: "" },
      });
      assert.match(again.stdout, /migrations applied/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
