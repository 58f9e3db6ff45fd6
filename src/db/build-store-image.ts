// `node dist/src/db/build-store-image.js` (the last step of `npm run build`): writes the image
// of a migrated embedded store for the migrations beside it (src/db/store-image.ts), so a
// brand-new store starts from it instead of initdb and every migration.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { MIGRATIONS_DIR, openStore } from "./client.ts";
import { STORE_IMAGE_DIR, storeImagePath } from "./store-image.ts";

/** Migrates an empty in-memory store and writes its dump to imageDir; returns the file. */
export async function buildStoreImage(
  imageDir = STORE_IMAGE_DIR,
  migrationsDir = MIGRATIONS_DIR,
): Promise<string> {
  const file = storeImagePath(imageDir, migrationsDir);
  const store = await openStore({});
  try {
    await store.migrate();
    // Flushed to the data files, so a store loaded from the image has no WAL to replay.
    await store.orm.execute(sql`CHECKPOINT`);
    const pg = (store.orm as unknown as { $client: PGlite }).$client;
    const dump = await pg.dumpDataDir("gzip");
    mkdirSync(imageDir, { recursive: true });
    // Images of other migrations are of no use to this build.
    for (const old of readdirSync(imageDir)) rmSync(path.join(imageDir, old), { force: true });
    // Whole, then renamed: a store never loads half an image.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file);
    return file;
  } finally {
    await store.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildStoreImage();
}
