// One store interface over two drivers: postgres.js for production (DATABASE_URL) and
// embedded PGlite (Postgres in WASM, file-backed) so a newcomer needs no server.
// The same migrations and the same SQL serve both.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { lockDataDir } from "./lock.ts";
import * as schema from "./schema.ts";

export { StoreLockedError } from "./lock.ts";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");
// Any fixed 64-bit number: every Houston process migrating one database takes this lock.
const MIGRATION_LOCK_KEY = 7_212_026_001;

export type Orm = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The ORM or a transaction of it: anything that can run a query. */
export type Executor = Pick<Orm, "execute" | "select" | "insert" | "update" | "delete">;

export interface Store {
  kind: "pglite" | "postgres";
  orm: Orm;
  /** Raw SQL, rows normalised across drivers (postgres.js returns an array, PGlite {rows}). */
  query<T>(q: SQL, ex?: Executor): Promise<T[]>;
  /** Runs fn in a transaction; retries on deadlock or serialization failure. */
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  /** True when the database answers and every migration is applied. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export async function rowsOf<T>(ex: Executor, q: SQL): Promise<T[]> {
  const res = (await ex.execute(q)) as unknown;
  if (Array.isArray(res)) return Array.from(res) as T[];
  return ((res as { rows?: T[] }).rows ?? []) as T[];
}

const RETRYABLE = new Set(["40P01", "40001"]);

function makeStore(kind: Store["kind"], orm: Orm, extra: Pick<Store, "migrate" | "close">): Store {
  const store: Store = {
    kind,
    orm,
    query: (q, ex) => rowsOf(ex ?? orm, q),
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await orm.transaction((tx) => fn(tx as unknown as Executor));
        } catch (err) {
          const code =
            (err as { code?: string; cause?: { code?: string } }).code ??
            (err as { cause?: { code?: string } }).cause?.code;
          if (attempt < 5 && code && RETRYABLE.has(code)) {
            await new Promise((r) => setTimeout(r, 10 * attempt * attempt));
            continue;
          }
          throw err;
        }
      }
    },
    async ready() {
      try {
        const rows = await rowsOf<{ n: number }>(
          orm,
          sqlTag`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
        );
        return (rows[0]?.n ?? 0) >= migrationCount();
      } catch {
        return false;
      }
    },
    ...extra,
  };
  return store;
}

import { sql as sqlTag } from "drizzle-orm";

let cachedCount: number | undefined;
function migrationCount(): number {
  if (cachedCount === undefined) {
    const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_DIR, "meta/_journal.json"), "utf8")) as {
      entries: unknown[];
    };
    cachedCount = journal.entries.length;
  }
  return cachedCount;
}

export interface OpenOptions {
  databaseUrl?: string;
  /** PGlite data directory; undefined → in memory (tests). */
  dataDir?: string;
  /**
   * In memory only: start from this dump of a data directory (PGlite's dumpDataDir) instead
   * of an empty cluster. Tests start each store from a migrated, seeded dump: ~0.3 s instead
   * of 2–5 s for initdb, migrations and seeding.
   */
  loadDataDir?: Blob;
  /** postgres.js pool size. */
  maxConnections?: number;
}

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const client = postgres(opts.databaseUrl, {
      max: opts.maxConnections ?? 10,
      onnotice: () => {},
      // Timestamps come back as Date; int8 stays a string unless cast (queries cast).
      // JIT off for every statement: Houston runs short statements of many index probes whose
      // estimated cost crosses jit_above_cost; compiling one rollup flush took 0.83 s of its
      // 1.05 s at 10M runs (the work itself ~0.2 s). Nothing here runs long enough to repay it.
      connection: { application_name: "houston", jit: "off" },
    });
    const orm = drizzlePostgres(client, { schema }) as unknown as Orm;
    return makeStore("postgres", orm, {
      async migrate() {
        // drizzle's migrate() takes no lock: two replicas migrating an empty database at
        // once collide. A session advisory lock serialises them; it is released if this
        // process dies. It lives on its own connection, so a pool of one can still migrate.
        const lock = postgres(opts.databaseUrl!, { max: 1, onnotice: () => {} });
        try {
          await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
          try {
            await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_DIR });
          } finally {
            await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
          }
        } finally {
          await lock.end({ timeout: 5 });
        }
      },
      close: () => client.end({ timeout: 5 }),
    });
  }
  // Loaded only when used: a PostgreSQL deployment never pays PGlite's memory (tens of MB).
  const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("drizzle-orm/pglite"),
    import("drizzle-orm/pglite/migrator"),
  ]);
  let unlock = () => {};
  let pg: PGlite;
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    unlock = lockDataDir(opts.dataDir);
    pg = new PGlite(path.join(opts.dataDir, "pgdata"));
  } else pg = new PGlite(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
  try {
    await pg.waitReady;
  } catch (err) {
    unlock();
    throw err;
  }
  const orm = drizzlePglite(pg, { schema }) as unknown as Orm;
  return makeStore("pglite", orm, {
    // PGlite is a single session in this process: nothing to race with.
    migrate: () => migratePglite(drizzlePglite(pg), { migrationsFolder: MIGRATIONS_DIR }),
    async close() {
      await pg.close();
      unlock();
    },
  });
}
