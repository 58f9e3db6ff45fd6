// Structured JSON logs (pino). Secrets never reach a log line: the redact list covers the
// places they could appear.
import { type DestinationStream, type Logger, pino } from "pino";

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "houston" },
      redact: {
        paths: ["req.headers.authorization", "headers.authorization", "token", "*.token", "*.password"],
        censor: "[redacted]",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
