import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, isValidTimeZone, loadConfig } from "../src/config.ts";

/** Asserts loadConfig refuses env with a ConfigError whose message names `variable`. */
function refuses(env: Record<string, string>, variable: string, cwd: string): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env, cwd);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(env)}`);
  assert.equal(caught.name, "ConfigError");
  assert.ok(caught.message.includes(variable), `"${caught.message}" names ${variable}`);
  return caught;
}

describe("loadConfig", () => {
  let dir: string;
  let empty: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "houston-config-"));
    empty = path.join(dir, "empty");
    mkdirSync(empty);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses defaults for an empty environment", () => {
    assert.deepEqual(loadConfig({}, empty), {
      port: 3000,
      databaseUrl: undefined,
      dataDir: path.join(empty, ".houston"),
      ingestTokens: [],
      askTokens: [],
      maxBodyBytes: 10 * 1024 * 1024,
      bodyTimeoutMs: 30_000,
      bodyMemoryBytes: 40 * 1024 * 1024,
      houstonConfigPath: undefined,
      retentionDays: 400,
      pagerduty: { eventsServer: "events.pagerduty.com", webhookSecrets: [] },
      timezone: "UTC",
      logLevel: "info",
      houstonUrl: undefined,
      houstonToken: undefined,
      digestCatchupMs: 6 * 3_600_000,
    });
  });

  it("reads HOUSTON_DIGEST_CATCHUP as a duration and refuses nonsense, naming the variable", () => {
    assert.equal(loadConfig({ HOUSTON_DIGEST_CATCHUP: "90m" }, empty).digestCatchupMs, 90 * 60_000);
    assert.equal(loadConfig({ HOUSTON_DIGEST_CATCHUP: "1h30m" }, empty).digestCatchupMs, 90 * 60_000);
    assert.equal(loadConfig({ HOUSTON_DIGEST_CATCHUP: "12h" }, empty).digestCatchupMs, 12 * 3_600_000);
    assert.equal(loadConfig({ HOUSTON_DIGEST_CATCHUP: "0" }, empty).digestCatchupMs, 0);
    for (const bad of ["6 hours", "soon", "-1h", "30d"]) {
      const err = refuses({ HOUSTON_DIGEST_CATCHUP: bad }, "HOUSTON_DIGEST_CATCHUP", empty);
      assert.match(err.message, /like 6h, 90m or 1h30m/);
    }
  });

  it("treats empty variables as unset", () => {
    const env = {
      PORT: "",
      DATABASE_URL: "",
      HOUSTON_TIMEZONE: "",
      HOUSTON_INGEST_TOKENS: "",
      HOUSTON_RETENTION_DAYS: "",
      HOUSTON_URL: "",
      HOUSTON_CONFIG: "",
    };
    assert.deepEqual(loadConfig(env, empty), loadConfig({}, empty));
  });

  it("reads the PagerDuty settings, with webhook secrets split for rotation", () => {
    const c = loadConfig(
      {
        PAGERDUTY_ROUTING_KEY: "R0UT1NGKEY",
        PAGERDUTY_EVENTS_SERVER: "127.0.0.1:8443",
        PAGERDUTY_WEBHOOK_SECRET: "old-secret, new-secret",
        HOUSTON_ALERT_CHANNEL: "#data-alerts",
      },
      empty,
    );
    assert.deepEqual(c.pagerduty, {
      routingKey: "R0UT1NGKEY",
      eventsServer: "127.0.0.1:8443",
      webhookSecrets: ["old-secret", "new-secret"],
    });
    assert.equal(c.alertChannel, "#data-alerts");
  });

  it("refuses a PagerDuty events server given as a URL, naming the variable", () => {
    assert.throws(
      () => loadConfig({ PAGERDUTY_EVENTS_SERVER: "https://events.pagerduty.com/v2" }, empty),
      (e: unknown) => e instanceof ConfigError && /PAGERDUTY_EVENTS_SERVER/.test(e.message),
    );
  });

  it("reads every variable it knows", () => {
    const c = loadConfig(
      {
        PORT: "8080",
        DATABASE_URL: "postgresql://houston@db:5432/houston",
        HOUSTON_DATA_DIR: "data",
        HOUSTON_INGEST_TOKENS: " token-one-aaaa , token-two-bbbb ,",
        HOUSTON_ASK_TOKENS: "ask-token-cccc",
        HOUSTON_MAX_BODY_BYTES: "2048",
        HOUSTON_CONFIG: "conf/houston.yml",
        HOUSTON_RETENTION_DAYS: "30",
        HOUSTON_TIMEZONE: "Europe/Berlin",
        LOG_LEVEL: "debug",
        HOUSTON_URL: "https://houston.example.com",
        HOUSTON_TOKEN: "cli-token-123",
        HOUSTON_DIGEST_CATCHUP: "2h",
        HOUSTON_HOST: "127.0.0.1",
        HOUSTON_BODY_TIMEOUT: "90s",
        HOUSTON_BODY_MEMORY_BYTES: "4096",
      },
      empty,
    );
    assert.deepEqual(c, {
      port: 8080,
      host: "127.0.0.1",
      bodyTimeoutMs: 90_000,
      bodyMemoryBytes: 4096,
      databaseUrl: "postgresql://houston@db:5432/houston",
      dataDir: path.join(empty, "data"),
      ingestTokens: ["token-one-aaaa", "token-two-bbbb"],
      askTokens: ["ask-token-cccc"],
      maxBodyBytes: 2048,
      houstonConfigPath: path.join(empty, "conf/houston.yml"),
      retentionDays: 30,
      pagerduty: { eventsServer: "events.pagerduty.com", webhookSecrets: [] },
      timezone: "Europe/Berlin",
      logLevel: "debug",
      houstonUrl: "https://houston.example.com",
      houstonToken: "cli-token-123",
      digestCatchupMs: 2 * 3_600_000,
    });
  });

  const invalid: [string, string][] = [
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "80.5"],
    ["HOUSTON_RETENTION_DAYS", "0"],
    ["HOUSTON_MAX_BODY_BYTES", "10"],
    ["HOUSTON_TIMEZONE", "Mars/Base"],
    ["DATABASE_URL", "mysql://x"],
    ["HOUSTON_INGEST_TOKENS", "short"],
    ["HOUSTON_INGEST_TOKENS", "long-enough-token,short"],
    ["HOUSTON_URL", "ftp://x"],
    ["HOUSTON_HOST", "http://0.0.0.0"],
    ["HOUSTON_HOST", "127.0.0.1:3000"],
    ["HOUSTON_HOST", "my host"],
    ["HOUSTON_BODY_TIMEOUT", "0"],
    ["HOUSTON_BODY_TIMEOUT", "500"],
    ["HOUSTON_BODY_TIMEOUT", "2h"],
    ["HOUSTON_BODY_MEMORY_BYTES", "lots"],
    // Smaller than the largest body (10 MiB by default): that body could never be read.
    ["HOUSTON_BODY_MEMORY_BYTES", "1048576"],
  ];
  for (const [variable, value] of invalid) {
    it(`refuses ${variable}=${value} with a ConfigError naming the variable`, () => {
      refuses({ [variable]: value }, variable, empty);
    });
  }

  it("takes HOUSTON_HOST as an IPv4 or IPv6 address or a host name, [::1] as ::1, unset as every interface", () => {
    assert.equal(loadConfig({}, empty).host, undefined);
    assert.equal(loadConfig({ HOUSTON_HOST: "0.0.0.0" }, empty).host, "0.0.0.0");
    assert.equal(loadConfig({ HOUSTON_HOST: "::" }, empty).host, "::");
    assert.equal(loadConfig({ HOUSTON_HOST: "[::1]" }, empty).host, "::1");
    assert.equal(loadConfig({ HOUSTON_HOST: "localhost" }, empty).host, "localhost");
    assert.equal(loadConfig({ HOUSTON_HOST: " houston.internal " }, empty).host, "houston.internal");
  });

  it("keeps the body memory budget at least one largest body", () => {
    const c = loadConfig({ HOUSTON_MAX_BODY_BYTES: "2048" }, empty);
    assert.equal(c.bodyMemoryBytes, 4 * 2048, "four largest bodies by default");
    const err = refuses(
      { HOUSTON_MAX_BODY_BYTES: "4096", HOUSTON_BODY_MEMORY_BYTES: "2048" },
      "HOUSTON_BODY_MEMORY_BYTES",
      empty,
    );
    assert.match(err.message, /HOUSTON_MAX_BODY_BYTES/);
  });

  it("reads HOUSTON_INGEST_TOKENS_FILE and DATABASE_URL_FILE from files, trimmed", () => {
    const tokens = path.join(dir, "tokens");
    const url = path.join(dir, "database-url");
    writeFileSync(tokens, "  token-from-file-1,token-from-file-2\n\n");
    writeFileSync(url, "\npostgres://houston:secret@db/houston\n");
    const c = loadConfig(
      {
        HOUSTON_INGEST_TOKENS_FILE: tokens,
        DATABASE_URL_FILE: url,
        // The file wins over the plain variable.
        HOUSTON_INGEST_TOKENS: "ignored-token-value",
      },
      empty,
    );
    assert.deepEqual(c.ingestTokens, ["token-from-file-1", "token-from-file-2"]);
    assert.equal(c.databaseUrl, "postgres://houston:secret@db/houston");
  });

  it("validates what a *_FILE holds like the variable itself", () => {
    const url = path.join(dir, "mysql-url");
    writeFileSync(url, "mysql://x\n");
    refuses({ DATABASE_URL_FILE: url }, "DATABASE_URL", empty);
  });

  it("names the variable when a *_FILE cannot be read", () => {
    const missing = path.join(dir, "no-such-secret");
    const err = refuses({ HOUSTON_INGEST_TOKENS_FILE: missing }, "HOUSTON_INGEST_TOKENS_FILE", empty);
    assert.ok(err.message.includes(missing), "names the path");
    refuses({ DATABASE_URL_FILE: missing }, "DATABASE_URL_FILE", empty);
    refuses({ HOUSTON_TOKEN_FILE: missing }, "HOUSTON_TOKEN_FILE", empty);
  });

  it("reads HOUSTON_METRICS_TOKEN or HOUSTON_METRICS_TOKEN_FILE, and refuses a short one", () => {
    assert.equal(loadConfig({}, empty).metricsToken, undefined);
    assert.equal(
      loadConfig({ HOUSTON_METRICS_TOKEN: "scrape-token-1234" }, empty).metricsToken,
      "scrape-token-1234",
    );
    const file = path.join(dir, "metrics-token");
    writeFileSync(file, "scrape-token-from-file\n");
    assert.equal(
      loadConfig({ HOUSTON_METRICS_TOKEN_FILE: file }, empty).metricsToken,
      "scrape-token-from-file",
    );
    refuses({ HOUSTON_METRICS_TOKEN: "short" }, "HOUSTON_METRICS_TOKEN", empty);
    refuses({ HOUSTON_METRICS_TOKEN_FILE: path.join(dir, "nope") }, "HOUSTON_METRICS_TOKEN_FILE", empty);
  });

  it("names the variable when a *_FILE is a directory", () => {
    refuses({ DATABASE_URL_FILE: dir }, "DATABASE_URL_FILE", empty);
  });

  it(
    "names the variable when a *_FILE is not readable by this user",
    {
      skip: process.getuid?.() === 0 ? "root reads any file" : false,
    },
    () => {
      const locked = path.join(dir, "locked");
      writeFileSync(locked, "token-locked-away");
      chmodSync(locked, 0o000);
      refuses({ HOUSTON_INGEST_TOKENS_FILE: locked }, "HOUSTON_INGEST_TOKENS_FILE", empty);
    },
  );

  it("picks up houston.yml from the working directory when HOUSTON_CONFIG is unset", () => {
    const cwd = path.join(dir, "with-yml");
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, "houston.yml"), "jobs: []\n");
    assert.equal(loadConfig({}, cwd).houstonConfigPath, path.join(cwd, "houston.yml"));
    assert.equal(loadConfig({}, empty).houstonConfigPath, undefined);
  });

  it("prefers HOUSTON_CONFIG, resolved against the working directory, over a local houston.yml", () => {
    const cwd = path.join(dir, "with-both");
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, "houston.yml"), "jobs: []\n");
    assert.equal(
      loadConfig({ HOUSTON_CONFIG: "ops/monitors.yml" }, cwd).houstonConfigPath,
      path.join(cwd, "ops/monitors.yml"),
    );
    assert.equal(
      loadConfig({ HOUSTON_CONFIG: "/etc/houston.yml" }, cwd).houstonConfigPath,
      "/etc/houston.yml",
    );
  });
});

describe("isValidTimeZone", () => {
  it("accepts IANA zones and refuses anything else", () => {
    for (const tz of ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
      assert.ok(isValidTimeZone(tz), tz);
    for (const tz of ["Mars/Base", "Europe/Berlinn", "not a zone"]) assert.ok(!isValidTimeZone(tz), tz);
  });
});
