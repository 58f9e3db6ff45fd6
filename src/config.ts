// The environment, parsed and validated once. Everything else receives a Config; nothing
// else reads process.env. Errors name the variable and say how to fix it.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Config {
  port: number;
  /** HOUSTON_HOST: the address to listen on; unset → every interface (IPv6 and IPv4). */
  host?: string;
  /** postgres:// URL; undefined → embedded PGlite under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  ingestTokens: string[];
  /** Bearer tokens for POST /api/v1/ask (read-only: questions, no writes); empty = off. */
  askTokens: string[];
  maxBodyBytes: number;
  /** HOUSTON_BODY_TIMEOUT: a request body not fully received this long after it started → 408. */
  bodyTimeoutMs: number;
  /** HOUSTON_BODY_MEMORY_BYTES: request bodies held in memory at once, all requests together; beyond → 503. */
  bodyMemoryBytes: number;
  /** Path of houston.yml, if one is configured or present in the working directory. */
  houstonConfigPath?: string;
  retentionDays: number;
  timezone: string;
  logLevel: string;
  slack?: SlackConfig;
  pagerduty: PagerDutyConfig;
  /** Default Slack channel for incidents of jobs and datasets without their own. */
  alertChannel?: string;
  /** For the CLI talking to a remote Houston. */
  houstonUrl?: string;
  houstonToken?: string;
  /** HOUSTON_DIGEST_CATCHUP: a digest slot missed while Houston was down is still sent if at most this old (ms). */
  digestCatchupMs: number;
  /** Set → GET /metrics requires `Authorization: Bearer <token>`; unset → /metrics is open. */
  metricsToken?: string;
}

export interface SlackConfig {
  botToken: string;
  signingSecret: string;
  /** Set → Socket Mode (no public URL needed); unset → HTTP mode at POST /slack/events. */
  appToken?: string;
  /** Web API base URL override (proxies, Enterprise Grid, tests), e.g. https://slack.com/api/. */
  apiUrl?: string;
}

export interface PagerDutyConfig {
  /** Default Events API v2 integration key for incidents without their own. */
  routingKey?: string;
  /** host[:port] of the Events API; https is implied (pdjs always uses it). */
  eventsServer: string;
  /** V3 webhook subscription secrets; two while rotating. */
  webhookSecrets: string[];
}

type Env = Record<string, string | undefined>;

