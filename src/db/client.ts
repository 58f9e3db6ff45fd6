// One store interface over two drivers: postgres.js for production (DATABASE_URL) and
// embedded PGlite (Postgres in WASM, file-backed) so a newcomer needs no server.
// The same migrations and the same SQL serve both.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { within } from "../deadline.ts";
import { lockDataDir } from "./lock.ts";
import { findStoreImage, STORE_IMAGE_DIR, unpackStoreImage } from "./store-image.ts";
import { isStoreUnavailable } from "./unavailable.ts";
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
  /**
   * True when the database answers and every migration is applied; false when not, or when
   * it has not answered within timeoutMs (default READY_TIMEOUT_MS). Never waits longer.
   */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function rowsOf<T>(ex: Executor, q: SQL): Promise<T[]> {
  const res = (await ex.execute(q)) as unknown;
  if (Array.isArray(res)) return Array.from(res) as T[];
  return ((res as { rows?: T[] }).rows ?? []) as T[];
}

const RETRYABLE = new Set(["40P01", "40001"]);

/** How long ready() waits for the database by default: /readyz answers within a second. */
export const READY_TIMEOUT_MS = 800;

/** Runs fn in one transaction of the driver, once. */
type RunTransaction = <T>(fn: (tx: Executor) => Promise<T>) => Promise<T>;

function makeStore(
  kind: Store["kind"],
  orm: Orm,
  extra: Pick<Store, "migrate" | "close" | "ready">,
  runTransaction: RunTransaction = (fn) => orm.transaction((tx) => fn(tx as unknown as Executor)),
): Store {
  const store: Store = {
    kind,
    orm,
    query: (q, ex) => rowsOf(ex ?? orm, q),
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await runTransaction(fn);
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
    ...extra,
  };
  return store;
}

/**
 * How long a transaction whose connection was lost waits for postgres.js to notice before
 * being failed anyway (see lossSafeTransaction).
 */
const LOST_CONNECTION_GRACE_MS = 30_000;

function connectionLost(): Error {
  return Object.assign(new Error("the transaction's database connection was lost"), {
    code: "CONNECTION_CLOSED",
  });
}

/**
 * Transactions that survive their connection being lost. postgres.js 3.4 answers a
 * transaction callback's rejection by writing ROLLBACK, and runs the callback's later
 * statements, on the connection even once it has closed; the write then dereferences the
 * closed socket from a setImmediate and the TypeError ends the process (porsager/postgres
 * #1066, #1154, #1208; unfixed in 3.4.10). A PostgreSQL restart or failover with a write in
 * progress crashed Houston that way. So, here:
 * - the callback's statements go through a guard that, once the connection is known lost,
 *   fails them without touching the connection;
 * - when the callback fails because the connection was lost, its rejection is not passed
 *   on (no ROLLBACK is written): postgres.js has already failed the transaction itself, as
 *   it races every transaction against its connection's close, and the server rolls back
 *   a transaction whose session ended. Only a few closures wait forever per lost connection.
 * If the transaction is somehow still open after LOST_CONNECTION_GRACE_MS (the connection
 * was in fact alive), the rejection is passed on after all, and ROLLBACK runs normally.
 */
function lossSafeTransaction(client: postgres.Sql): RunTransaction {
  return async <T>(fn: (tx: Executor) => Promise<T>): Promise<T> => {
    let lost = false;
    let settled = false;
    const noteLoss = (err: unknown) => {
      if (isStoreUnavailable(err)) lost = true;
    };
    const begun = client.begin(
      (scoped) =>
        new Promise<T>((resolve, reject) => {
          const guarded = new Proxy(scoped, {
            get(target, key, receiver) {
              // drizzle reads the pool's options (its date parsers, already set on them).
              if (key === "options") return client.options;
              if (key !== "unsafe") return Reflect.get(target, key, receiver) as unknown;
              return (...args: Parameters<postgres.Sql["unsafe"]>) => {
                if (lost) {
                  const refused = Promise.reject(connectionLost());
                  return Object.assign(refused, { values: () => refused, raw: () => refused });
                }
                const q = target.unsafe(...args);
                q.catch(noteLoss);
                return q;
              };
            },
          });
          // drizzle types a client as Sql; a transaction's is TransactionSql, which it runs alike.
          const tx = drizzlePostgres(guarded as unknown as postgres.Sql, { schema }) as unknown as Executor;
          fn(tx).then(resolve, (err: unknown) => {
            noteLoss(err);
            if (!lost) return reject(err);
            setTimeout(() => {
              if (!settled) reject(err);
            }, LOST_CONNECTION_GRACE_MS).unref();
          });
        }),
    );
    try {
      return (await begun) as T;
    } catch (err) {
      noteLoss(err);
      throw err;
    } finally {
      settled = true;
    }
  };
}

/** Whether every migration is applied, asked through `ex`. */
async function migrated(ex: Executor): Promise<boolean> {
  const rows = await rowsOf<{ n: number }>(
    ex,
    sqlTag`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`,
  );
  return (rows[0]?.n ?? 0) >= migrationCount();
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
  /**
   * With dataDir: where the build's images of a migrated store are (default dist/store-image,
   * src/db/store-image.ts); a brand-new store starts from the one for the current migrations.
   */
  storeImageDir?: string;
  /** Hears why an image could not be loaded; the store is then created without it. */
  onImageError?: (err: unknown) => void;
}

/**
 * postgres.js waits 30 s for a connection by default; an unreachable database then held
 * every request that long (28 s seen in an outage). A connection here takes milliseconds,
 * and one that has not answered in 1 s is not coming: its queries fail, and the request
 * is answered 503 (src/db/unavailable.ts) while the database is away.
 */
