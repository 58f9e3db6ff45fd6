// `houston config check` as an operator runs it: the real binary, a file on disk, the exit
// code and what it prints. A broken file must name the file, the line and the field.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../../bin/houston.mjs");
const EXAMPLE = path.resolve(import.meta.dirname, "../../houston.example.yml");

function env(file: string): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, ...rest } = process.env;
  return { ...rest, HOUSTON_CONFIG: file };
}

describe("houston config check", () => {
  it("accepts the example file and counts what it declares", async () => {
    const { stdout } = await run(process.execPath, [BIN, "config", "check"], { env: env(EXAMPLE) });
    assert.match(
      stdout,
      /houston\.example\.yml: ok \(\d+ job\(s\), \d+ with a schedule, \d+ dataset\(s\), \d+ digest subscription\(s\)\)/,
    );
  });

  it("rejects a bad subscription schedule, naming the file, line and field, with a non-zero exit code", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "houston-config-check-"));
    const file = path.join(dir, "houston.yml");
    writeFileSync(
      file,
      [
        "jobs:",
        "  - name: nightly_orders",
        "    schedule: '0 2 * * *'",
        "subscriptions:",
        "  - channel: C0DATA",
        "    report: sla",
        "    schedule: daily 25:00",
        "",
      ].join("\n"),
    );
    const err = await run(process.execPath, [BIN, "config", "check"], { env: env(file) }).then(
      () => assert.fail("config check accepted a 25:00 schedule"),
      (e: { code: number; stderr: string }) => e,
    );
    assert.notEqual(err.code, 0);
    assert.match(err.stderr, /houston\.yml/);
    assert.match(err.stderr, /:7\b|line 7/);
    assert.match(err.stderr, /schedule/);
  });
});
