// The service as `npm start` and the image run it: the build in dist/. Benchmarks that
// start the service build it first, once per process, so they measure the current sources.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let built = false;

/** `npm run build`, then the argv that starts the service (node dist/src/main.js). */
export function serviceCommand(): string[] {
  if (!built) {
    const r = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0)
      throw new Error(`npm run build failed: ${(r.stderr || r.stdout).trim().slice(-1000)}`);
    built = true;
  }
  return [process.execPath, path.join(ROOT, "dist/src/main.js")];
}
