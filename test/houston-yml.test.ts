import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { HoustonFileError, loadHoustonFile, parseDuration, parseHoustonFile } from "../src/houston-yml.ts";

const FILE = "conf/houston.yml";

/** The problems a text is refused with (fails when it parses). */
function problemsOf(text: string, defaultTimezone = "UTC"): string[] {
  try {
    parseHoustonFile(text, FILE, defaultTimezone);
  } catch (err) {
    assert.ok(err instanceof HoustonFileError, `expected a HoustonFileError, got ${String(err)}`);
    assert.match(err.message, /^houston\.yml is not valid:\n {2}/);
    for (const p of err.problems) assert.ok(err.message.includes(p), "the message lists every problem");
    return err.problems;
  }
  assert.fail("expected the file to be refused");
}

/** The single problem a text is refused with. */
function problemOf(text: string): string {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, `expected one problem, got ${JSON.stringify(problems)}`);
  return problems[0]!;
}

describe("parseHoustonFile", () => {
  it("parses a valid file into job specs, filling in the default time zone and a one-hour grace", () => {
    const text = [
      "# monitors as code",
      "jobs:",
      "  - name: nightly_orders",
      "    namespace: prod",
      '    schedule: "0 2 * * *"',
      "    timezone: America/New_York",
      "    grace: 1h30m",
      '    owner: "@ana"',
      '    channel: "#orders"',
      "    group: orders_daily",
      "  - name: poller",
      "    every: 15m",
      "  - name: hourly_sync",
      '    schedule: "5 * * * *"',
      "  - name: adhoc_export",
      "    owner: bob",
      "",
    ].join("\n");
    const file = parseHoustonFile(text, FILE, "Europe/Berlin");
    assert.equal(file.path, FILE);
    assert.deepEqual(file.jobs, [
      {
        name: "nightly_orders",
        namespace: "prod",
        schedule: "0 2 * * *",
        timezone: "America/New_York",
        graceSeconds: 5400,
        owner: "@ana",
        channel: "#orders",
        group: "orders_daily",
      },
      { name: "poller", schedule: "@every 900s", timezone: "Europe/Berlin", graceSeconds: 3600 },
      { name: "hourly_sync", schedule: "5 * * * *", timezone: "Europe/Berlin", graceSeconds: 3600 },
      { name: "adhoc_export", owner: "bob", timezone: "Europe/Berlin", graceSeconds: 3600 },
    ]);
  });

  it("accepts `every` written as a sentence and an @every schedule", () => {
    const file = parseHoustonFile(
      'jobs:\n  - name: a\n    every: every 1h\n  - name: b\n    schedule: "@every 300s"\n',
      FILE,
      "UTC",
    );
    assert.deepEqual(
      file.jobs.map((j) => j.schedule),
      ["@every 3600s", "@every 300s"],
    );
  });

  it("allows the same job name in two namespaces", () => {
    const file = parseHoustonFile(
      "jobs:\n  - name: load\n    namespace: a\n  - name: load\n    namespace: b\n",
      FILE,
      "UTC",
    );
    assert.deepEqual(
      file.jobs.map((j) => `${j.namespace}/${j.name}`),
      ["a/load", "b/load"],
    );
  });

  it("reads an empty file, a file of comments and an empty jobs section as no jobs", () => {
    for (const text of ["", "\n", "# nothing here yet\n", "jobs:\n", "jobs: []\n"]) {
      const file = parseHoustonFile(text, FILE, "UTC");
      assert.equal(file.path, FILE);
      assert.deepEqual(file.jobs, [], JSON.stringify(text));
    }
  });

  it("refuses a cron with four fields, naming file:line:col, the field path and the field count", () => {
    const p = problemOf('jobs:\n  - name: a\n    schedule: "0 2 * *"\n');
    assert.equal(
      p,
      'conf/houston.yml:3:15: jobs[0].schedule: not a valid cron expression: "0 2 * *" has 4 fields; expected 5 (minute hour day month weekday)',
    );
  });

  it("refuses a cron whose minute is out of range, saying which range", () => {
    const p = problemOf('jobs:\n  - name: a\n  - name: b\n    schedule: "61 * * * *"\n');
    assert.match(p, /^conf\/houston\.yml:4:15: jobs\[1\]\.schedule: not a valid cron expression: /);
    assert.match(p, /61/);
    assert.match(p, /0-59/);
  });

  it("refuses an unknown time zone", () => {
    const p = problemOf('jobs:\n  - name: a\n    schedule: "0 2 * * *"\n    timezone: Mars/Base\n');
    assert.equal(
      p,
      'conf/houston.yml:4:15: jobs[0].timezone: "Mars/Base" is not an IANA time zone (e.g. UTC, Europe/Berlin)',
    );
  });

  it("refuses a grace that is not a duration", () => {
    const p = problemOf("jobs:\n  - name: a\n    grace: soon\n");
    assert.equal(p, 'conf/houston.yml:3:12: jobs[0].grace: "soon" is not a duration (e.g. 30m, 1h, 1h30m)');
  });

  it("refuses an unknown field such as a misspelt `schedul`, listing the known fields", () => {
    const p = problemOf('jobs:\n  - name: a\n    schedul: "0 2 * * *"\n');
    assert.equal(
      p,
      "conf/houston.yml:3:5: jobs[0].schedul: unknown field (fields: name, namespace, schedule, every, timezone, grace, owner, channel, group)",
    );
  });

  it("refuses an unknown top-level section", () => {
    const p = problemOf("jobs: []\nalerts:\n  - name: x\n");
    assert.match(
      p,
      /^conf\/houston\.yml:2:1: alerts: unknown section \(this version of Houston understands: jobs\b/,
    );
  });

  it("refuses a job declared twice, pointing at the second declaration", () => {
    const p = problemOf('jobs:\n  - name: a\n    schedule: "0 2 * * *"\n  - name: a\n');
    assert.equal(p, 'conf/houston.yml:4:5: jobs[1].name: job "a" is declared twice');
  });

  it("refuses jobs that are not a list", () => {
    const p = problemOf("jobs:\n  name: a\n");
    assert.equal(p, "conf/houston.yml:2:3: jobs: expected a list of jobs (each item starts with `- name:`)");
  });

  it("refuses a top level that is not a mapping", () => {
    const p = problemOf("- name: a\n");
    assert.equal(p, "conf/houston.yml:1:1: (top level): expected a mapping with a `jobs:` section");
  });

  it("refuses a job without a name and a job that is not a mapping", () => {
    const problems = problemsOf('jobs:\n  - schedule: "0 2 * * *"\n  - 5\n');
    assert.deepEqual(problems, [
      "conf/houston.yml:2:5: jobs[0].name: is required",
      'conf/houston.yml:3:5: jobs[1]: expected a mapping like `{ name: nightly_orders, schedule: "0 2 * * *" }`',
    ]);
  });

  it("refuses an every shorter than a minute, and schedule together with every", () => {
    const problems = problemsOf(
      'jobs:\n  - name: a\n    every: 30s\n  - name: b\n    schedule: "0 * * * *"\n    every: 1h\n',
    );
    assert.deepEqual(problems, [
      'conf/houston.yml:3:12: jobs[0].every: "30s" is not a duration of at least 1m (e.g. 15m, 1h)',
      "conf/houston.yml:6:12: jobs[1].every: use either schedule or every, not both",
    ]);
  });

  it("refuses a YAML syntax error with its position", () => {
    const p = problemOf("jobs:\n  - name: [a\n");
    assert.match(p, /^conf\/houston\.yml:\d+:\d+: \S/);
    assert.match(p, /Flow sequence/);
  });

  it("reports every problem of a file at once", () => {
    const text = [
      "jobs:", // 1
      "  - name: a", // 2
      '    schedule: "0 2 * *"', // 3
      "  - name: b", // 4
      '    schedule: "61 * * * *"', // 5
      "  - name: c", // 6
      "    timezone: Mars/Base", // 7
      "  - name: d", // 8
      "    grace: soon", // 9
      "  - name: e", // 10
      '    schedul: "0 2 * * *"', // 11
      "  - name: a", // 12
      "alerts: {}", // 13
      "",
    ].join("\n");
    const problems = problemsOf(text);
    assert.equal(problems.length, 7, JSON.stringify(problems));
    const expected = [
      /^conf\/houston\.yml:13:1: alerts: unknown section/,
      /^conf\/houston\.yml:3:15: jobs\[0\]\.schedule: not a valid cron expression: "0 2 \* \*" has 4 fields/,
      /^conf\/houston\.yml:5:15: jobs\[1\]\.schedule: not a valid cron expression: .*61/,
      /^conf\/houston\.yml:7:15: jobs\[2\]\.timezone: "Mars\/Base" is not an IANA time zone/,
      /^conf\/houston\.yml:9:12: jobs\[3\]\.grace: "soon" is not a duration/,
      /^conf\/houston\.yml:11:5: jobs\[4\]\.schedul: unknown field/,
      /^conf\/houston\.yml:12:5: jobs\[5\]\.name: job "a" is declared twice/,
    ];
    for (const re of expected) {
      assert.equal(problems.filter((p) => re.test(p)).length, 1, `one problem matches ${re}`);
    }
  });
});

describe("loadHoustonFile", () => {
  it("returns no jobs when no file is configured", () => {
    const file = loadHoustonFile(undefined, "UTC");
    assert.equal(file.path, undefined);
    assert.deepEqual(file.jobs, []);
  });

  it("reads and parses a file from disk, naming it in problems", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "houston-yml-"));
    try {
      const good = path.join(dir, "houston.yml");
      writeFileSync(good, 'jobs:\n  - name: a\n    schedule: "0 2 * * *"\n');
      const file = loadHoustonFile(good, "UTC");
      assert.equal(file.path, good);
      assert.deepEqual(file.jobs, [
        { name: "a", schedule: "0 2 * * *", timezone: "UTC", graceSeconds: 3600 },
      ]);
      const bad = path.join(dir, "bad.yml");
      writeFileSync(bad, "jobs:\n  - name: a\n    grace: soon\n");
      assert.throws(
        () => loadHoustonFile(bad, "UTC"),
        (err: unknown) => err instanceof HoustonFileError && err.problems[0]!.startsWith(`${bad}:3:12: `),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says a missing file cannot be read and points at HOUSTON_CONFIG", () => {
    const missing = path.join(tmpdir(), "houston-yml-does-not-exist", "houston.yml");
    assert.throws(
      () => loadHoustonFile(missing, "UTC"),
      (err: unknown) =>
        err instanceof HoustonFileError &&
        err.problems.length === 1 &&
        err.problems[0]!.startsWith(`${missing}: cannot be read (`) &&
        err.problems[0]!.endsWith("fix HOUSTON_CONFIG"),
    );
  });
});

describe("parseDuration", () => {
  it("reads days, hours, minutes and seconds in any combination", () => {
    const cases: [string, number][] = [
      ["90s", 90],
      ["15m", 900],
      ["15min", 900],
      ["1h", 3600],
      ["1h30m", 5400],
      ["1m30s", 90],
      ["2d", 172_800],
      ["1d 2h", 93_600],
      ["1d2h3m4s", 93_784],
      [" 30m ", 1800],
      ["0s", 0],
    ];
    for (const [text, secs] of cases) assert.equal(parseDuration(text), secs, JSON.stringify(text));
  });

  it("returns undefined for text that is not a duration", () => {
    for (const text of ["", "  ", "soon", "10", "1h30", "1.5h", "-1h", "2H", "1m1h", "h"]) {
      assert.equal(parseDuration(text), undefined, JSON.stringify(text));
    }
  });
});
