// Structured JSON logs (pino), one line per request, question, evaluation and delivery.
// Secrets never reach a log line: the redact list covers every field name a secret travels
// under in Houston (config, headers, PagerDuty payloads), at the top level and nested, and
// the test suite checks every line it produces for its test tokens (test/ops/log-leaks.ts).
//
// Two more promises, both learnt the hard way:
// - No line is longer than MAX_LINE_BYTES. A failed 10 MB ingest once logged its query with
//   every parameter: one 46 MB line, which log shippers split, drop or choke on.
// - Writing a line never blocks and never throws. With stdout a pipe whose reader died
//   (`houston | cat`, cat killed), pino's own destination retried the write forever at
//   exit, so SIGTERM never ended the process.
import { writeSync } from "node:fs";
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

/** The longest line Houston writes, in bytes (newline included). */
export const MAX_LINE_BYTES = 8 * 1024;

/**
 * How much of a logged value is kept. Generous enough that an error still says what failed
 * (the statement's start, the driver's message and code, the top of the stack); small
 * enough that a line with a few such fields stays under MAX_LINE_BYTES, which the last
 * pass (fitLine) enforces whatever was logged.
 */
const KEEP = { string: 1_000, stack: 1_500, items: 10, keys: 40, depth: 6 };
/** fitLine's second try, when a line with everything above is still too long. */
const KEEP_SMALL = { string: 160, stack: 400, items: 3, keys: 20, depth: 4 };
type Keep = typeof KEEP;

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… [${s.length - max} more characters]`;
}

/**
 * An Error as a plain object: type, message, code and the other fields its driver set
 * (SQLSTATE, detail, the failed query and its parameters…), stack, and its cause as a
 * nested error rather than appended to the message, so that clipping a long message
 * (drizzle's "Failed query: … params: …" holds every parameter) keeps the cause's
 * "relation does not exist".
 */
function errorObject(err: Error, keep: Keep, depth: number, seen: Set<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.constructor?.name || err.name,
    message: clip(String(err.message), keep.string),
  };
  for (const key of Object.keys(err).slice(0, keep.keys)) {
    if (key === "cause" || key === "message" || key === "stack") continue;
    out[key] = bounded((err as unknown as Record<string, unknown>)[key], keep, depth + 1, seen);
  }
  if (typeof err.stack === "string") {
    // A V8 stack starts with "Name: message": the message again, in full.
    const head = `${err.name}: ${err.message}`;
    const stack = err.stack.startsWith(head)
      ? `${err.name}: ${out["message"] as string}${err.stack.slice(head.length)}`
      : err.stack;
    out["stack"] = clip(stack, keep.stack);
  }
  if (err.cause !== undefined) out["cause"] = bounded(err.cause, keep, depth + 1, seen);
  if (err instanceof AggregateError)
    out["errors"] = bounded(Array.from(err.errors as unknown[]), keep, depth + 1, seen);
  return out;
}

/** A copy of `value` with long strings clipped, long arrays and objects cut, deep nesting cut. */
export function bounded(value: unknown, keep: Keep = KEEP, depth = 0, seen = new Set<object>()): unknown {
  if (typeof value === "string") return clip(value, keep.string);
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  if (depth >= keep.depth) return Array.isArray(value) ? `[array of ${value.length}]` : "[object]";
  if (value instanceof Date) return value;
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${value.byteLength} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) return errorObject(value, keep, depth, seen);
    if (Array.isArray(value)) {
      const out = value.slice(0, keep.items).map((v) => bounded(v, keep, depth + 1, seen));
      if (value.length > keep.items) out.push(`… ${value.length - keep.items} more items`);
      return out;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return bounded(toJSON.call(value), keep, depth, seen);
    const keys = Object.keys(value);
    const out: Record<string, unknown> = {};
    for (const key of keys.slice(0, keep.keys))
      out[key] = bounded((value as Record<string, unknown>)[key], keep, depth + 1, seen);
    if (keys.length > keep.keys) out["…"] = `${keys.length - keep.keys} more fields`;
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * The last pass over every line: one still longer than MAX_LINE_BYTES (many long fields
 * at once) is rewritten with less of each field, and if even that is too long, as its
 * level, time, message and size. Either way it stays one valid JSON document, marked
 * `"truncated": true`. Redaction has already happened: this only removes text.
 */
export function fitLine(line: string): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes in JSON text (lone surrogates are escaped).
  if (line.length * 3 <= MAX_LINE_BYTES || Buffer.byteLength(line) <= MAX_LINE_BYTES) return line;
  const bytes = Buffer.byteLength(line);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${JSON.stringify({ level: 50, time: new Date().toISOString(), msg: "unparsable log line dropped", bytes })}\n`;
  }
  const { level, time, service, requestId, msg, ...rest } = parsed;
  const head = { level, time, service, requestId };
  const message = typeof msg === "string" ? clip(msg, 500) : undefined;
  const smaller = `${JSON.stringify({ ...head, ...(bounded(rest, KEEP_SMALL) as object), msg: message, truncated: true, bytes })}\n`;
  if (Buffer.byteLength(smaller) <= MAX_LINE_BYTES) return smaller;
  return `${JSON.stringify({ ...head, msg: message, truncated: true, bytes })}\n`;
}