const CONNECT_TIMEOUT_S = 1;
/**
 * The server ends any statement of the service's pool that runs longer than this: Houston's
 * statements take milliseconds to a few seconds, and a runaway one (a query plan gone
 * wrong) must not hold a connection, and the request waiting on it, forever. Migrations run
 * on their own connection, without it.
 */
const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * The embedded store's buffer pool. PGlite allocates it inside its WebAssembly memory and
 * zeroes it at start, so all of it is resident at once: PostgreSQL's default of 128 MB was
 * some 150 MB of a service's RSS before it stored anything. Below it the operating system's
 * page cache holds the data files anyway; at 1M runs the store's core queries took the same
 * time with 32 MB (`npm run bench`, step pglite).
 */
export const PGLITE_SHARED_BUFFERS = "32MB";

function pgliteStartParams(defaults: string[]): string[] {
  return [...defaults, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`];
}

type PGliteClass = typeof PGlite;

/**
 * Opens the embedded store in `dataDir` (its `pgdata` folder). A brand-new one starts as a
 * copy of the build's image of a migrated store when there is one for these migrations
 * (src/db/store-image.ts); else, or when the image cannot be unpacked, PGlite creates it
 * (initdb), and the migrations run as usual.
 */
async function openDataDir(PGliteCtor: PGliteClass, dataDir: string, opts: OpenOptions): Promise<PGlite> {
  const pgdata = path.join(dataDir, "pgdata");
  // Only where there is nothing yet: anything else in pgdata is left to PGlite, as before.
  if (!existsSync(pgdata) || readdirSync(pgdata).length === 0) {
    const image = findStoreImage(opts.storeImageDir ?? STORE_IMAGE_DIR, MIGRATIONS_DIR);
    if (image) {
      try {
        rmSync(pgdata, { recursive: true, force: true });
        unpackStoreImage(image, pgdata);
      } catch (err) {
        opts.onImageError?.(err);
      }
    }
  }
  const pg = new PGliteCtor(pgdata, { startParams: pgliteStartParams(PGliteCtor.defaultStartParams) });
  await pg.waitReady;
  return pg;
}

export async function openStore(opts: OpenOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const url = opts.databaseUrl;
    const client = postgres(url, {
      max: opts.maxConnections ?? 10,
      onnotice: () => {},
      connect_timeout: CONNECT_TIMEOUT_S,
      // Timestamps come back as Date; int8 stays a string unless cast (queries cast).
      // JIT off for every statement: Houston runs short statements of many index probes whose
      // estimated cost crosses jit_above_cost; compiling one rollup flush took 0.83 s of its
      // 1.05 s at 10M runs (the work itself ~0.2 s). Nothing here runs long enough to repay it.
      connection: {
        application_name: "houston",
        jit: "off",
        statement_timeout: STATEMENT_TIMEOUT_MS,
      },
    });
    const orm = drizzlePostgres(client, { schema }) as unknown as Orm;
    // Readiness asks on a connection of its own: a pool busy with large writes is no
    // reason to report the database down, and a probe stuck on a dead connection is
    // thrown away (below) rather than left to block the next one.
    const newProbe = () =>
      postgres(url, {
        max: 1,
        onnotice: () => {},
        connect_timeout: CONNECT_TIMEOUT_S,
        idle_timeout: 60,
        connection: { application_name: "houston-probe" },
      });
    let probe = newProbe();
    let closed = false;
    return makeStore(
      "postgres",
      orm,
      {
        async ready(timeoutMs = READY_TIMEOUT_MS) {
          if (closed) return false;
          const current = probe;
          const ok = await within(migrated(drizzlePostgres(current)), timeoutMs);
          if (!ok && current === probe && !closed) {
            probe = newProbe();
            void current.end({ timeout: 0 }).catch(() => {});
          }
          return ok;
        },
        async migrate() {
          // drizzle's migrate() takes no lock: two replicas migrating an empty database at
          // once collide. A session advisory lock serialises them; it is released if this
          // process dies. The lock and the migrations share one connection of their own, so
          // a pool of one can still migrate and no statement timeout cuts a long migration.
          const lock = postgres(url, { max: 1, onnotice: () => {} });
          try {
            await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
            try {
              await migratePostgres(drizzlePostgres(lock), { migrationsFolder: MIGRATIONS_DIR });
            } finally {
              await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
            }
          } finally {
            await lock.end({ timeout: 5 });
          }
        },
        async close() {
          closed = true;
          await Promise.all([client.end({ timeout: 5 }), probe.end({ timeout: 1 })]);
        },
      },
      lossSafeTransaction(client),
    );
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
    try {
      pg = await openDataDir(PGlite, opts.dataDir, opts);
    } catch (err) {
      unlock();
      throw err;
    }
  } else {
    pg = new PGlite({
      startParams: pgliteStartParams(PGlite.defaultStartParams),
      ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}),
    });
    await pg.waitReady;
  }
  const orm = drizzlePglite(pg, { schema }) as unknown as Orm;
  // PGlite lives in this process: it is up until closed. Once the migrations are seen
  // applied, readiness asks nothing more of it, since a query would wait behind whatever
  // transaction is running (a large ingest takes seconds) and report a busy store as down.
  let seenMigrated = false;
  return makeStore("pglite", orm, {
    async ready(timeoutMs = READY_TIMEOUT_MS) {
      if (pg.closed) return false;
      if (!seenMigrated) seenMigrated = await within(migrated(orm), timeoutMs);
      return seenMigrated;
    },
    // PGlite is a single session in this process: nothing to race with.
    migrate: () => migratePglite(drizzlePglite(pg), { migrationsFolder: MIGRATIONS_DIR }),
    async close() {
      await pg.close();
      unlock();
    },
  });
}
