// A PostgreSQL connection lost in the middle of a transaction (a restart, a failover): the
// transaction fails with an error that says the database is unreachable, the process lives
// on (postgres.js 3.4 used to throw from a setImmediate and end it), and the store works
// again on fresh connections.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { openStore, type Store } from "../../src/db/client.ts";
import { isStoreUnavailable } from "../../src/db/unavailable.ts";
import { openTestStore, TEST_DATABASE_URL, type TestStore } from "../helpers/store.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(
  "a connection lost mid-transaction",
  { skip: !TEST_DATABASE_URL && "TEST_DATABASE_URL is not set" },
  () => {
    let db: TestStore;
    let proxy: TcpProxy;
    let store: Store;
    before(async () => {
      db = await openTestStore("postgres");
      const through = await TcpProxy.before(db.url!);
      proxy = through.proxy;
      store = await openStore({ databaseUrl: through.url, maxConnections: 2 });
    });
    after(async () => {
      await store.close();
      await proxy.stop();
      await db.dispose();
    });

    async function failsUnavailable(work: Promise<unknown>): Promise<void> {
      let caught: unknown;
      try {
        await work;
      } catch (err) {
        caught = err;
      }
      assert.ok(caught, "the transaction failed");
      assert.ok(isStoreUnavailable(caught), `an unavailable error: ${String(caught)}`);
    }

    async function worksAgain(): Promise<void> {
      const rows = await store.query<{ n: number }>(sql`SELECT 41 + 1 AS n`);
      assert.equal(Number(rows[0]!.n), 42);
      const written = await store.transaction(async (tx) => {
        await store.query(sql`CREATE TEMP TABLE IF NOT EXISTS t (n int)`, tx);
        await store.query(sql`INSERT INTO t VALUES (1)`, tx);
        return (await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM t`, tx))[0]!.n;
      });
      assert.ok(written >= 1);
    }

    it("while it waits between statements: fails as unavailable, and the store works after", async () => {
      // BEGIN, then SELECT 1: the cut comes after SELECT 1's answer, while the callback sleeps.
      proxy.cutInTransaction(2);
      await failsUnavailable(
        store.transaction(async (tx) => {
          await store.query(sql`SELECT 1`, tx);
          await sleep(100);
          await store.query(sql`SELECT 2`, tx);
        }),
      );
      // Give a throw from a postgres.js timer the chance to happen (it ended the process).
      await sleep(200);
      await worksAgain();
    });

    it("with a statement in flight: fails as unavailable, and the store works after", async () => {
      proxy.cutInTransaction(1);
      await failsUnavailable(
        store.transaction(async (tx) => {
          await store.query(sql`SELECT pg_sleep(0.2)`, tx);
          await store.query(sql`SELECT 2`, tx);
        }),
      );
      await sleep(200);
      await worksAgain();
    });

    it("bounds every statement of the pool at 60 s on the server", async () => {
      const rows = await store.query<{ statement_timeout: string }>(sql`SHOW statement_timeout`);
      assert.equal(rows[0]!.statement_timeout, "1min");
    });

    it("still rolls back and reports a statement's own error while the connection lives", async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await store.query(sql`CREATE TEMP TABLE IF NOT EXISTS u (n int)`, tx);
          await store.query(sql`INSERT INTO u VALUES (1)`, tx);
          await store.query(sql`SELECT 1/0`, tx);
        }),
        (err: Error & { cause?: { code?: string } }) =>
          !isStoreUnavailable(err) && err.cause?.code === "22012",
      );
      await worksAgain();
    });
  },
);
