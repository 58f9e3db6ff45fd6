import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import {
  httpSink,
  parseRunArgs,
  type RunSink,
  type RunWrapOptions,
  runWrapped,
  UsageError,
} from "../../src/cli/run.ts";
import type { HoustonEvent, RunEvent } from "../../src/ingest/events.ts";
import { startTestApp, TEST_TOKEN } from "../helpers/app.ts";

const NODE = process.execPath;
const FIXTURE = fileURLToPath(new URL("./run.fixture.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HAS_PROC = existsSync("/proc/self/stat");

// ---------------------------------------------------------------------------------
// Helpers

interface Recording extends RunSink {
  /** Events in the order their send calls were made. */
  events: RunEvent[];
  /** "<id suffix>:called" / "<id suffix>:settled", in order. */
  log: string[];
}

/** An in-memory sink; `hold` lets a test delay (or act during) a send of the start/end event. */
function recordingSink(hold: { start?: () => Promise<void>; end?: () => Promise<void> } = {}): Recording {
  const events: RunEvent[] = [];
  const log: string[] = [];
  return {
    events,
    log,
    async send(batch: HoustonEvent[]) {
      for (const e of batch) {
        assert.equal(e.type, "run");
        events.push(e as RunEvent);
        const phase = (e as RunEvent).id?.endsWith(":start") ? "start" : "end";
        log.push(`${phase}:called`);
        await hold[phase]?.();
        log.push(`${phase}:settled`);
      }
    },
  };
}

class Collect extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get text() {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

function run(command: string[], extra: Partial<RunWrapOptions> = {}) {
  const sink = recordingSink();
  const stderr = new Collect();
  const opts: RunWrapOptions = { job: "nightly_orders", command, sink, stderr, ...extra };
  return { sink: opts.sink as Recording, stderr, result: runWrapped(opts) };
}

function node(script: string): string[] {
  return [NODE, "-e", script];
}

function endOf(events: RunEvent[]): RunEvent {
  const end = events.find((e) => e.id?.endsWith(":end"));
  assert.ok(end, "an end event was sent");
  return end;
}

interface Received {
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A fake Houston on 127.0.0.1; `respond` null = never answers. */
async function fakeHouston(
  respond: ((req: Received, res: ServerResponse) => void) | null = (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end('{"accepted":1,"duplicates":0}');
  },
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      respond?.(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL where nothing listens: a port that was just bound and released. */
async function closedPortUrl(): Promise<string> {
  const { url, close } = await fakeHouston();
  await close();
  return url;
}

interface FixtureResult {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
  ms: number;
}

/** Runs `houston run` for real (test/cli/run.fixture.ts) in its own process. */
function runFixture(
  url: string,
  timeoutMs: number,
  runArgs: string[],
  onStdout?: (chunk: Buffer, proc: ReturnType<typeof spawn>) => void,
): Promise<FixtureResult> {
  const t0 = performance.now();
  const proc = spawn(NODE, ["--import", "tsx", FIXTURE, url, String(timeoutMs), ...runArgs], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  proc.stdout.on("data", (c: Buffer) => {
    out.push(c);
    onStdout?.(c, proc);
  });
  proc.stderr.on("data", (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err), ms: performance.now() - t0 }),
    );
  });
}

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("houston: warning:"));
}

// ---------------------------------------------------------------------------------

describe("runWrapped", () => {
  test("passes exit code 0 through and records a successful run", async () => {
    const { sink, stderr, result } = run(node(""), { group: "finance", environment: "prod" });
    assert.equal(await result, 0);
    assert.equal(sink.events.length, 2);
    const [start, end] = sink.events as [RunEvent, RunEvent];
    assert.equal(start.status, "running");
    assert.equal(start.namespace, "cron");
    assert.equal(start.group, "finance");
    assert.equal(start.environment, "prod");
    assert.equal(end.status, "success");
    assert.equal(end.exitCode, 0);
    assert.equal(end.error, undefined);
    assert.equal(stderr.text, "");
  });

  test("passes exit code 1 through and records the failure as 'exit code 1'", async () => {
    const { sink, result } = run(node("process.exit(1)"), { namespace: "etl" });
    assert.equal(await result, 1);
    const end = endOf(sink.events);
    assert.equal(end.status, "failed");
    assert.equal(end.exitCode, 1);
    assert.equal(end.error, "exit code 1");
    assert.equal(end.namespace, "etl");
  });

  test("exits 137 when the command is killed by SIGKILL and records 'killed by SIGKILL'", async () => {
    const { sink, result } = run(node('process.kill(process.pid, "SIGKILL")'));
    assert.equal(await result, 137);
    const end = endOf(sink.events);
    assert.equal(end.status, "failed");
    assert.equal(end.exitCode, 137);
    assert.equal(end.error, "killed by SIGKILL");
  });

  test("exits 127 like a shell and records a failed run when the command does not exist", async () => {
    const { sink, stderr, result } = run(["houston-test-no-such-command", "--flag"]);
    assert.equal(await result, 127);
    assert.match(stderr.text, /^houston: houston-test-no-such-command: command not found \(ENOENT\)\n$/);
    const end = endOf(sink.events);
    assert.equal(end.status, "failed");
    assert.equal(end.exitCode, 127);
    assert.match(end.error ?? "", /could not start houston-test-no-such-command: command not found/);
  });

  test("sends start before end, both with one run id, start no later than end", async () => {
    // The start send is slow and the command quick: the end must still wait for it.
    const sink = recordingSink({ start: () => new Promise((r) => setTimeout(r, 200)) });
    const code = await runWrapped({ job: "j", command: node(""), sink, stderr: new Collect() });
    assert.equal(code, 0);
    assert.deepEqual(sink.log, ["start:called", "start:settled", "end:called", "end:settled"]);
    const [start, end] = sink.events as [RunEvent, RunEvent];
    assert.equal(start.runId, end.runId);
    assert.equal(start.id, `${start.runId}:start`);
    assert.equal(end.id, `${end.runId}:end`);
    assert.ok(start.startedAt && end.startedAt && end.endedAt);
    assert.equal(end.startedAt.getTime(), start.startedAt.getTime());
    assert.ok(end.startedAt.getTime() <= end.endedAt.getTime());
    assert.equal(start.eventTime.getTime(), start.startedAt.getTime());
    assert.equal(end.eventTime.getTime(), end.endedAt.getTime());
  });

  test("does not hold the command back while the start event is being sent", async () => {
    // The start send only settles once the command has exited (the clock's second
    // reading is taken on exit). A wrapper that waited for it before spawning would
    // hit the send timeout and warn.
    let exited: () => void = () => {};
    const exit = new Promise<void>((r) => {
      exited = r;
    });
    let calls = 0;
    const sink = recordingSink({ start: () => exit });
    const stderr = new Collect();
    const code = await runWrapped({
      job: "j",
      command: node(""),
      sink,
      stderr,
      sendTimeoutMs: 2000,
      now: () => {
        if (++calls === 2) exited();
        return new Date();
      },
    });
    assert.equal(code, 0);
    assert.equal(stderr.text, "");
    assert.deepEqual(sink.log, ["start:called", "start:settled", "end:called", "end:settled"]);
  });

  test("stamps events with the injected clock", async () => {
    const times = [new Date("2026-11-03T02:00:00Z"), new Date("2026-11-03T02:00:07Z")];
    let i = 0;
    const { sink, result } = run(node(""), { now: () => times[Math.min(i++, 1)]! });
    await result;
    const end = endOf(sink.events);
    assert.equal(end.startedAt?.toISOString(), "2026-11-03T02:00:00.000Z");
    assert.equal(end.endedAt?.toISOString(), "2026-11-03T02:00:07.000Z");
    assert.equal(end.eventTime.toISOString(), "2026-11-03T02:00:07.000Z");
  });

  test("gives the command its run id in HOUSTON_RUN_ID", async () => {
    const dir = mkdtempSync(join(tmpdir(), "houston-run-"));
    try {
      const file = join(dir, "run-id");
      const { sink, result } = run(
        node(`require("fs").writeFileSync(${JSON.stringify(file)}, process.env.HOUSTON_RUN_ID)`),
      );
      assert.equal(await result, 0);
      assert.equal(readFileSync(file, "utf8"), endOf(sink.events).runId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("measures CPU seconds of a CPU-busy command", { skip: !HAS_PROC && "no /proc" }, async () => {
    const { sink, result } = run(
      node("for (let u = process.cpuUsage(); u.user + u.system < 300_000; u = process.cpuUsage()) {}"),
    );
    assert.equal(await result, 0);
    const end = endOf(sink.events);
    assert.ok(end.cpuSeconds !== undefined && end.cpuSeconds >= 0.25, `cpuSeconds = ${end.cpuSeconds}`);
    assert.ok(end.cpuSeconds < 5, `cpuSeconds = ${end.cpuSeconds}`);
  });

  test(
    "measures peak memory of a command that allocates 100 MB",
    {
      skip: !HAS_PROC && "no /proc",
    },
    async () => {
      const { sink, result } = run(
        node("const b = Buffer.alloc(100 * 1024 * 1024); b.fill(7); setTimeout(() => b.length, 300)"),
      );
      assert.equal(await result, 0);
      const end = endOf(sink.events);
      assert.ok(end.memoryMb !== undefined && end.memoryMb >= 100, `memoryMb = ${end.memoryMb}`);
      assert.ok(end.memoryMb < 1000, `memoryMb = ${end.memoryMb}`);
    },
  );

  test(
    "counts the memory of the command's descendants, not just the command",
    {
      skip: !HAS_PROC && "no /proc",
    },
    async () => {
      // The command stays small; its child allocates 100 MB and lives long enough for the
      // throttled /proc scan (≥ 1 s) used on kernels without task/<tid>/children.
      const grandchild =
        "const b = Buffer.alloc(100 * 1024 * 1024); b.fill(7); setTimeout(() => b.length, 1400)";
      const { sink, result } = run(
        node(
          `require("child_process").spawnSync(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { stdio: "inherit" })`,
        ),
      );
      assert.equal(await result, 0);
      const end = endOf(sink.events);
      assert.ok(end.memoryMb !== undefined && end.memoryMb >= 100, `memoryMb = ${end.memoryMb}`);
    },
  );

  test("leaves CPU and memory out when /proc is missing, and still runs the command", async () => {
    const { sink, result } = run(node("process.exit(3)"), { procRoot: "/nonexistent-proc" });
    assert.equal(await result, 3);
    const end = endOf(sink.events);
    assert.equal(end.cpuSeconds, undefined);
    assert.equal(end.memoryMb, undefined);
    assert.equal("cpuSeconds" in end, false);
    assert.equal("memoryMb" in end, false);
  });

  test("forwards SIGTERM to the command and removes its signal listeners afterwards", async () => {
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    const before = Object.fromEntries(signals.map((s) => [s, process.listeners(s)]));
    // Once the start event is being sent the command has been spawned: deliver SIGTERM to
    // the wrapper's own listener (emitting on `process` would reach the test runner's too).
    const sink = recordingSink({
      start: async () => {
        const ours = process.listeners("SIGTERM").filter((l) => !before.SIGTERM!.includes(l));
        assert.equal(ours.length, 1);
        (ours[0] as (s: NodeJS.Signals) => void)("SIGTERM");
      },
    });
    const code = await runWrapped({
      job: "j",
      command: node("setInterval(() => {}, 1000)"),
      sink,
      stderr: new Collect(),
    });
    assert.equal(code, 143);
    assert.equal(endOf(sink.events).error, "killed by SIGTERM");
    for (const s of signals) assert.deepEqual(process.listeners(s), before[s]);
  });

  test("stops waiting for Houston when the wrapper is signalled after the command ended", async () => {
    const before = process.listeners("SIGTERM");
    const sink = recordingSink({
      end: () => {
        const ours = process.listeners("SIGTERM").filter((l) => !before.includes(l));
        (ours[0] as (s: NodeJS.Signals) => void)("SIGTERM");
        return new Promise<void>(() => {}); // a Houston that never answers
      },
    });
    const stderr = new Collect();
    const t0 = performance.now();
    const code = await runWrapped({
      job: "j",
      command: node("process.exit(7)"),
      sink,
      stderr,
      sendTimeoutMs: 5000,
    });
    assert.equal(code, 7);
    assert.ok(performance.now() - t0 < 2000, "did not wait for the send timeout");
    assert.match(stderr.text, /^houston: warning: end of j run \S+ not recorded: interrupted by SIGTERM\n$/);
  });

  test("keeps running the command when the sink throws, with one warning per failed send", async () => {
    const sink: RunSink = {
      send: async () => {
        throw new Error("database is on fire\nsecond line");
      },
    };
    const stderr = new Collect();
    const code = await runWrapped({ job: "j", command: node("process.exit(4)"), sink, stderr });
    assert.equal(code, 4);
    const lines = stderr.text.split("\n").filter(Boolean);
    assert.equal(lines.length, 2);
    assert.match(
      lines[0]!,
      /^houston: warning: start of j run [0-9a-f-]{36} not recorded: database is on fire second line$/,
    );
    assert.match(
      lines[1]!,
      /^houston: warning: end of j run [0-9a-f-]{36} not recorded: database is on fire/,
    );
  });

  test("passes the exit code through and warns twice when Houston refuses connections", async () => {
    const url = await closedPortUrl();
    const stderr = new Collect();
    const t0 = performance.now();
    const code = await runWrapped({
      job: "j",
      command: node("process.exit(5)"),
      sink: httpSink(url, "t"),
      stderr,
      sendTimeoutMs: 2000,
    });
    assert.equal(code, 5);
    const lines = warnings(stderr.text);
    assert.equal(lines.length, 2, stderr.text);
    for (const line of lines) {
      assert.ok(line.includes(`${url}/api/v1/events`), line);
      assert.match(line, /ECONNREFUSED/);
    }
    assert.equal(stderr.text, `${lines.join("\n")}\n`);
    assert.ok(performance.now() - t0 < 2000, "a refused connection fails fast, not at the timeout");
  });

  test("bounds the delay a Houston that never answers adds after the command ends", async () => {
    const houston = await fakeHouston(null);
    after(() => houston.close());
    const stderr = new Collect();
    let endedAt = 0;
    let calls = 0;
    const code = await runWrapped({
      job: "j",
      command: node("process.exit(6)"),
      sink: httpSink(houston.url, "t"),
      stderr,
      sendTimeoutMs: 300,
      // The second reading is taken right after the command exits.
      now: () => {
        if (++calls === 2) endedAt = performance.now();
        return new Date();
      },
    });
    const delay = performance.now() - endedAt;
    assert.equal(code, 6);
    assert.ok(delay <= 300 + 150, `wrapper added ${delay.toFixed(0)} ms after exit`);
    const lines = warnings(stderr.text);
    assert.equal(lines.length, 2, stderr.text);
    for (const line of lines) {
      assert.ok(line.includes(`no answer from ${houston.url}/api/v1/events within`), line);
    }
  });
});

describe("houston run as a process", () => {
  test("passes the command's stdout and stderr through byte for byte", async () => {
    const houston = await fakeHouston();
    after(() => houston.close());
    const script = [
      "const out = Buffer.alloc(200000);",
      "for (let i = 0; i < out.length; i++) out[i] = (i * 7 + 3) % 256;",
      "process.stdout.write(out);",
      "process.stderr.write(Buffer.from([0, 255, 254, 13, 10, 0x80, 0x1b, 0x61]));",
    ].join("\n");
    const expectedOut = Buffer.alloc(200000);
    for (let i = 0; i < expectedOut.length; i++) expectedOut[i] = (i * 7 + 3) % 256;
    const expectedErr = Buffer.from([0, 255, 254, 13, 10, 0x80, 0x1b, 0x61]);

    const r = await runFixture(houston.url, 5000, ["--job", "bytes", "--", NODE, "-e", script]);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.ok(r.stdout.equals(expectedOut), `stdout differs (${r.stdout.length} bytes)`);
    assert.ok(r.stderr.equals(expectedErr), `stderr differs: ${JSON.stringify(r.stderr.toString("latin1"))}`);
    assert.deepEqual(
      houston.received.map((q) => (JSON.parse(q.body) as { id: string }[])[0]!.id.split(":")[1]),
      ["start", "end"],
    );
  });

  test("forwards a real SIGTERM to the command and exits with the command's code", async () => {
    const houston = await fakeHouston();
    after(() => houston.close());
    const script =
      'process.on("SIGTERM", () => process.exit(42)); setInterval(() => {}, 1000); console.log("ready")';
    let sent = false;
    const r = await runFixture(
      houston.url,
      5000,
      ["--job", "sig", "--", NODE, "-e", script],
      (chunk, proc) => {
        if (!sent && chunk.toString().includes("ready")) {
          sent = true;
          proc.kill("SIGTERM");
        }
      },
    );
    assert.equal(r.code, 42, r.stderr.toString());
    assert.equal(r.stdout.toString(), "ready\n");
    const end = JSON.parse(houston.received[1]!.body) as [{ status: string; exit_code: number }];
    assert.equal(end[0].status, "failed");
    assert.equal(end[0].exit_code, 42);
  });

  test("still runs the job and exits on its own when Houston never answers", async () => {
    const houston = await fakeHouston(null);
    after(() => houston.close());
    const r = await runFixture(houston.url, 300, [
      "--job",
      "slow",
      "--",
      NODE,
      "-e",
      "process.stdout.write('done'); process.exit(9)",
    ]);
    assert.equal(r.code, 9);
    assert.equal(r.stdout.toString(), "done");
    const lines = r.stderr.toString().split("\n").filter(Boolean);
    assert.equal(lines.length, 2, r.stderr.toString());
    for (const line of lines)
      assert.match(
        line,
        /^houston: warning: .* no answer from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/events within \d+ ms$/,
      );
  });

  test("still runs the job when nothing listens at the Houston URL", async () => {
    const url = await closedPortUrl();
    const r = await runFixture(url, 5000, ["--job", "down", "--", NODE, "-e", "process.exit(2)"]);
    assert.equal(r.code, 2);
    const lines = r.stderr.toString().split("\n").filter(Boolean);
    assert.equal(lines.length, 2, r.stderr.toString());
    for (const line of lines) assert.match(line, /^houston: warning: .*cannot reach .*ECONNREFUSED/);
  });
});

describe("httpSink", () => {
  test("POSTs a JSON array to /api/v1/events with the bearer token", async () => {
    const houston = await fakeHouston();
    after(() => houston.close());
    const event: RunEvent = {
      type: "run",
      namespace: "cron",
      job: "nightly_orders",
      runId: "r1",
      status: "running",
      startedAt: new Date("2026-11-03T02:00:00Z"),
      eventTime: new Date("2026-11-03T02:00:00Z"),
    };
    await httpSink(`${houston.url}/`, "s3cret").send([event]);
    assert.equal(houston.received.length, 1);
    const req = houston.received[0]!;
    assert.equal(req.url, "/api/v1/events");
    assert.equal(req.headers.authorization, "Bearer s3cret");
    assert.match(req.headers["content-type"] ?? "", /^application\/json/);
    // The native events API's JSON (src/ingest/serialize.ts): snake_case, ISO 8601 times.
    assert.deepEqual(JSON.parse(req.body), [
      {
        type: "run",
        namespace: "cron",
        job: "nightly_orders",
        run_id: "r1",
        status: "running",
        started_at: "2026-11-03T02:00:00.000Z",
      },
    ]);
  });

  test("sends no Authorization header without a token", async () => {
    const houston = await fakeHouston();
    after(() => houston.close());
    await httpSink(houston.url, undefined).send([]);
    assert.equal(houston.received[0]!.headers.authorization, undefined);
  });

  test("throws with the server's message on 401", async () => {
    const houston = await fakeHouston((_req, res) => {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"invalid token"}');
    });
    after(() => houston.close());
    await assert.rejects(
      httpSink(houston.url, "wrong").send([]),
      new RegExp(`^Error: ${houston.url}/api/v1/events answered 401: invalid token$`),
    );
  });

  test("throws with the server's message and field errors on 400", async () => {
    const houston = await fakeHouston((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: "1 event refused",
          errors: [{ index: 0, field: "job", reason: "required" }],
        }),
      );
    });
    after(() => houston.close());
    await assert.rejects(
      httpSink(houston.url, "t").send([]),
      /answered 400: 1 event refused; job: required$/,
    );
  });

  test("throws with a plain-text body when the answer is not JSON", async () => {
    const houston = await fakeHouston((_req, res) => {
      res.writeHead(502).end("Bad Gateway\n<html>proxy</html>");
    });
    after(() => houston.close());
    await assert.rejects(
      httpSink(houston.url, "t").send([]),
      /answered 502: Bad Gateway <html>proxy<\/html>$/,
    );
  });

  test("gives up after its timeout when the server never answers", async () => {
    const houston = await fakeHouston(null);
    after(() => houston.close());
    const t0 = performance.now();
    await assert.rejects(
      httpSink(houston.url, "t", 150).send([]),
      new RegExp(`no answer from ${houston.url}/api/v1/events within 150 ms`),
    );
    assert.ok(performance.now() - t0 < 1000);
  });
});

describe("houston run against the real Houston app", () => {
  test("records the run through the native events API, and warns with the API's message on a bad token", async () => {
    const app = await startTestApp("pglite");
    after(() => app.close());
    const stderr = new Collect();
    const code = await runWrapped({
      job: "nightly_orders",
      group: "finance",
      environment: "prod",
      command: node("process.exit(3)"),
      sink: httpSink(app.url, TEST_TOKEN),
      stderr,
    });
    assert.equal(code, 3);
    assert.equal(stderr.text, "");
    const rows = await app.store.query<{
      status: string;
      exit_code: number;
      error: string;
      environment: string;
    }>(
      sql`SELECT r.status, r.exit_code, r.error, r.environment FROM runs r JOIN jobs j ON j.id = r.job_id
          WHERE j.name = 'nightly_orders' AND j.namespace = 'cron' AND r.ended_at >= r.started_at`,
    );
    assert.deepEqual(rows, [{ status: "failed", exit_code: 3, error: "exit code 3", environment: "prod" }]);

    const refused = await runWrapped({
      job: "j",
      command: node(""),
      sink: httpSink(app.url, "wrong"),
      stderr,
    });
    assert.equal(refused, 0);
    const lines = warnings(stderr.text);
    assert.equal(lines.length, 2, stderr.text);
    for (const line of lines) assert.match(line, /answered 401: \S/);
  });
});

describe("parseRunArgs", () => {
  test("reads the options and everything after -- as the command", () => {
    assert.deepEqual(
      parseRunArgs([
        "--job",
        "nightly_orders",
        "--group=finance",
        "--namespace",
        "etl",
        "--env",
        "prod",
        "--",
        "python",
        "etl.py",
        "--job",
        "--",
      ]),
      {
        job: "nightly_orders",
        group: "finance",
        namespace: "etl",
        environment: "prod",
        command: ["python", "etl.py", "--job", "--"],
      },
    );
    assert.deepEqual(parseRunArgs(["--job", "j", "--", "true"]), { job: "j", command: ["true"] });
  });

  const usage = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, pattern);
    assert.match(err.message, /usage: houston run --job NAME .* -- COMMAND/);
    return true;
  };

  test("refuses a call without --job and says how to call it", () => {
    assert.throws(() => parseRunArgs(["--", "echo", "hi"]), usage(/missing --job NAME/));
  });

  test("refuses a call without -- and shows where it goes", () => {
    assert.throws(
      () => parseRunArgs(["--job", "j", "python", "etl.py"]),
      usage(/put "--" between the options and the command, e.g\. houston run … -- python etl\.py/),
    );
    assert.throws(() => parseRunArgs(["--job", "j"]), usage(/missing "--" and the command/));
  });

  test("refuses a call with nothing after --", () => {
    assert.throws(() => parseRunArgs(["--job", "j", "--"]), usage(/missing the command after "--"/));
  });

  test("refuses unknown options, missing values and repeated options", () => {
    assert.throws(() => parseRunArgs(["--jobs", "j", "--", "true"]), usage(/unknown option --jobs/));
    assert.throws(() => parseRunArgs(["--job", "--", "true"]), usage(/--job needs a value/));
    assert.throws(() => parseRunArgs(["--job="]), usage(/--job needs a non-empty value/));
    assert.throws(() => parseRunArgs(["--job", "a", "--job", "b", "--", "true"]), usage(/--job given twice/));
  });
});
