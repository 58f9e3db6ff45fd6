// Every logger a test builds comes from here. Lines are kept in memory for the test's own
// assertions and, when HOUSTON_TEST_LOG_DIR is set (`npm test` sets it), also
// appended to a file of this process in that directory; after the suite,
// test/ops/log-leaks.ts scans every file there for the tokens and secrets the tests use and
// fails the run if one appears. test/ops/log-leaks.test.ts checks that no test builds a
// logger any other way.
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { Logger } from "pino";
import { createLogger } from "../../src/log.ts";

/** The variable naming the directory of the suite's log files. */
export const TEST_LOG_DIR_ENV = "HOUSTON_TEST_LOG_DIR";

export interface TestLogger {
  log: Logger;
  /** Raw lines (one JSON document each, newline included), in order. */
  raw: string[];
  /** The lines parsed. */
  lines(): { level: number; msg: string; [k: string]: unknown }[];
}

const files = new Map<string, number>();

/** This process's file in `dir`, opened once for appending (synchronous writes: nothing is lost at exit). */
function fileIn(dir: string): number {
  let fd = files.get(dir);
  if (fd === undefined) {
    mkdirSync(dir, { recursive: true });
    fd = openSync(join(dir, `${process.pid}-${randomBytes(3).toString("hex")}.ndjson`), "a");
    files.set(dir, fd);
  }
  return fd;
}

process.once("exit", () => {
  for (const fd of files.values()) closeSync(fd);
});

/** Appends text (log output, a child process's stdout) to this process's file, if teeing is on. */
export function teeToSuiteLog(text: string, dir = process.env[TEST_LOG_DIR_ENV]): void {
  if (dir && text.length > 0) writeSync(fileIn(dir), text.endsWith("\n") ? text : `${text}\n`);
}

export interface TestLoggerOptions {
  /** Another directory than the suite's (the leak checker's own test). */
  dir?: string;
  /** Called with every line as it is written. */
  onLine?: (line: string) => void;
}

/** A real Houston logger (src/log.ts: same format, same redaction) writing into memory and the suite's log directory. */
export function testLogger(
  level = process.env["TEST_LOG_LEVEL"] ?? "debug",
  opts: TestLoggerOptions = {},
): TestLogger {
  const raw: string[] = [];
  const target = opts.dir ?? process.env[TEST_LOG_DIR_ENV];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      const line = String(chunk);
      raw.push(line);
      teeToSuiteLog(line, target);
      opts.onLine?.(line);
      cb();
    },
  });
  return { log: createLogger(level, sink), raw, lines: () => raw.map((l) => JSON.parse(l)) };
}
