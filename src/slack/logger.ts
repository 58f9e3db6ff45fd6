// Bolt, the Web API client and the Socket Mode client log through this adapter, so their
// lines land in Houston's structured log (JSON, same redaction) instead of on the console.
import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import type { Logger } from "pino";

const TO_BOLT: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

function render(part: unknown): string {
  if (typeof part === "string") return part;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}

export function boltLogger(log: Logger): BoltLogger {
  const write =
    (level: "debug" | "info" | "warn" | "error") =>
    (...msg: unknown[]): void => {
      if (!log.isLevelEnabled(level)) return;
      const err = msg.find((m): m is Error => m instanceof Error);
      const text = msg
        .filter((m) => !(m instanceof Error))
        .map(render)
        .join(" ");
      log[level](err ? { err } : {}, text || err?.message || "");
    };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    // LOG_LEVEL decides for every component; Bolt's own level knobs are ignored on purpose.
    setLevel: () => {},
    getLevel: () => TO_BOLT[log.level] ?? LogLevel.INFO,
    setName: () => {},
  };
}
