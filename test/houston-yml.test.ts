import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import {
  datasetAliases,
  digestAnomalySettings,
  HoustonFileError,
  inMaintenance,
  loadHoustonFile,
  monitorConfig,
  parseDuration,
  parseHoustonFile,
  parseMaxDuration,
} from "../src/houston-yml.ts";

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
      "conf/houston.yml:3:5: jobs[0].schedul: unknown field (fields: name, match, namespace, schedule, every, timezone, grace, max_duration, failure_streak, owner, channel, routing_key, severity, group, anomalies)",
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

describe("houston.yml monitors", () => {
  const FULL = [
    "defaults:", // 1
    '  alert_channel: "#data-alerts"', // 2
    "  routing_key: R0UTINGKEY0000000000000000000000", // 3
    "  severity: error", // 4
    "  reminder: 30m", // 5
    "  max_duration: p95 x 3", // 6
    "  failure_streak: 3", // 7
    "  arrival_grace: 45m", // 8
    "  quiet_hours:", // 9
    '    hours: "22:00-07:00"', // 10
    "    timezone: Europe/Berlin", // 11
    "  maintenance:", // 12
    '    - start: "2026-12-01T02:00:00Z"', // 13
    '      end: "2026-12-01T04:00:00Z"', // 14
    '      subject: "finance_close.*"', // 15
    '    - start: "0 2 * * 0"', // 16
    "      duration: 2h", // 17
    "      timezone: Europe/Berlin", // 18
    "jobs:", // 19
    "  - name: nightly_orders", // 20
    '    schedule: "0 2 * * *"', // 21
    "    grace: 45m", // 22
    "    max_duration: 90m", // 23
    "    failure_streak: 1", // 24
    '    owner: "@ana"', // 25
    '    channel: "#orders"', // 26
    "    routing_key: ORDERSKEY", // 27
    "    severity: critical", // 28
    "    group: orders_daily", // 29
    '  - match: "ml_features.*"', // 30
    "    namespace: spark", // 31
    "    max_duration: p95 × 1.5", // 32
    '    channel: "#ml"', // 33
    "    severity: warning", // 34
    "datasets:", // 35
    "  - name: shipfast_logistics/shipments", // 36
    "    arrival: 05:30", // 37
    "    timezone: America/New_York", // 38
    "    arrival_grace: 1h", // 39
    "    supplier: shipfast_logistics", // 40
    '    channel: "#suppliers"', // 41
    "    routing_key: SUPPLIERKEY", // 42
    "    severity: critical", // 43
    '  - match: "analytics.*"', // 44
    '    owner: "@analytics"', // 45
    "",
  ].join("\n");

  it("parses every monitor field: job and dataset entries, match rules and defaults", () => {
    const file = parseHoustonFile(FULL, FILE, "UTC");
    assert.deepEqual(file.jobs, [
      {
        name: "nightly_orders",
        schedule: "0 2 * * *",
        timezone: "UTC",
        graceSeconds: 2700,
        group: "orders_daily",
        maxDuration: { seconds: 5400 },
        failureStreak: 1,
        severity: "critical",
        owner: "@ana",
        channel: "#orders",
        routingKey: "ORDERSKEY",
      },
    ]);
    assert.deepEqual(file.jobRules, [
      {
        match: "ml_features.*",
        namespace: "spark",
        maxDuration: { p95Factor: 1.5 },
        severity: "warning",
        channel: "#ml",
      },
    ]);
    assert.deepEqual(file.datasets, [
      {
        name: "shipfast_logistics/shipments",
        timezone: "America/New_York",
        expectedArrival: "05:30",
        supplier: "shipfast_logistics",
        arrivalGraceSeconds: 3600,
        severity: "critical",
        channel: "#suppliers",
        routingKey: "SUPPLIERKEY",
      },
    ]);
    assert.deepEqual(file.datasetRules, [{ match: "analytics.*", owner: "@analytics" }]);
    assert.deepEqual(file.defaults, {
      maintenance: [
        {
          subject: "finance_close.*",
          start: new Date("2026-12-01T02:00:00Z"),
          end: new Date("2026-12-01T04:00:00Z"),
        },
        { subject: "*", cron: "0 2 * * 0", timezone: "Europe/Berlin", durationSeconds: 7200 },
      ],
      alertChannel: "#data-alerts",
      routingKey: "R0UTINGKEY0000000000000000000000",
      severity: "error",
      reminderSeconds: 1800,
      maxDuration: { p95Factor: 3 },
      failureStreak: 3,
      arrivalGraceSeconds: 2700,
      quietHours: { from: "22:00", to: "07:00", timezone: "Europe/Berlin" },
    });
  });

  it("reads quiet hours written as one string in the default time zone, and reminder: off", () => {
    const file = parseHoustonFile(
      'defaults:\n  quiet_hours: "22:30-6:00"\n  reminder: off\n',
      FILE,
      "Europe/Paris",
    );
    assert.deepEqual(file.defaults!.quietHours, { from: "22:30", to: "06:00", timezone: "Europe/Paris" });
    assert.equal(file.defaults!.reminderSeconds, 0);
    assert.equal(monitorConfig(file).reminderMs, 0);
  });

  it("refuses bad monitor fields, each with file:line:col, the field path and how to fix it", () => {
    const text = [
      "defaults:", // 1
      "  severity: loud", // 2
      "  reminder: 1m", // 3
      '  quiet_hours: "late"', // 4
      "  maintenance:", // 5
      '    - start: "0 2 * * 0"', // 6
      '    - start: "2026-12-01T02:00:00"', // 7
      "      duration: 1h", // 8
      "  page_everyone: yes", // 9
      "jobs:", // 10
      "  - name: a", // 11
      "    max_duration: long", // 12
      "    failure_streak: 0", // 13
      "  - match: b*", // 14
      '    schedule: "0 2 * * *"', // 15
      "  - name: c", // 16
      "    match: c*", // 17
      "datasets:", // 18
      "  - name: d", // 19
      "    arrival_grace: 25h", // 20
      "  - match: e*", // 21
      "    max_age: 1h", // 22
      "",
    ].join("\n");
    assert.deepEqual(problemsOf(text), [
      "conf/houston.yml:9:3: defaults.page_everyone: unknown field (fields: alert_channel, routing_key, severity, reminder, quiet_hours, maintenance, max_duration, failure_streak, arrival_grace, anomalies)",
      'conf/houston.yml:2:13: defaults.severity: "loud" is not a severity (one of: critical, error, warning, info)',
      'conf/houston.yml:3:13: defaults.reminder: "1m" is not a duration of at least 5m (e.g. 1h) or off',
      'conf/houston.yml:4:16: defaults.quiet_hours: "late" is not a range of local times like "22:00-07:00" (or { hours: "22:00-07:00", timezone: Europe/Berlin })',
      "conf/houston.yml:6:7: defaults.maintenance[0].duration: is required for a recurring (cron) window (e.g. 2h)",
      'conf/houston.yml:7:14: defaults.maintenance[1].start: "2026-12-01T02:00:00" is not an ISO time with a zone (e.g. 2026-12-01T02:00:00Z)',
      'conf/houston.yml:12:19: jobs[0].max_duration: "long" is not a duration (e.g. 90m, 2h) or "p95 x 2"',
      'conf/houston.yml:13:21: jobs[0].failure_streak: "0" is not a number of failures from 1 to 100 (e.g. 2)',
      "conf/houston.yml:15:15: jobs[1].schedule: a `match:` entry cannot set schedule (it belongs to one job: use `name:`)",
      "conf/houston.yml:17:12: jobs[2].match: use either name or match, not both",
      'conf/houston.yml:20:20: datasets[0].arrival_grace: "25h" is not a duration under 24h (e.g. 30m, 1h, 1h30m)',
      "conf/houston.yml:22:14: datasets[1].max_age: a `match:` entry cannot set max_age (it belongs to one dataset: use `name:`)",
    ]);
  });

  it("refuses dataset entries and match rules that declare nothing", () => {
    assert.deepEqual(problemsOf("datasets:\n  - name: a\n    namespace: w\n  - match: b*\n"), [
      "conf/houston.yml:2:5: datasets[0]: declares nothing: give max_age, arrival, supplier, owner or aliases",
      "conf/houston.yml:4:5: datasets[1]: declares nothing: give arrival_grace, owner, channel, routing_key or severity",
    ]);
  });

  it("reads a dataset's lineage aliases, as a list or one name, and gives them as lineage names", () => {
    const file = parseHoustonFile(
      [
        "datasets:",
        "  - name: analytics.fct_orders",
        "    aliases: [warehouse/analytics.fct_orders, postgres://db:5432/shop.analytics.orders]",
        "  - name: settlements",
        "    namespace: s3://landing",
        "    aliases: acme/settlements.csv",
      ].join("\n"),
      FILE,
      "UTC",
    );
    assert.deepEqual(
      file.datasets.map((d) => d.aliases),
      [
        ["warehouse/analytics.fct_orders", "postgres://db:5432/shop.analytics.orders"],
        ["acme/settlements.csv"],
      ],
    );
    assert.deepEqual(datasetAliases(file.datasets), [
      { alias: "warehouse/analytics.fct_orders", dataset: "analytics.fct_orders" },
      { alias: "analytics.orders", dataset: "analytics.fct_orders" },
      { alias: "acme/settlements.csv", dataset: "s3://landing/settlements" },
    ]);
  });

  it("refuses aliases that are not names, too long, on a match rule, or standing for two datasets", () => {
    const text = [
      "datasets:",
      "  - name: a.one",
      "    aliases: { name: x }",
      "  - name: a.two",
      `    aliases: [[x], "", ${"n".repeat(501)}, a.one, A.Two, shared.name]`,
      "  - name: a.three",
      "    aliases: [shared.name]",
      "  - match: a.*",
      "    owner: '@data'",
      "    aliases: [b]",
    ].join("\n");
    assert.deepEqual(problemsOf(text), [
      'conf/houston.yml:3:14: datasets[0].aliases: expected a list of dataset names, like `[warehouse/analytics.fct_orders, "postgres://db:5432/shop.analytics.orders"]`',
      "conf/houston.yml:5:15: datasets[1].aliases[0]: expected a dataset name (`namespace/name` or a name)",
      "conf/houston.yml:5:20: datasets[1].aliases[1]: must not be empty",
      "conf/houston.yml:5:24: datasets[1].aliases[2]: its name is 501 characters long; at most 500 are accepted",
      "conf/houston.yml:10:14: datasets[3].aliases: a `match:` entry cannot set aliases (it belongs to one dataset: use `name:`)",
      'conf/houston.yml:5:527: datasets[1].aliases[3]: "a.one" is the name of dataset "a.one" declared in this file; a name stands for one dataset only',
      `conf/houston.yml:5:534: datasets[1].aliases[4]: "A.Two" is this dataset's own name (a.two), not another one`,
      'conf/houston.yml:7:15: datasets[2].aliases[0]: "shared.name" is already an alias of dataset "a.two"; a name stands for one dataset only',
    ]);
    const many = `datasets:\n  - name: x\n    aliases: [${Array.from({ length: 101 }, (_, i) => `a${i}`).join(", ")}]\n`;
    assert.deepEqual(problemsOf(many), [
      "conf/houston.yml:3:14: datasets[0].aliases: has 101 aliases; at most 100 are accepted",
    ]);
  });

  it("reads max_duration as a duration or a factor of p95", () => {
    assert.deepEqual(parseMaxDuration("90m"), { seconds: 5400 });
    assert.deepEqual(parseMaxDuration("p95 x 2"), { p95Factor: 2 });
    assert.deepEqual(parseMaxDuration("P95*1.5"), { p95Factor: 1.5 });
    assert.deepEqual(parseMaxDuration("3 × p95"), { p95Factor: 3 });
    for (const bad of ["", "p95", "p95 x 0.5", "p99 x 2", "fast"])
      assert.equal(parseMaxDuration(bad), undefined, bad);
  });
});

