// The suite-wide guarantee that test secrets never reach a log: the checker that runs after
// the suite (test/ops/log-leaks.ts) flags a deliberate leak, passes redacted lines, refuses
// to pass when nothing was captured, and every test builds its logger through
// test/helpers/log.ts (which tees into the directory the checker reads).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { TEST_TOKEN } from "../helpers/app.ts";
import { REPO_ROOT } from "../helpers/fixtures.ts";
import { TEST_LOG_DIR_ENV, testLogger } from "../helpers/log.ts";
import { BOT_TOKEN, SIGNING_SECRET } from "../slack/harness.ts";
import { suiteSecrets } from "./log-leaks.ts";

const CHECKER = join(REPO_ROOT, "test", "ops", "log-leaks.ts");

function runChecker(dir: string, ...flags: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CHECKER, dir, ...flags], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "houston-leak-check-"));
}

/** The helper writes each line synchronously as it is logged. */
const written = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".ndjson")).length > 0;

describe("the log leak check", () => {
  it("knows the tests' secrets from their sources", () => {
    const secrets = suiteSecrets();
    for (const s of [TEST_TOKEN, BOT_TOKEN, SIGNING_SECRET]) assert.ok(secrets.includes(s), s.slice(0, 8));
    assert.ok(!secrets.some((s) => s.length < 8), "no short, ambiguous strings");
  });

  it("fails when a test secret reaches a log line, naming the file and the line", () => {
    const dir = tempDir();
    try {
      // Deliberately leaked: in the message and under a field name the redaction doesn't know.
      const { log } = testLogger("info", { dir });
      log.info("nothing secret here");
      log.info(`posting with ${BOT_TOKEN}`);
      log.warn({ note: TEST_TOKEN }, "a careless line");
      assert.ok(written(dir));
      const r = runChecker(dir, "--remove-when-clean");
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, /2 log line\(s\) .* contain a test secret/);
      assert.match(r.out, /\.ndjson:2: xoxb-1…/);
      assert.match(r.out, /\.ndjson:3: test-i….* in "a careless line"/);
      assert.ok(!r.out.includes(BOT_TOKEN) && !r.out.includes(TEST_TOKEN), "the report masks the secrets");
      assert.ok(existsSync(dir), "leaked logs are kept for a look");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("flags any Slack token, even one no test declares", () => {
    const dir = tempDir();
    try {
      testLogger("info", { dir }).log.info({ detail: "xoxp-9999-unknown-user-token" }, "oops");
      const r = runChecker(dir);
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, /xoxp-9…/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes when the secrets were redacted, and removes the logs on request", () => {
    const dir = tempDir();
    try {
      const { log, lines } = testLogger("debug", { dir });
      // Where secrets travel in Houston, at the depths they occur.
      log.info({ req: { headers: { authorization: `Bearer ${TEST_TOKEN}` } } }, "request");
      log.info(
        { token: TEST_TOKEN, config: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET } },
        "config",
      );
      log.info(
        { payload: { routing_key: "R0UTINGKEY0123456789abcdef012345", event_action: "trigger" } },
        "pd",
      );
      log.error({ err: { config: { headers: { authorization: `Bearer ${BOT_TOKEN}` } } } }, "slack failed");
      assert.equal(lines()[0]!["req"] && (lines()[0]!["req"] as any).headers.authorization, "[redacted]");
      const r = runChecker(dir, "--remove-when-clean");
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /4 log lines from 1 test processes hold none of \d+ test secrets/);
      assert.ok(!existsSync(dir), "a clean run removes its logs");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails when no log line was captured, since then it proved nothing", () => {
    const dir = tempDir();
    try {
      const r = runChecker(dir);
      assert.equal(r.status, 1);
      assert.match(r.out, /no test log lines/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("covers every test: loggers are built only by test/helpers/log.ts", () => {
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n.endsWith(".ts")) {
          const rel = relative(REPO_ROOT, p);
          if (rel === join("test", "helpers", "log.ts")) continue;
          // A logger built elsewhere would write where the checker never looks.
          // A "silent" logger writes nothing, so it cannot leak.
          const code = readFileSync(p, "utf8")
            .replace(/^\s*\/\/.*$/gm, "")
            .replace(/\bcreateLogger\("silent"\)/g, "");
          if (/\bcreateLogger\(|\bpino\(/.test(code)) offenders.push(rel);
        }
      }
    };
    walk(join(REPO_ROOT, "test"));
    assert.deepEqual(
      offenders,
      [],
      "these tests build their own logger, which the leak check never sees: use " +
        "`testLogger(level)` from test/helpers/log.ts instead of building one with createLogger and a sink " +
        "(its .log, .lines() and .raw, or { onLine } to collect lines yourself)",
    );
  });

  it(
    "writes this run's lines where the checker will read them",
    { skip: process.env[TEST_LOG_DIR_ENV] ? false : `${TEST_LOG_DIR_ENV} is set by npm test` },
    () => {
      const dir = process.env[TEST_LOG_DIR_ENV]!;
      const marker = `tee-check-${process.pid}-${Date.now()}`;
      testLogger("info").log.info(marker);
      const files = readdirSync(dir).filter((n) => n.startsWith(`${process.pid}-`));
      assert.ok(
        files.some((f) => readFileSync(join(dir, f), "utf8").includes(marker)),
        `a line in ${dir}`,
      );
    },
  );
});
