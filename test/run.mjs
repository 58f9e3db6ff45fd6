// `npm test`: builds dist/ (the process tests start the built service), then runs every test
// file two at a time while typecheck and lint run beside them at a lower priority, then the
// log-leak check; the last line printed is the summary ("tests: N passed, N failed, N skipped").
// Progress is one dot per test; the whole TAP log is kept in a file for when something fails.
// Plain JavaScript: it starts before anything is compiled.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const started = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs a command; resolves with its exit code and everything it printed (when captured). */
function run(cmd, args, { capture = false, env = process.env, nice = false } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const [c, a] = nice ? ["nice", ["-n", "10", cmd, ...args]] : [cmd, args];
    const child = spawn(c, a, {
      cwd: ROOT,
      env,
      stdio: ["ignore", capture ? "pipe" : "inherit", capture ? "pipe" : "inherit"],
    });
    let out = "";
    if (capture) {
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
    }
    child.on("error", (err) => resolve({ code: 127, out: `${out}${err.message}\n`, ms: Date.now() - t0 }));
    child.on("close", (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), out, ms: Date.now() - t0 }),
    );
  });
}

function testFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith(".test.ts")) out.push(path.relative(ROOT, p));
  }
  return out.sort();
}

// Longest first: with two at a time, a slow file started last would leave one core idle.
function bySize(files) {
  return files
    .map((f) => ({ f, size: statSync(path.join(ROOT, f)).size }))
    .sort((a, b) => b.size - a.size)
    .map((x) => x.f);
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

// `--lts`: the same test files on the Node LTS the image runs (node@24 from the npm
// registry), against the embedded store only; typecheck and lint are not repeated.
const lts = process.argv.includes("--lts");
let nodeBin = process.execPath;
if (lts) {
  const found = await run(
    npm,
    ["exec", "--yes", "--package=node@24", "--", "node", "-p", "process.execPath"],
    {
      capture: true,
    },
  );
  nodeBin = found.out.trim().split("\n").pop() ?? "";
  if (found.code !== 0 || !nodeBin) {
    process.stdout.write(found.out);
    console.log("could not install node@24 from the npm registry: nothing was tested");
    console.log("tests: 0 passed, 1 failed");
    process.exit(1);
  }
}
// npm ci's prepare has usually built dist/ already; rebuilt only when a source is newer.
const build = await run(process.execPath, ["bin/build-state.mjs", "--build-if-stale"], { capture: true });
if (build.code !== 0) {
  process.stdout.write(build.out);
  console.log("build failed: nothing was tested");
  console.log("tests: 0 passed, 1 failed");
  process.exit(1);
}

const checks = lts
  ? []
  : [
      {
        name: "typecheck",
        promise: run(npm, ["run", "typecheck", "--silent"], { capture: true, nice: true }),
      },
      { name: "lint", promise: run(npm, ["run", "lint", "--silent"], { capture: true, nice: true }) },
    ];

const logDir = mkdtempSync(path.join(tmpdir(), "houston-test-logs-"));
const tap = path.join(mkdtempSync(path.join(tmpdir(), "houston-test-")), "tests.tap");
const files = bySize(testFiles(path.join(ROOT, "test")));
const env = { ...process.env, HOUSTON_TEST_LOG_DIR: logDir };
if (lts) delete env["TEST_DATABASE_URL"];
const version = (await run(nodeBin, ["--version"], { capture: true })).out.trim();
console.log(
  `${files.length} test files, 2 at a time, on Node ${version}${env["TEST_DATABASE_URL"] ? ", on PGlite and PostgreSQL" : ", on PGlite"}` +
    `${lts ? "" : "; typecheck and lint beside them"}. Full log: ${tap}`,
);
const tests = await run(
  nodeBin,
  [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-reporter=dot",
    "--test-reporter-destination=stdout",
    "--test-reporter=tap",
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { env },
);

let failed = tests.code !== 0;
// A failed typecheck, lint or leak check counts as one failed test in the summary.
let checksFailed = 0;
for (const c of checks) {
  const r = await c.promise;
  if (r.code === 0) console.log(`${c.name}: ok (${secs(r.ms)})`);
  else {
    checksFailed++;
    process.stdout.write(r.out);
    console.log(`${c.name}: failed (exit ${r.code})`);
  }
}

const leaks = await run(process.execPath, [
  "--import",
  "tsx",
  "test/ops/log-leaks.ts",
  logDir,
  "--remove-when-clean",
]);
if (leaks.code !== 0) checksFailed++;

const counts = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
try {
  // The runner's own totals, from the end of the TAP log.
  for (const line of readFileSync(tap, "utf8").split("\n").slice(-20)) {
    const m = /^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
  }
} catch {
  failed = true;
  console.log(`no test log at ${tap}: the test runner did not finish`);
}
if (counts.tests === 0) failed = true;
const bad = counts.fail + counts.cancelled + checksFailed;
if (tests.code !== 0 && counts.fail + counts.cancelled === 0)
  console.log(`the test runner exited ${tests.code} (see ${tap})`);
console.log(`took ${secs(Date.now() - started)}; tests ${secs(tests.ms)}`);
console.log(`tests: ${counts.pass} passed, ${bad} failed, ${counts.skipped + counts.todo} skipped`);
process.exit(failed || bad > 0 ? 1 : 0);
