// Stopping the built service in the ways that once hung it: its stdout reader gone
// (`houston | cat`, cat killed: it never exited), its stdout reader stalled (exit waited on
// the pipe forever), and SIGTERM sent to `npm start` alone (npm's shell died, node ran on
// holding the embedded store), and a SIGTERM during startup (it killed the process outright).
// Each time: out within 10 s, the store closed (its lock gone).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startHouston } from "./process.ts";

/** Resolves with the exit, or rejects after ms (then the caller kills what is left). */
function exitWithin<T>(exited: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    exited,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running ${ms} ms after SIGTERM`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below pid (children, grandchildren…). */
function descendants(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there are none
  }
  const children = out.split("\n").map(Number).filter(Boolean);
  return [...children, ...children.flatMap(descendants)];
}

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
};

describe("stopping the service", () => {
  let dir: string;
  let n = 0;
  const dataDir = () => join(dir, `data-${n++}`);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "houston-stop-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("exits 0 on SIGTERM after the reader of its stdout has gone", { timeout: 120_000 }, async () => {
    const data = dataDir();
    const houston = startHouston({ HOUSTON_DATA_DIR: data, PORT: "0" });
    try {
      await houston.port;
      // The reading end of its stdout closes: every line from now on meets EPIPE.
      houston.child.stdout!.destroy();
      const signalled = performance.now();
      houston.child.kill("SIGTERM");
      const exit = await exitWithin(houston.exited, 15_000);
      assert.equal(exit.code, 0, `stderr: ${houston.stderr()}`);
      assert.ok(exit.at - signalled < 10_000, `exited ${Math.round(exit.at - signalled)} ms after SIGTERM`);
      assert.equal(existsSync(join(data, "lock")), false, "the store was closed");
    } finally {
      houston.kill();
    }
  });

  it(
    "exits on SIGTERM while nobody reads its stdout, and what it wrote is whole lines",
    { timeout: 120_000 },
    async () => {
      const data = dataDir();
      const houston = startHouston({ HOUSTON_DATA_DIR: data, PORT: "0" });
      try {
        const url = `http://127.0.0.1:${await houston.port}`;
        houston.child.stdout!.pause();
        // Each request logs a line of several kB (its path): far more than a pipe holds.
        const path = `/${"x".repeat(4_000)}`;
        for (let i = 0; i < 400; i++) assert.equal((await fetch(url + path)).status, 404);
        const signalled = performance.now();
        houston.child.kill("SIGTERM");
        const exit = await exitWithin(houston.exited, 15_000);
        assert.ok(exit.at - signalled < 10_000, `exited ${Math.round(exit.at - signalled)} ms after SIGTERM`);
        assert.equal(exit.code, 0, `stderr: ${houston.stderr()}`);
        assert.equal(existsSync(join(data, "lock")), false, "the store was closed");
        houston.child.stdout!.resume();
        await new Promise((resolve) => houston.child.stdout!.once("close", resolve));
        assert.ok(houston.lines.length > 10);
        assert.deepEqual(
          houston.lines.filter((l) => l["notJson"]),
          [],
          "every complete line is JSON",
        );
      } finally {
        houston.kill();
      }
    },
  );

  it(
    "stops the orderly way on a SIGTERM that arrives while it is still starting",
    { timeout: 120_000 },
    async () => {
      const data = dataDir();
      const houston = startHouston({ HOUSTON_DATA_DIR: data, PORT: "0" });
      try {
        // The store is open and migrated; the HTTP listener is not up yet.
        await houston.waitFor(
          (l) => String(l["msg"]).startsWith("using the embedded PGlite store"),
          "the store line",
        );
        houston.child.kill("SIGTERM");
        const exit = await exitWithin(houston.exited, 15_000);
        assert.equal(exit.signal, null, "not killed by the signal");
        assert.equal(exit.code, 0, `stderr: ${houston.stderr()}`);
        assert.equal(houston.lines.at(-1)?.["msg"], "stopped");
        assert.equal(existsSync(join(data, "lock")), false, "the store was closed");
      } finally {
        houston.kill();
      }
    },
  );

  it("stops node when SIGTERM reaches `npm start` alone", { timeout: 120_000 }, async () => {
    const data = dataDir();
    // --ignore-scripts: npm runs the start script itself but not prestart's build, which
    // is another test's subject and would rebuild dist/ under other tests.
    const npm = startHouston({ HOUSTON_DATA_DIR: data, PORT: "0" }, ["npm", "start", "--ignore-scripts"]);
    let nodes: number[] = [];
    try {
      await npm.port;
      nodes = descendants(npm.child.pid!).filter((pid) => cmdline(pid).includes("dist/src/main.js"));
      assert.equal(nodes.length, 1, "one node process runs the service");
      const signalled = performance.now();
      npm.child.kill("SIGTERM");
      while (nodes.some(alive)) {
        assert.ok(performance.now() - signalled < 10_000, "node exited within 10 s of SIGTERM to npm");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await exitWithin(npm.exited, 5_000);
      assert.equal(existsSync(join(data, "lock")), false, "the store was closed");
    } finally {
      for (const pid of nodes.filter(alive)) process.kill(pid, "SIGKILL");
      npm.kill();
    }
  });
});