describe("monitorConfig", () => {
  const file = parseHoustonFile(
    [
      "defaults:",
      "  routing_key: DEFAULTKEY",
      "  failure_streak: 3",
      "jobs:",
      "  - name: nightly",
      "    namespace: dbt",
      "    severity: critical",
      "  - name: nightly",
      "    failure_streak: 5",
      '  - match: "night*"',
      "    max_duration: 2h",
      '    channel: "#night"',
      "    failure_streak: 4",
      '  - match: "*"',
      '    channel: "#everything"',
      "    routing_key: ALLKEY",
      "datasets:",
      "  - name: raw.orders",
      "    arrival_grace: 10m",
      '  - match: "raw.*"',
      "    severity: warning",
      "",
    ].join("\n"),
    FILE,
    "UTC",
  );
  const config = monitorConfig(file, { alertChannel: "#env-alerts", routingKey: "ENVKEY" });

  it("prefers the job's own entry (namespaced first), then match rules in file order, then defaults", () => {
    assert.deepEqual(config.job({ namespace: "dbt", name: "nightly" }), {
      failureStreak: 5,
      severity: "critical",
      maxDuration: { seconds: 7200 },
      channel: "#night",
      routingKey: "ALLKEY",
    });
    assert.deepEqual(config.job({ namespace: "spark", name: "nightly" }).severity, "error");
    assert.deepEqual(config.job({ namespace: "spark", name: "nightly_2" }).failureStreak, 4);
    assert.deepEqual(config.job({ namespace: "spark", name: "other", channel: "#from-db" }), {
      failureStreak: 3,
      severity: "error",
      channel: "#everything",
      routingKey: "ALLKEY",
    });
  });

  it("falls back to the database's channel, then defaults, then the environment", () => {
    const bare = monitorConfig({ jobs: [], datasets: [] }, { alertChannel: "#env", routingKey: "ENV" });
    assert.deepEqual(bare.job({ namespace: "x", name: "y", channel: "#db", owner: "@o" }), {
      failureStreak: 2,
      severity: "error",
      owner: "@o",
      channel: "#db",
      routingKey: "ENV",
    });
    assert.deepEqual(bare.dataset({ namespace: "x", name: "y" }), {
      arrivalGraceSeconds: 1800,
      severity: "error",
      channel: "#env",
      routingKey: "ENV",
    });
    assert.equal(bare.reminderMs, 3_600_000);
    assert.deepEqual(monitorConfig({ jobs: [], datasets: [] }).job({ namespace: "x", name: "y" }), {
      failureStreak: 2,
      severity: "error",
    });
    assert.equal(config.dataset({ namespace: "w", name: "raw.orders" }).arrivalGraceSeconds, 600);
    assert.equal(config.dataset({ namespace: "w", name: "raw.orders" }).severity, "warning");
    assert.equal(config.dataset({ namespace: "w", name: "raw.orders" }).routingKey, "DEFAULTKEY");
  });

  it("knows quiet hours across midnight in their own time zone", () => {
    const q = monitorConfig(
      parseHoustonFile(
        'defaults:\n  quiet_hours: { hours: "22:00-07:00", timezone: Europe/Berlin }\n',
        FILE,
        "UTC",
      ),
    );
    // Berlin is UTC+1 in January.
    assert.equal(q.inQuietHours(new Date("2026-01-10T20:59:00Z")), false);
    assert.equal(q.inQuietHours(new Date("2026-01-10T21:00:00Z")), true);
    assert.equal(q.inQuietHours(new Date("2026-01-11T05:59:00Z")), true);
    assert.equal(q.inQuietHours(new Date("2026-01-11T06:00:00Z")), false);
    assert.equal(config.inQuietHours(new Date("2026-01-11T03:00:00Z")), false, "none configured");
  });

  it("finds the maintenance window covering an instant and a subject", () => {
    const m = monitorConfig(
      parseHoustonFile(
        [
          "defaults:",
          "  maintenance:",
          '    - start: "2026-12-01T02:00:00Z"',
          "      duration: 2h",
          '      subject: "finance_close.*"',
          '    - start: "30 1 * * 0"',
          "      duration: 1h",
          "      timezone: Europe/Berlin",
          "",
        ].join("\n"),
        FILE,
        "UTC",
      ),
    );
    const [once, weekly] = m.maintenance;
    assert.equal(m.maintenanceFor(new Date("2026-12-01T03:59:59Z"), ["finance_close.gl"]), once);
    assert.equal(m.maintenanceFor(new Date("2026-12-01T04:00:00Z"), ["finance_close.gl"]), undefined);
    assert.equal(m.maintenanceFor(new Date("2026-12-01T03:00:00Z"), ["orders.x"]), undefined);
    // Sunday 2026-12-06 01:30–02:30 Berlin = 00:30–01:30 UTC, for every subject.
    assert.equal(inMaintenance(weekly!, new Date("2026-12-06T00:29:00Z")), false);
    assert.equal(m.maintenanceFor(new Date("2026-12-06T00:30:00Z"), ["anything"]), weekly);
    assert.equal(inMaintenance(weekly!, new Date("2026-12-06T01:29:59Z")), true);
    assert.equal(inMaintenance(weekly!, new Date("2026-12-06T01:30:00Z")), false);
  });
});

