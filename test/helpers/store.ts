// A fresh, migrated store per test: in-memory PGlite always, and a brand-new PostgreSQL
// database when TEST_DATABASE_URL is set (CI sets it). Tests never share state.
import { randomBytes } from "node:crypto";
import { describe } from "node:test";
import postgres from "postgres";
import { openStore, type Store } from "../../src/db/client.ts";

export interface TestStore extends Store {
  /** Connection URL (postgres only), for tests that start other processes. */
  url?: string;
  dispose(): Promise<void>;
}

export type StoreKind = "pglite" | "postgres";

export const TEST_DATABASE_URL = process.env["TEST_DATABASE_URL"] || undefined;

export function storeKinds(): StoreKind[] {
  return TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];
}

/** Creates an empty PostgreSQL database and returns its URL and a drop function. */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const name = `houston_t_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export async function openTestStore(kind: StoreKind, opts: { migrate?: boolean } = {}): Promise<TestStore> {
  if (kind === "pglite") {
    const store = await openStore({});
    if (opts.migrate !== false) await store.migrate();
    return Object.assign(store, { dispose: () => store.close() });
  }
  const db = await createPgDatabase();
  const store = await openStore({ databaseUrl: db.url, maxConnections: 5 });
  if (opts.migrate !== false) await store.migrate();
  return Object.assign(store, {
    url: db.url,
    async dispose() {
      await store.close();
      await db.drop();
    },
  });
}

/** Defines the suite once per store kind: "… (pglite)" and "… (postgres)". */
export function describeEachStore(title: string, fn: (kind: StoreKind) => void): void {
  for (const kind of storeKinds()) describe(`${title} (${kind})`, () => fn(kind));
}