/** Secrets may come from a mounted file: FOO_FILE=/run/secrets/foo instead of FOO=…. */
function secret(env: Env, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new ConfigError(
        `${name}_FILE=${file} cannot be read (${(err as Error).message}); fix the path or set ${name}`,
      );
    }
  }
  const v = env[name];
  return v === undefined || v === "" ? undefined : v;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}=${raw} is not valid: expected a whole number between ${min} and ${max}`);
  }
  return n;
}

/**
 * "6h", "90m", "1h30m", "45s" → ms; the fallback when unset. "0" is accepted only when
 * `zero` says what it means there.
 */
function durationMs(
  env: Env,
  name: string,
  fallback: number,
  limits: { min?: number; max: number; zero?: string },
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const m = /^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$/.exec(raw);
  const ms = m
    ? ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)) *
      1000
    : Number.NaN;
  if (raw.trim() === "0" && limits.zero) return 0;
  if (!m || !/\d/.test(raw) || ms > limits.max || ms < (limits.min ?? 0)) {
    const range =
      limits.min !== undefined
        ? `between ${spelled(limits.min)} and ${spelled(limits.max)}`
        : `at most ${spelled(limits.max)}`;
    throw new ConfigError(
      `${name}=${raw} is not valid: expected a duration like ${limits.max >= 3_600_000 ? "6h, 90m or 1h30m" : "30s, 90s or 2m"} (${range}${limits.zero ? `; 0 = ${limits.zero}` : ""})`,
    );
  }
  return ms;
}

/** 604800000 → "7 days", 600000 → "10 minutes", 1000 → "1 second": for error messages. */
function spelled(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1_000, "second"],
  ];
  for (const [size, unit] of units) {
    if (ms % size === 0) return `${ms / size} ${unit}${ms / size === 1 ? "" : "s"}`;
  }
  return `${ms} ms`;
}

/** HOUSTON_HOST: an IP address or a host name; [::1] is taken as ::1. */
function listenHost(env: Env): string | undefined {
  const raw = (env["HOUSTON_HOST"] ?? "").trim();
  if (raw === "") return undefined;
  const host = raw.startsWith("[") && raw.endsWith("]") ? raw.slice(1, -1) : raw;
  const hostname =
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
  if (isIP(host) === 0 && !hostname.test(host)) {
    throw new ConfigError(
      `HOUSTON_HOST=${raw} is not an address to listen on: use an IP address (0.0.0.0, ::, 127.0.0.1, ::1) or a host name, or leave it unset for every interface`,
    );
  }
  return host;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const databaseUrl = secret(env, "DATABASE_URL");
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(
      "DATABASE_URL must be a postgres:// URL (or leave it unset to use the embedded PGlite store)",
    );
  }
  const timezone = env["HOUSTON_TIMEZONE"] || "UTC";
  if (!isValidTimeZone(timezone)) {
    throw new ConfigError(`HOUSTON_TIMEZONE=${timezone} is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  }
  const tokenList = (name: string): string[] => {
    const list = (secret(env, name) ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    for (const t of list) {
      if (t.length < 8)
        throw new ConfigError(`${name} holds a token shorter than 8 characters; use long random tokens`);
    }
    return list;
  };
  const tokens = tokenList("HOUSTON_INGEST_TOKENS");
  const askTokens = tokenList("HOUSTON_ASK_TOKENS");
  let houstonConfigPath = env["HOUSTON_CONFIG"] || undefined;
  if (houstonConfigPath) houstonConfigPath = path.resolve(cwd, houstonConfigPath);
  else {
    const local = path.resolve(cwd, "houston.yml");
    try {
      readFileSync(local);
      houstonConfigPath = local;
    } catch {
      houstonConfigPath = undefined;
    }
  }
  const houstonUrl = env["HOUSTON_URL"] || undefined;
  if (houstonUrl && !/^https?:\/\//.test(houstonUrl)) {
    throw new ConfigError(`HOUSTON_URL=${houstonUrl} must start with http:// or https://`);
  }
  const slack = slackConfig(env);
  const alertChannel = env["HOUSTON_ALERT_CHANNEL"] || undefined;
  const metricsToken = secret(env, "HOUSTON_METRICS_TOKEN");
  if (metricsToken !== undefined && metricsToken.length < 8) {
    throw new ConfigError("HOUSTON_METRICS_TOKEN is shorter than 8 characters; use a long random token");
  }
  const digestCatchupMs = durationMs(env, "HOUSTON_DIGEST_CATCHUP", 6 * 3_600_000, {
    max: 7 * 86_400_000,
    zero: "never catch up",
  });
  const maxBodyBytes = integer(env, "HOUSTON_MAX_BODY_BYTES", 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024);
  // Two bodies being written (the ingest gate) and two read and waiting for it.
  const bodyMemoryBytes = integer(env, "HOUSTON_BODY_MEMORY_BYTES", 4 * maxBodyBytes, 1024, 2 ** 40);
  if (bodyMemoryBytes < maxBodyBytes) {
    throw new ConfigError(
      `HOUSTON_BODY_MEMORY_BYTES=${bodyMemoryBytes} is smaller than HOUSTON_MAX_BODY_BYTES=${maxBodyBytes}: the largest accepted body could never be read; raise it or lower HOUSTON_MAX_BODY_BYTES`,
    );
  }
  const host = listenHost(env);
  return {
    digestCatchupMs,
    ...(metricsToken ? { metricsToken } : {}),
    ...(slack ? { slack } : {}),
    ...(alertChannel ? { alertChannel } : {}),
    pagerduty: pagerDutyConfig(env),
    port: integer(env, "PORT", 3000, 0, 65535),
    ...(host ? { host } : {}),
    databaseUrl,
    dataDir: path.resolve(cwd, env["HOUSTON_DATA_DIR"] || ".houston"),
    ingestTokens: tokens,
    askTokens,
    maxBodyBytes,
    bodyTimeoutMs: durationMs(env, "HOUSTON_BODY_TIMEOUT", 30_000, { min: 1_000, max: 600_000 }),
    bodyMemoryBytes,
    houstonConfigPath,
    retentionDays: integer(env, "HOUSTON_RETENTION_DAYS", 400, 1, 36500),
    timezone,
    logLevel: env["LOG_LEVEL"] || "info",
    houstonUrl,
    houstonToken: secret(env, "HOUSTON_TOKEN"),
  };
}

function slackConfig(env: Env): SlackConfig | undefined {
  const botToken = secret(env, "SLACK_BOT_TOKEN");
  const signingSecret = secret(env, "SLACK_SIGNING_SECRET");
  const appToken = secret(env, "SLACK_APP_TOKEN");
  const apiUrl = env["SLACK_API_URL"] || undefined;
  if (!botToken && !signingSecret && !appToken) return undefined;
  if (!botToken)
    throw new ConfigError(
      "SLACK_BOT_TOKEN is not set (the xoxb-… token from OAuth & Permissions), but other SLACK_ variables are",
    );
  if (!botToken.startsWith("xoxb-"))
    throw new ConfigError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-");
  if (!signingSecret) {
    throw new ConfigError(
      "SLACK_SIGNING_SECRET is not set (Basic Information → App Credentials → Signing Secret)",
    );
  }
  if (appToken && !appToken.startsWith("xapp-")) {
    throw new ConfigError(
      "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information → App-Level Tokens, scope connections:write)",
    );
  }
  if (apiUrl && !/^https?:\/\//.test(apiUrl))
    throw new ConfigError(`SLACK_API_URL=${apiUrl} must start with http:// or https://`);
  const out: SlackConfig = { botToken, signingSecret };
  if (appToken) out.appToken = appToken;
  if (apiUrl) out.apiUrl = apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
  return out;
}

function pagerDutyConfig(env: Env): PagerDutyConfig {
  const eventsServer = (env["PAGERDUTY_EVENTS_SERVER"] || "events.pagerduty.com").trim();
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(eventsServer)) {
    throw new ConfigError(
      `PAGERDUTY_EVENTS_SERVER=${eventsServer} must be a host or host:port without scheme or path (https is implied), e.g. events.pagerduty.com or events.eu.pagerduty.com`,
    );
  }
  const routingKey = secret(env, "PAGERDUTY_ROUTING_KEY");
  const webhookSecrets = (secret(env, "PAGERDUTY_WEBHOOK_SECRET") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return { eventsServer, webhookSecrets, ...(routingKey ? { routingKey } : {}) };
}
