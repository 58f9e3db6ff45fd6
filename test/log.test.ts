// Log lines stay short whatever is logged (a failed 10 MB batch once made one 46 MB line),
// stay valid JSON and keep redacting; stdout whose reader stalls or dies never blocks or
// breaks logging.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { LineSink, MAX_LINE_BYTES } from "../src/log.ts";
import { testLogger } from "./helpers/log.ts";
import { openTestStore, type TestStore } from "./helpers/store.ts";

function assertShort(raw: string[]): Record<string, any>[] {
  return raw.map((line) => {
    assert.ok(Buffer.byteLength(line) <= MAX_LINE_BYTES, `a line of ${Buffer.byteLength(line)} bytes`);
    assert.ok(line.endsWith("\n"));
    return JSON.parse(line) as Record<string, any>;
  });
}

describe("log lines", () => {
  let store: TestStore;
  before(async () => {
    store = await openTestStore("pglite");
  });
  after(async () => {
    await store.dispose();
  });

  /** A real failed statement with a 2 MB parameter: what drizzle throws, message holding every parameter. */
  async function failedQuery(): Promise<Error> {
    const big = "x".repeat(2_000_000);
    try {
      await store.query(sql`SELECT ${big}::int AS n`);
    } catch (err) {
      return err as Error;
    }
    throw new Error("the statement should have failed");
  }

  it("keeps an error with a 2 MB parameter under 8 KB, with its statement's start, cause and code", async () => {
    const err = await failedQuery();
    assert.ok(err.message.length > 2_000_000, "the driver's error holds the whole parameter");
    const { log, raw } = testLogger("info");
    log.error({ err, requestId: "r-1" }, "request failed");
    log.error(err);
    log.warn({ err, events: Array.from({ length: 5_000 }, (_, i) => ({ id: `e-${i}`, job: "j" })) }, "x");
    const [first, second, third] = assertShort(raw);
    assert.equal(first!["msg"], "request failed");
    assert.equal(first!["requestId"], "r-1");
    assert.match(first!["err"].message, /^Failed query: SELECT \$1::int AS n/);
    assert.equal(first!["err"].cause.code, "22P02", "the cause keeps its SQLSTATE");
    assert.match(first!["err"].cause.message, /invalid input syntax for type integer/);
    assert.match(first!["err"].stack, /^\w*Error: Failed query/);
    assert.ok(first!["err"].params.length <= 11, "parameters listed in part");
    assert.match(second!["msg"], /^Failed query/, "an error logged alone gives its message, clipped");
    assert.ok(third!["events"].length <= 11);
  });

  it("rewrites a line of many long fields smaller, still one JSON document, marked truncated", () => {
    const { log, raw } = testLogger("info");
    const fields = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, "y".repeat(5_000)]));
    log.info(fields, "many fields");
    log.info({ path: "/".repeat(20_000) }, "z".repeat(50_000));
    const [many, long] = assertShort(raw);
    assert.equal(many!["truncated"], true);
    assert.equal(many!["msg"], "many fields");
    assert.ok(many!["bytes"] > MAX_LINE_BYTES);
    assert.ok(long!["msg"].startsWith("zzz"));
  });

  it("still redacts secrets nested in an error", () => {
    const { log, raw } = testLogger("info");
    const err = Object.assign(new Error("request failed with status code 401"), {
      config: { headers: { authorization: "Bearer SECRET-in-error-0123" } },
    });
    log.error({ err }, "slack call failed");
    assert.ok(!raw.join("").includes("SECRET-in-error-0123"));
    assert.equal(assertShort(raw)[0]!["err"].config.headers.authorization, "[redacted]");
  });
});

describe("LineSink (stdout)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "houston-log-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A FIFO opened at both ends, non-blocking, like stdout piped to a reader. */
  function pipe(name: string): { read: number; write: number } {
    const path = join(dir, name);
    execFileSync("mkfifo", [path]);
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    return { read, write };
  }

  function drain(fd: number): string {
    const buf = Buffer.alloc(1 << 16);
    let out = "";
    for (;;) {
      try {
        const n = readSync(fd, buf);
        if (n === 0) return out;
        out += buf.toString("utf8", 0, n);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") return out;
        throw err;
      }
    }
  }

  it("turns itself off, without throwing or waiting, once the reader is gone (EPIPE)", () => {
    const { read, write } = pipe("gone");
    const sink = new LineSink(write);
    sink.write('{"msg":"before"}\n');
    assert.equal(drain(read), '{"msg":"before"}\n');
    closeSync(read);
    const started = performance.now();
    for (let i = 0; i < 100; i++) sink.write('{"msg":"after"}\n');
    sink.flush();
    assert.equal(sink.closed, true);
    assert.ok(performance.now() - started < 1_000);
    closeSync(write);
  });

  it("keeps whole lines waiting while the reader stalls, drops beyond its bound, and catches up", async () => {
    const { read, write } = pipe("stalled");
    const sink = new LineSink(write, 256 * 1024);
    const line = `${JSON.stringify({ msg: "x".repeat(1_000) })}\n`;
    const started = performance.now();
    // Far more than a pipe holds (64 KB) plus the bound.
    for (let i = 0; i < 2_000; i++) sink.write(line);
    assert.ok(performance.now() - started < 2_000, "writing never waited for the reader");
    assert.equal(sink.closed, false);
    let got = "";
    for (let i = 0; i < 200 && !got.includes("dropped"); i++) {
      got += drain(read);
      await new Promise((r) => setTimeout(r, 10));
    }
    const lines = got.split("\n").filter(Boolean);
    for (const l of lines) JSON.parse(l);
    const kept = lines.filter((l) => l === line.trim()).length;
    assert.ok(kept > 64 && kept < 2_000, `${kept} lines came through`);
    const note = JSON.parse(lines.at(-1)!) as { dropped: number };
    assert.equal(kept + note.dropped, 2_000, "every line is either written or counted as dropped");
    closeSync(read);
    closeSync(write);
  });
});
