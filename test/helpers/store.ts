// A fresh, migrated store per test file or test: in-memory PGlite always, and a brand-new
// PostgreSQL database when TEST_DATABASE_URL is set (CI sets it). Tests never share state.
//
// Opening is cheap because stores start from images built once: PGlite from a dump of a
// migrated (or demo-seeded) data directory, PostgreSQL by `CREATE DATABASE … TEMPLATE`.
// initdb, migrations and seeding the demo fleet once cost 2–5 s per store; a copy ~0.3 s.
// Images are keyed by a hash of migrations/ and src/, so a change to either builds new ones.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe } from "node:test";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { openStore, type Store } from "../../src/db/client.ts";
import { REPO_ROOT } from "./fixtures.ts";

export interface TestStore extends Store {
  /** Connection URL (postgres only), for tests that start other processes. */
  url?: string;
  /** Empties every table (and restarts ids), as a store opened afresh would be. */
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

export type StoreKind = "pglite" | "postgres";

export const TEST_DATABASE_URL = process.env["TEST_DATABASE_URL"] || undefined;

export function storeKinds(): StoreKind[] {
  return TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/** What a store image holds: the schema only, or the schema and what `build` writes. */
export interface StoreImage {
  name: string;
  build?: (store: Store) => Promise<void>;
}

const MIGRATED: StoreImage = { name: "migrated" };

/** PGlite images are shared between test processes through files here. */
const CACHE_DIR =
  process.env["HOUSTON_TEST_CACHE"] || path.join(REPO_ROOT, "node_modules/.cache/houston-test");

let sourceKey: string | undefined;
/** A hash of everything an image depends on: the migrations and the code that seeds it. */
function imageKey(): string {
  if (sourceKey) return sourceKey;
  const h = createHash("sha256");
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(path.relative(REPO_ROOT, p)).update("\0").update(readFileSync(p)).update("\0");
    }
  };
  walk(path.join(REPO_ROOT, "migrations"));
  walk(path.join(REPO_ROOT, "src"));
  sourceKey = h.digest("hex").slice(0, 12);
  return sourceKey;
}

const pgliteImages = new Map<string, Promise<Blob>>();

/** The dump of a PGlite image: from this process's memory, the shared cache, or built now. */
function pgliteImage(image: StoreImage): Promise<Blob> {
  let p = pgliteImages.get(image.name);
  if (!p) {
    p = (async () => {
      const file = path.join(CACHE_DIR, `${imageKey()}-${image.name}.tar`);
      try {
        if (statSync(file).size > 0) return new Blob([readFileSync(file)]);
      } catch {
        // Not built yet by any process: build it here.
      }
      const store = await openStore({});
      try {
        await store.migrate();
        await image.build?.(store);
        const dump = await ((store.orm as unknown as { $client: PGlite }).$client.dumpDataDir(
          "none",
        ) as Promise<Blob>);
        // Written whole, then renamed: a process reading it never sees half a file.
        mkdirSync(CACHE_DIR, { recursive: true });
        const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
        writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
        renameSync(tmp, file);
        return dump;
      } finally {
        await store.close();
      }
    })();
    pgliteImages.set(image.name, p);
  }
  return p;
}

function admin() {
  return postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
}

function dbUrl(name: string): string {
  const u = new URL(TEST_DATABASE_URL!);
  u.pathname = `/${name}`;
  return u.toString();
}

const pgTemplates = new Map<string, Promise<string>>();

/**
 * The name of a PostgreSQL template database holding the image, built by the first process
 * that needs it (the others wait on an advisory lock and then find it).
 */
function pgTemplate(image: StoreImage): Promise<string> {
  let p = pgTemplates.get(image.name);
  if (!p) {
    p = (async () => {
      const name = `houston_tpl_${imageKey()}_${image.name}`;
      const a = admin();
      try {
        const exists = async () =>
          (await a`SELECT 1 FROM pg_database WHERE datname = ${name} AND datistemplate`).length > 0;
        if (await exists()) return name;
        const lockKey = Number.parseInt(createHash("sha256").update(name).digest("hex").slice(0, 12), 16);
        await a`SELECT pg_advisory_lock(${lockKey})`;
        try {
          if (await exists()) return name;
          // Images of older sources are of no further use.
          for (const { datname } of await a<{ datname: string }[]>`
              SELECT datname FROM pg_database
              WHERE datname LIKE ${`houston_tpl_%_${image.name}`} AND datname <> ${name}`) {
            await a.unsafe(`ALTER DATABASE ${datname} IS_TEMPLATE false`);
            await a.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
          }
          const building = `${name}_b`;
          await a.unsafe(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
          await a.unsafe(`CREATE DATABASE ${building}`);
          const store = await openStore({ databaseUrl: dbUrl(building), maxConnections: 5 });
          try {
            await store.migrate();
            await image.build?.(store);
          } finally {
            await store.close();
          }
          await a.unsafe(`ALTER DATABASE ${building} RENAME TO ${name}`);
          await a.unsafe(`ALTER DATABASE ${name} IS_TEMPLATE true`);
          return name;
        } finally {
          await a`SELECT pg_advisory_unlock(${lockKey})`;
        }
      } finally {
        await a.end();
      }
    })();
    pgTemplates.set(image.name, p);
  }
  return p;
}

/** Creates a PostgreSQL database (empty, or a copy of a template) and returns its URL and a drop function. */
export async function createPgDatabase(
  template?: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const name = `houston_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const a = admin();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await a.unsafe(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
        break;
      } catch (err) {
        // 55006: the template is briefly in use (another copy or its last connection closing).
        if ((err as { code?: string }).code !== "55006" || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await a.end();
  }
  return {
    url: dbUrl(name),
    async drop() {
      const d = admin();
      await d.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

/** Every table of Houston's schema, for reset(). */
async function truncateAll(store: Store): Promise<void> {
  const tables = await store.query<{ name: string }>(
    sql`SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
  );
  if (tables.length)
    await store.query(sql.raw(`TRUNCATE ${tables.map((t) => t.name).join(", ")} RESTART IDENTITY CASCADE`));
}

/** A TestStore over a store a test opened itself (another replica's pool, say). */
export function asTestStore(store: Store, dispose: () => Promise<void> = () => store.close()): TestStore {
  return Object.assign(store, { reset: () => truncateAll(store), dispose });
}

/**
 * A store holding `image` (by default: migrated and empty). `migrate: false` gives an empty
 * database without Houston's schema.
 */
export async function openTestStore(
  kind: StoreKind,
  opts: { migrate?: boolean; image?: StoreImage } = {},
): Promise<TestStore> {
  const image = opts.image ?? MIGRATED;
  if (kind === "pglite") {
    const store =
      opts.migrate === false
        ? await openStore({})
        : await openStore({ loadDataDir: await pgliteImage(image) });
    return asTestStore(store);
  }
  const db = await createPgDatabase(opts.migrate === false ? undefined : await pgTemplate(image));
  const store = await openStore({ databaseUrl: db.url, maxConnections: 5 });
  return Object.assign(
    asTestStore(store, async () => {
      await store.close();
      await db.drop();
    }),
    { url: db.url },
  );
}

/** Defines the suite once per store kind: "… (pglite)" and "… (postgres)". */
export function describeEachStore(title: string, fn: (kind: StoreKind) => void): void {
  for (const kind of storeKinds()) describe(`${title} (${kind})`, () => fn(kind));
}
