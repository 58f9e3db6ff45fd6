// The image of a migrated embedded store, made by `npm run build` (src/db/build-store-image.ts)
// so that a brand-new embedded store starts from a copy of it: PGlite's initdb and every
// migration took 2–3 s of a first start, loading the image well under one. An image is
// named by a key of what it depends on, the migrations and the PGlite release, so a build
// with other migrations (or an upgraded PGlite) never hands out a stale one: without an
// image for the current key, a new store is created as before.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/**
 * Where the build puts images: dist/store-image/, found from the build (dist/src/db/ here)
 * and from the sources (src/db/: the CLI when the build is stale, tests) alike.
 */
export const STORE_IMAGE_DIR = (() => {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  return path.join(path.basename(up) === "dist" ? up : path.join(up, "dist"), "store-image");
})();

let pgliteVersion: string | undefined;
/** The installed PGlite's version: its data directory format goes with it. */
function installedPgliteVersion(): string {
  if (pgliteVersion === undefined) {
    // The package exports no package.json: find it beside the entry point's dist/.
    const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(entry), "../package.json"), "utf8")) as {
      version: string;
    };
    pgliteVersion = pkg.version;
  }
  return pgliteVersion;
}

/** A hash of every file under `migrationsDir` (path and content) and the PGlite version. */
export function storeImageKey(migrationsDir: string): string {
  const h = createHash("sha256").update(`pglite ${installedPgliteVersion()}\0`);
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(path.relative(migrationsDir, p)).update("\0").update(readFileSync(p)).update("\0");
    }
  };
  walk(migrationsDir);
  return h.digest("hex").slice(0, 16);
}

/** The file the image for these migrations has (or would have) in `imageDir`. */
export function storeImagePath(imageDir: string, migrationsDir: string): string {
  return path.join(imageDir, `migrated-${storeImageKey(migrationsDir)}.tar.gz`);
}

/** The image for these migrations in `imageDir`, or undefined when none was built for them. */
export function findStoreImage(imageDir: string, migrationsDir: string): string | undefined {
  const file = storeImagePath(imageDir, migrationsDir);
  return existsSync(file) ? file : undefined;
}

/**
 * Unpacks an image (a gzipped tar, as PGlite's dumpDataDir writes it: directories and
 * regular files) into `target`, which must not exist yet. It is unpacked beside it and
 * renamed into place, so a process stopped meanwhile never leaves half a cluster where
 * the store looks for one. Unpacking with Node took about a third of the time PGlite's
 * own loadDataDir took, most of it creating the cluster's ~1,100 files.
 */
export function unpackStoreImage(file: string, target: string): void {
  const tar = gunzipSync(readFileSync(file));
  const tmp = `${target}.unpacking`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  try {
    for (let at = 0; at + 512 <= tar.length;) {
      const header = tar.subarray(at, at + 512);
      const text = (from: number, length: number) => {
        const field = header.subarray(from, from + length);
        const end = field.indexOf(0);
        return field.subarray(0, end < 0 ? length : end).toString("utf8");
      };
      const name = [text(345, 155), text(0, 100)].filter(Boolean).join("/");
      if (name === "") break; // the two zero blocks that end the archive
      const size = parseInt(text(124, 12).trim() || "0", 8);
      const mode = parseInt(text(100, 8).trim() || "600", 8) & 0o777;
      const rel = path.normalize(name.replace(/^\/+/, ""));
      if (rel.startsWith("..") || path.isAbsolute(rel))
        throw new Error(`image entry outside the store: ${name}`);
      const dest = path.join(tmp, rel);
      const type = String.fromCharCode(header[156] ?? 0);
      if (type === "5") mkdirSync(dest, { recursive: true, mode });
      else if (type === "0" || type === "\0") {
        mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
        writeFileSync(dest, tar.subarray(at + 512, at + 512 + size), { mode });
      } else
        throw new Error(
          `image entry ${name} is of tar type ${JSON.stringify(type)}, not a file or directory`,
        );
      at += 512 + Math.ceil(size / 512) * 512;
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
