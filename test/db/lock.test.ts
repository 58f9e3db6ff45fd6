// The embedded store's lock against real processes: a stale lock whose pid now belongs to
// another process (a pid reused after a crash or a container restart) is taken over; a lock
// held by a live Node.js process that started when the lock says is refused.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { openStore } from "../../src/db/client.ts";
import { lockDataDir, processStartTime, StoreLockedError } from "../../src/db/lock.ts";

const skip = existsSync("/proc/self/stat") ? false : "needs /proc (Linux)";

/** A running child and its pid, ready once it has started (its /proc entry exists). */
async function child(command: string, args: string[]): Promise<ChildProcess & { pid: number }> {
  const p = spawn(command, args, { stdio: "ignore" });
  await new Promise<void>((resolve, reject) => {
    p.once("spawn", resolve);
    p.once("error", reject);
  });
  return p as ChildProcess & { pid: number };
}

describe("the embedded store's lock", { skip }, () => {
  let sleeper: ChildProcess & { pid: number };
  let node: ChildProcess & { pid: number };
  let dir: string;
  before(async () => {
    // Neither exits on its own during the tests; both are killed after.
    sleeper = await child("sleep", ["600"]);
    node = await child(process.execPath, ["-e", "setInterval(() => {}, 60000)"]);
  });
  after(() => {
    sleeper.kill();
    node.kill();
  });
  const fresh = () => {
    dir = mkdtempSync(path.join(tmpdir(), "houston-lock-"));
    return dir;
  };
  const lockFile = () => path.join(dir, "lock");

  it("takes over a lock whose pid now runs with another start time (a reused pid), and opens the store", async () => {
    fresh();
    try {
      const start = processStartTime(sleeper.pid)!;
      writeFileSync(lockFile(), JSON.stringify({ pid: sleeper.pid, start: String(Number(start) - 1) }));
      const store = await openStore({ dataDir: dir });
      const held = JSON.parse(readFileSync(lockFile(), "utf8")) as { pid: number; start: string };
      assert.equal(held.pid, process.pid);
      assert.equal(held.start, processStartTime(process.pid));
      await store.close();
      assert.equal(existsSync(lockFile()), false, "the lock is freed on close");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes over an older Houston's lock (a pid alone) whose pid is now a process other than Node.js", async () => {
    fresh();
    try {
      writeFileSync(lockFile(), String(sleeper.pid));
      const store = await openStore({ dataDir: dir });
      assert.equal(JSON.parse(readFileSync(lockFile(), "utf8")).pid, process.pid);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a lock held by a live Node.js process, with the clear error, in either format", () => {
    fresh();
    try {
      for (const content of [
        JSON.stringify({ pid: node.pid, start: processStartTime(node.pid) }),
        String(node.pid),
      ]) {
        writeFileSync(lockFile(), content);
        assert.throws(
          () => lockDataDir(dir),
          (err: Error) =>
            err instanceof StoreLockedError &&
            err.message.includes(`in use by process ${node.pid}`) &&
            /HOUSTON_URL/.test(err.message),
        );
        assert.equal(readFileSync(lockFile(), "utf8"), content, "the holder's lock is left alone");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes over a lock whose holder exited, and leaves a lock taken over by another process alone", () => {
    fresh();
    try {
      // Above the largest pid Linux hands out (pid_max ≤ 2^22): no process has it.
      writeFileSync(lockFile(), JSON.stringify({ pid: 2 ** 22 + 1, start: "1" }));
      const unlock = lockDataDir(dir);
      // Another process took the lock over meanwhile (it judged ours stale): unlocking keeps theirs.
      const theirs = JSON.stringify({ pid: node.pid, start: processStartTime(node.pid) });
      writeFileSync(lockFile(), theirs);
      unlock();
      assert.equal(readFileSync(lockFile(), "utf8"), theirs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
