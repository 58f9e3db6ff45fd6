// The embedded store (PGlite in a data directory): a small buffer pool, since PGlite keeps all
// of it resident, and a brand-new store that starts from the build's image of a migrated one
// instead of initdb and every migration (most of a first start's 3.8–4.1 s).
import assert from "node:assert/strict";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { buildStoreImage } from "../../src/db/build-store-image.ts";
import { MIGRATIONS_DIR, openStore, type Store } from "../../src/db/client.ts";
import { findStoreImage, storeImagePath } from "../../src/db/store-image.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { REPO_ROOT } from "../helpers/fixtures.ts";

const tempDir = (what: string) => mkdtempSync(path.join(tmpdir(), `houston-${what}-`));

const migrationsApplied = async (store: Store) =>
  (await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`))[0]!.n;

const aRun = (runId: string) => ({
  type: "run" as const,
  namespace: "default",
  job: "kept",
  runId,
  status: "success" as const,
  endedAt: new Date("2026-11-21T01:00:00Z"),
  eventTime: new Date("2026-11-21T01:00:00Z"),
});

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

describe("a brand-new embedded store", () => {
  let imageDir: string;
  const dirs: string[] = [];
  const dataDir = () => {
    const d = tempDir("fresh-store");
    dirs.push(d);
    return d;
  };

  before(async () => {
    imageDir = tempDir("store-image");
    await buildStoreImage(imageDir);
  });
  after(() => {
    for (const d of [imageDir, ...dirs]) rmSync(d, { recursive: true, force: true });
  });

  it("starts from the build's image: migrated before the migrator runs, which then finds nothing to do", async () => {
    const dir = dataDir();
    const store = await openStore({ dataDir: dir, storeImageDir: imageDir });
    try {
      assert.equal(await store.ready(), true, "every migration is applied before migrate() runs");
      const applied = await migrationsApplied(store);
      await store.migrate();
      assert.equal(await migrationsApplied(store), applied);
      await new Ingestor(store).apply([aRun("1")]);
    } finally {
      await store.close();
    }
    assert.deepEqual(
      readdirSync(dir).sort(),
      ["pgdata"],
      "nothing is left beside the store (no half-unpacked image, the lock released)",
    );
    // And it is a store like any other: reopened, its data is there.
    const again = await openStore({ dataDir: dir, storeImageDir: imageDir });
    const rows = await again.query<{ external_id: string }>(sql`SELECT external_id FROM runs`);
    await again.close();
    assert.deepEqual(rows, [{ external_id: "1" }]);
  });

  it("never lays the image over a store that exists", async () => {
    const dir = dataDir();
    const first = await openStore({ dataDir: dir });
    await first.migrate();
    await new Ingestor(first).apply([aRun("mine")]);
    await first.close();
    const again = await openStore({ dataDir: dir, storeImageDir: imageDir });
    const rows = await again.query<{ external_id: string }>(sql`SELECT external_id FROM runs`);
    await again.close();
    assert.deepEqual(rows, [{ external_id: "mine" }]);
  });

  it("unpacks afresh over what a start stopped while unpacking left behind", async () => {
    const dir = dataDir();
    mkdirSync(path.join(dir, "pgdata.unpacking", "base"), { recursive: true });
    writeFileSync(path.join(dir, "pgdata.unpacking", "PG_VERSION"), "18\n");
    const store = await openStore({ dataDir: dir, storeImageDir: imageDir });
    try {
      assert.equal(await store.ready(), true);
    } finally {
      await store.close();
    }
    assert.equal(existsSync(path.join(dir, "pgdata.unpacking")), false);
  });

  it("is created as before (initdb, then the migrations) when no image was built for these migrations", async () => {
    // An image of other migrations (a build before a new migration landed) is not used.
    const stale = tempDir("stale-image");
    dirs.push(stale);
    copyFileSync(
      storeImagePath(imageDir, MIGRATIONS_DIR),
      path.join(stale, "migrated-0123456789abcdef.tar.gz"),
    );
    const store = await openStore({ dataDir: dataDir(), storeImageDir: stale });
    try {
      assert.equal(await store.ready(), false, "an empty cluster: no image was used");
      await store.migrate();
      assert.equal(await store.ready(), true);
    } finally {
      await store.close();
    }
  });

  it("is created as before, and says why, when the image cannot be unpacked", async () => {
    const broken = tempDir("broken-image");
    dirs.push(broken);
    writeFileSync(storeImagePath(broken, MIGRATIONS_DIR), "not a gzipped tar");
    const dir = dataDir();
    const problems: unknown[] = [];
    const store = await openStore({
      dataDir: dir,
      storeImageDir: broken,
      onImageError: (err) => problems.push(err),
    });
    try {
      assert.equal(problems.length, 1);
      assert.match(String(problems[0]), /header|gzip|incorrect/i);
      assert.equal(existsSync(path.join(dir, "pgdata.unpacking")), false);
      await store.migrate();
      assert.equal(await store.ready(), true);
    } finally {
      await store.close();
    }
  });

  it(
    "ships in the build: npm run build leaves an image for the current migrations in dist/",
    {
      skip: !existsSync(path.join(REPO_ROOT, "dist/src/main.js")) && "dist/ is not built",
    },
    () => {
      assert.ok(
        findStoreImage(path.join(REPO_ROOT, "dist/store-image"), path.join(REPO_ROOT, "dist/migrations")),
        "dist/store-image holds an image for dist/migrations",
      );
      assert.equal(
        storeImagePath(path.join(REPO_ROOT, "dist/store-image"), path.join(REPO_ROOT, "dist/migrations")),
        storeImagePath(path.join(REPO_ROOT, "dist/store-image"), path.join(REPO_ROOT, "migrations")),
        "the build's migrations are the repository's",
      );
    },
  );
});
