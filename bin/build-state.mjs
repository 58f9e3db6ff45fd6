// Whether dist/ holds a build at least as new as every source file. Shared by the `houston`
// command (which runs dist/ when it is fresh) and `npm start` (which builds only when not).
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BUILT_CLI = path.join(ROOT, "dist/src/cli/main.js");
const BUILT_MAIN = path.join(ROOT, "dist/src/main.js");

/** The newest modification time of any file under these folders. */
function newest(dirs) {
  let max = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else max = Math.max(max, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return max;
}

export function buildIsFresh() {
  if (!existsSync(BUILT_CLI) || !existsSync(BUILT_MAIN)) return false;
  const builtAt = Math.min(statSync(BUILT_CLI).mtimeMs, statSync(BUILT_MAIN).mtimeMs);
  const dirs = ["src", "commands", "reports", "migrations"].map((d) => path.join(ROOT, d));
  // The image has no tsconfig files: only the ones present count.
  const configs = ["tsconfig.json", "tsconfig.build.json"]
    .map((f) => path.join(ROOT, f))
    .filter((f) => existsSync(f));
  return builtAt >= newest(dirs) && configs.every((f) => statSync(f).mtimeMs <= builtAt);
}

// `node bin/build-state.mjs --build-if-stale` (npm's prestart): builds only when needed.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Also npm's `prepare` (npm ci / npm install), so a fresh install starts in about a second.
  // Where there is nothing to build from (the image's dependency stage: no sources, no
  // TypeScript), there is nothing to do.
  const canBuild =
    existsSync(path.join(ROOT, "src")) && existsSync(path.join(ROOT, "node_modules/typescript"));
  if (process.argv.includes("--build-if-stale") && canBuild && !buildIsFresh()) {
    const { spawnSync } = await import("node:child_process");
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = spawnSync(npm, ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
    process.exit(r.status ?? 1);
  }
}