describe("houston.yml digests", () => {
  const DIGESTS = [
    "defaults:", // 1
    "  anomalies:", // 2
    "    training_days: 21", // 3
    "jobs:", // 4
    "  - name: nightly_orders", // 5
    "    anomalies: { sensitivity: 4, min_points: 10, seasonality: true }", // 6
    "subscriptions:", // 7
    '  - channel: "#data-digests"', // 8
    "    report: sla", // 9
    '    schedule: "daily 09:00"', // 10
    "    timezone: Europe/Berlin", // 11
    "    env: prod", // 12
    "  - channel: C0FINANCE", // 13
    "    report: anomalies", // 14
    '    schedule: "weekly mon 08:30"', // 15
    "    group: finance_close", // 16
    "    anomalies:", // 17
    "      sensitivity: 2.5", // 18
    "      training_days: 28d", // 19
    "",
  ].join("\n");

  it("reads subscriptions, per-job anomaly settings and default anomaly settings", () => {
    const file = parseHoustonFile(DIGESTS, FILE, "UTC");
    assert.deepEqual(file.subscriptions, [
      {
        report: "sla",
        cadence: "daily",
        localTime: "09:00",
        timezone: "Europe/Berlin",
        channel: "#data-digests",
        environment: "prod",
      },
      {
        report: "anomalies",
        cadence: "weekly",
        weekday: 1,
        localTime: "08:30",
        timezone: "UTC",
        channel: "C0FINANCE",
        group: "finance_close",
        settings: { sensitivity: 2.5, trainingDays: 28 },
      },
    ]);
    assert.deepEqual(file.jobs[0]!.anomalies, { sensitivity: 4, minPoints: 10, seasonality: true });
    assert.deepEqual(digestAnomalySettings(file), {
      defaults: { trainingDays: 21 },
      jobs: { nightly_orders: { sensitivity: 4, minPoints: 10, seasonality: true } },
    });
  });

  it("refuses bad subscriptions and anomaly settings, naming file:line:col and the field", () => {
    const text = [
      "jobs:", // 1
      "  - name: a", // 2
      "    anomalies: { sensitivity: high, training_days: 5, min_points: 9 }", // 3
      '  - match: "b*"', // 4
      "    anomalies: { sensitivity: 2 }", // 5
      "subscriptions:", // 6
      "  - channel: C1", // 7
      "    report: costs", // 8
      '    schedule: "daily 09:00"', // 9
      "  - channel: C1", // 10
      "    report: sla", // 11
      '    schedule: "weekly 09:00"', // 12
      "  - report: sla", // 13
      '    schedule: "daily 9am"', // 14
      "  - channel: C2", // 15
      "    report: sla", // 16
      '    schedule: "daily 09:00"', // 17
      "    anomalies: { sensitivity: 2 }", // 18
      "    colour: blue", // 19
      "  - channel: C3", // 20
      "    report: resources", // 21
      '    schedule: "daily 07:00 env prod"', // 22
      "",
    ].join("\n");
    const problems = problemsOf(text);
    const expect = [
      /^conf\/houston\.yml:3:31: jobs\[0\]\.anomalies\.sensitivity: "high" is not a number from 1 to 10/,
      /^conf\/houston\.yml:3:67: jobs\[0\]\.anomalies\.min_points: is more than training_days \(5\)/,
      /^conf\/houston\.yml:5:16: jobs\[1\]\.anomalies: a `match:` entry cannot set anomalies/,
      /^conf\/houston\.yml:8:13: subscriptions\[0\]\.report: "costs" is not a digest \(one of: sla, anomalies, resources\)/,
      /^conf\/houston\.yml:12:15: subscriptions\[1\]\.schedule: "weekly 09:00" is not a schedule: weekly needs a weekday/,
      /^conf\/houston\.yml:13:5: subscriptions\[2\]\.channel: is required/,
      /^conf\/houston\.yml:19:5: subscriptions\[3\]\.colour: unknown field \(fields: channel, report, schedule/,
      /^conf\/houston\.yml:18:16: subscriptions\[3\]\.anomalies: the sla digest has no anomaly settings/,
      /^conf\/houston\.yml:22:15: subscriptions\[4\]\.schedule: holds more than a schedule/,
    ];
    for (const re of expect)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} in\n${problems.join("\n")}`,
      );
    assert.equal(problems.length, expect.length, problems.join("\n"));
  });

  it("accepts houston.example.yml, digests included", () => {
    const file = loadHoustonFile(path.resolve(import.meta.dirname, "../houston.example.yml"), "UTC");
    assert.deepEqual(
      file.subscriptions!.map((s) => [s.channel, s.report, s.cadence, s.localTime]),
      [
        ["#data-digests", "sla", "daily", "09:00"],
        ["#data-digests", "anomalies", "daily", "09:05"],
        ["#finops", "resources", "weekly", "08:00"],
      ],
    );
    assert.equal(digestAnomalySettings(file).jobs["nightly_orders"]!.sensitivity, 4);
  });

  it("refuses a subscription declared twice and a subscriptions section that is not a list", () => {
    const twice = [
      "subscriptions:",
      "  - { channel: C1, report: sla, schedule: daily 09:00 }",
      "  - { channel: C1, report: sla, schedule: daily 09:00, timezone: Europe/Berlin }",
      "",
    ].join("\n");
    assert.match(
      problemOf(twice),
      /:3:5: subscriptions\[1\]: the sla digest for C1 at this time is declared twice/,
    );
    assert.match(problemOf("subscriptions: sla daily\n"), /:1:16: subscriptions: expected a list of digests/);
  });
});
