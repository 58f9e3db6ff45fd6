// Structured JSON logs (pino), one line per request, question, evaluation and delivery.
// Secrets never reach a log line: the redact list covers every field name a secret travels
// under in Houston (config, headers, PagerDuty payloads), at the top level and nested, and
// the test suite checks every line it produces for its test tokens (test/ops/log-leaks.ts).
import { type DestinationStream, type Logger, pino } from "pino";

/** Field names that hold secrets somewhere in Houston. */
const SECRET_FIELDS = [
  "authorization",
  "cookie",
  "token",
  "tokens",
  "botToken",
  "appToken",
  "ingestTokens",
  "metricsToken",
  "houstonToken",
  "signingSecret",
  "secret",
  "secrets",
  "webhookSecrets",
  "routing_key",
  "routingKey",
  "password",
  "databaseUrl",
  "client_secret",
];

/**
 * pino's wildcards match one level each, so each name is listed at the depths it can occur:
 * top level (`log.info({ token })`), one down (`{ config: { token } }`, a PagerDuty body's
 * routing_key) and two down (`{ err: { config: { headers: { authorization } } } }`).
 */
export const REDACT_PATHS = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  "*.*.*.authorization",
  "*.*.*.routing_key",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "houston" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