/**
 * Log lines to a file descriptor (stdout), written so that the reader can neither stall
 * nor stop Houston:
 * - synchronous writes of whole lines, on the main thread: nothing is left in a thread
 *   pool for exit to wait on, and a line is out before the next statement runs;
 * - the descriptor is non-blocking when it is a pipe or socket (Node makes it so when
 *   process.stdout is first used, which the constructor does), so a full pipe answers
 *   EAGAIN instead of blocking: lines then wait in memory up to maxPendingBytes, are
 *   retried on a timer, and beyond that are dropped and counted;
 * - EPIPE (the reader is gone) or any other error turns logging off for good;
 * - at exit, one attempt to write what is waiting, never a retry loop.
 */
export class LineSink implements DestinationStream {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private broken = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fd: number,
    private readonly maxPendingBytes = 1024 * 1024,
  ) {
    if (fd === 1) void process.stdout.fd;
    process.once("exit", () => this.flushPending());
  }

  /** True once the reader has gone and lines are discarded. */
  get closed(): boolean {
    return this.broken;
  }

  write(line: string): boolean {
    if (this.broken) return true;
    const buf = Buffer.from(line);
    if (this.pending.length > 0) {
      this.enqueue(buf, false);
      this.flushPending();
      return true;
    }
    const n = this.tryWrite(buf);
    if (n >= 0 && n < buf.length) {
      // The rest of a line written in part always waits, so that lines never interleave.
      this.enqueue(buf.subarray(n), true);
      this.schedule();
    }
    return true;
  }

  /** pino's logger.flush(): one attempt, then the callback. */
  flush(cb?: (err?: Error) => void): void {
    this.flushPending();
    cb?.();
  }

  /** Bytes written, or -1 when logging is off from now on. EAGAIN writes nothing. */
  private tryWrite(buf: Buffer): number {
    try {
      return writeSync(this.fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") return 0;
      this.broken = true;
      this.pending = [];
      this.pendingBytes = 0;
      clearTimeout(this.timer);
      return -1;
    }
  }

  private enqueue(buf: Buffer, partial: boolean): void {
    if (!partial && this.pendingBytes + buf.length > this.maxPendingBytes) {
      this.dropped++;
      return;
    }
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  private flushPending(): void {
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const n = this.tryWrite(head);
      if (n < 0) return;
      this.pendingBytes -= n;
      if (n < head.length) {
        this.pending[0] = head.subarray(n);
        this.schedule();
        return;
      }
      this.pending.shift();
    }
    if (this.dropped > 0) {
      const note = {
        level: 40,
        time: new Date().toISOString(),
        service: "houston",
        dropped: this.dropped,
        msg: "log lines were dropped: the log reader (stdout) did not keep up",
      };
      this.dropped = 0;
      this.write(`${JSON.stringify(note)}\n`);
    }
  }

  private schedule(): void {
    if (this.timer || this.broken) return;
    // Unref'd: waiting log lines never keep the process alive.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushPending();
    }, 25).unref();
  }
}

let stdoutSink: LineSink | undefined;

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "houston" },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors are made plain (and bounded) in formatters.log below, before this runs.
      serializers: { err: (e: unknown) => (e instanceof Error ? bounded(e) : e) },
      formatters: {
        log: (obj) => bounded(obj) as Record<string, unknown>,
        bindings: (b) => bounded(b) as Record<string, unknown>,
      },
      hooks: {
        // pino takes an error's message as the line's msg when none is given: in full.
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          const err = first instanceof Error ? first : (first as { err?: unknown } | undefined)?.err;
          if (typeof first === "object" && typeof second !== "string" && err instanceof Error) {
            return method.apply(this, [first, clip(err.message, KEEP.string)] as never);
          }
          return method.apply(
            this,
            (args as unknown[]).map((a) => (typeof a === "string" ? clip(a, KEEP.string) : a)) as never,
          );
        },
        streamWrite: fitLine,
      },
    },
    destination ?? (stdoutSink ??= new LineSink(1)),
  );
}
