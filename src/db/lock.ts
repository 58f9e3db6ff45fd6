// The embedded store's lock: PGlite is one process's database, and a second process opening
// the same directory would corrupt it. A lock file names its holder, so a second Houston gets
// a clear error instead.
//
// The holder is a pid *and* that process's start time (field 22 of /proc/<pid>/stat, clock
// ticks since boot). A pid alone is not enough: after a crash or a container restart the pid
// in a stale lock often belongs to another process by then (pid 1 in a container, any pid
// after a reboot), and Houston refused to start until the file was deleted by hand. A lock
// whose pid now runs with another start time is stale. Without /proc (macOS) only the pid
// can be checked; a lock written by an older Houston (the pid alone) is stale when that pid
// is no longer a Node.js process.
import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

export class StoreLockedError extends Error {
  override name = "StoreLockedError";
}

interface Holder {
  pid: number;
  /** The holder's start time in clock ticks since boot; undefined where /proc is absent. */
  start?: string;
}

/** A process's start time (clock ticks since boot), or undefined without /proc. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    // ENOENT: no such process, or no /proc at all; either way nothing to compare.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); starttime is field 22.
  return fields[19];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether pid runs Node.js, per /proc/<pid>/cmdline; undefined when that cannot be read. */
function runsNode(pid: number): boolean | undefined {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "EACCES")
      return undefined;
    throw err;
  }
  const argv0 = path.basename(cmdline.split("\0")[0] ?? "");
  return /^node(js)?(\d+)?(\.exe)?$/.test(argv0) || cmdline.includes("houston");
}

function readHolder(file: string): Holder | undefined {
  const text = readFileSync(file, "utf8").trim();
  if (/^\d+$/.test(text)) return { pid: Number(text) };
  try {
    const v = JSON.parse(text) as { pid?: unknown; start?: unknown };
    if (typeof v.pid === "number" && Number.isSafeInteger(v.pid) && v.pid > 0) {
      return typeof v.start === "string" ? { pid: v.pid, start: v.start } : { pid: v.pid };
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  return undefined;
}

/** Why the holder no longer holds the lock, or undefined when it still does. */
function staleReason(h: Holder | undefined): string | undefined {
  if (!h) return "unreadable";
  if (h.pid === process.pid) return "this process";
  if (!isAlive(h.pid)) return "holder exited";
  const start = processStartTime(h.pid);
  if (h.start !== undefined) {
    return start !== undefined && start !== h.start ? "pid reused by a newer process" : undefined;
  }
  // An older Houston's lock: the pid alone. Only a Node.js process can be that Houston.
  return runsNode(h.pid) === false ? "pid reused by a process that is not Node.js" : undefined;
}

/** Removes the lock if it is still ours: one taken over as stale by another process is theirs. */
function unlock(file: string, content: string): void {
  let current: string;
  try {
    current = readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  if (current === content) rmSync(file, { force: true });
}

/** Takes the lock on `dir`; returns the function that frees it. */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, "lock");
  const me: Holder = { pid: process.pid };
  const start = processStartTime(process.pid);
  if (start !== undefined) me.start = start;
  const content = JSON.stringify(me);
  // Written aside and linked into place: the lock appears with its content, so another
  // process never reads a half-written (empty) lock and takes it for stale.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, file);
        return () => unlock(file, content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const holder = readHolder(file);
        if (staleReason(holder) === undefined) {
          throw new StoreLockedError(
            `the embedded store in ${dir} is in use by process ${holder!.pid} (a running Houston?). ` +
              "`houston ask`, `ingest` and `run` can use it instead: set HOUSTON_URL (its address) and HOUSTON_TOKEN " +
              "(one of its HOUSTON_ASK_TOKENS for ask, HOUSTON_INGEST_TOKENS for ingest and run). " +
              "For anything else stop it first, or use PostgreSQL (DATABASE_URL).",
          );
        }
        rmSync(file, { force: true }); // left by a process that died
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  throw new StoreLockedError(`cannot lock the embedded store in ${dir}`);
}
