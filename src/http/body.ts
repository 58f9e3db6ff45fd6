// Reading request bodies with a hard size cap (before and after gunzip), a deadline, and a
// memory budget shared by every request, plus small JSON response helpers. Every refusal is
// a JSON body saying what was wrong and how to fix it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGunzip } from "node:zlib";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
    /** Extra response headers (Retry-After on a 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** How long a client may take to send its whole body unless the caller says otherwise. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
/** What a 503 for a full memory budget tells the client to wait, in seconds. */
const BUSY_RETRY_AFTER_S = 2;

/**
 * Bytes of request bodies held in memory, all requests together. A request takes a lease,
 * reads its body into it, and releases it when it is done with the body and what was made
 * from it (for ingest: after the write). Without it, slow or many clients could each park a
 * 10 MB body in memory while waiting for the database.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  lease(): BudgetLease {
    let held = 0;
    let released = false;
    return {
      fits: (n) => !released && this.used + n <= this.limit,
      take: (n) => {
        if (released || this.used + n > this.limit) return false;
        this.used += n;
        held += n;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.used -= held;
        held = 0;
      },
      get bytes() {
        return held;
      },
    };
  }
}

export interface BudgetLease {
  /** Whether n more bytes would fit now (nothing is taken). */
  fits(n: number): boolean;
  /** Takes n bytes; false (nothing taken) when they do not fit. */
  take(n: number): boolean;
  /** Gives back everything taken; later calls do nothing. */
  release(): void;
  readonly bytes: number;
}

export interface ReadBodyOptions {
  /** The whole body must have arrived this long after reading started; else 408. */
  timeoutMs?: number;
  /** Counts the body's bytes (after gunzip) against a shared budget; over it → 503 + Retry-After. */
  lease?: BudgetLease;
}

function busy(): HttpError {
  return new HttpError(
    503,
    "Houston is holding as many request bodies in memory as it allows (HOUSTON_BODY_MEMORY_BYTES); retry shortly",
    { retry_after_seconds: BUSY_RETRY_AFTER_S },
    { "retry-after": String(BUSY_RETRY_AFTER_S) },
  );
}

/**
 * Reads the whole body as UTF-8. 413 when it (or its gunzipped form) exceeds maxBytes; 408
 * when it has not all arrived within the deadline (a slow or stalled client must not hold a
 * request, and what it waits for, open); 503 when the shared memory budget is full.
 * After any of these the body is not read further: the server closes the connection.
 */
export async function readBody(
  req: IncomingMessage,
  maxBytes: number,
  opts: ReadBodyOptions = {},
): Promise<string> {
  const tooLarge = () =>
    new HttpError(
      413,
      `request body exceeds ${maxBytes} bytes; send smaller batches (HOUSTON_MAX_BODY_BYTES)`,
      {
        limit_bytes: maxBytes,
      },
    );
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    throw new HttpError(415, `content-encoding ${encoding} is not supported; send identity or gzip`);
  }
  const lease = opts.lease;
  // Refused before a byte is read when the declared body cannot fit (gzip only grows it).
  if (lease && Number.isFinite(declared) && !lease.fits(declared)) throw busy();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const gunzip = encoding === "gzip" ? createGunzip() : undefined;
  const source: NodeJS.ReadableStream = gunzip ? req.pipe(gunzip) : req;
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<string>((resolve, reject) => {
    let done = false;
    const finish = (err: HttpError | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      source.removeListener("data", onData);
      source.removeListener("end", onEnd);
      source.removeListener("error", onError);
      req.removeListener("aborted", onAborted);
      req.removeListener("error", onError);
      if (err) {
        // Stop reading: the server answers and closes the connection (see server.ts).
        if (gunzip) {
          req.unpipe(gunzip);
          gunzip.destroy();
        }
        req.pause();
        chunks.length = 0;
        reject(err);
      } else resolve(Buffer.concat(chunks, size).toString("utf8"));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish(tooLarge());
      if (lease && !lease.take(chunk.length)) return finish(busy());
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) =>
      finish(new HttpError(400, `could not read the request body: ${err.message}`));
    const onAborted = () => finish(new HttpError(400, "the client closed the connection mid-body"));
    const timer = setTimeout(
      () =>
        finish(
          new HttpError(
            408,
            `the request body did not arrive within ${Math.round(timeoutMs / 100) / 10} s; send it faster or in smaller batches (HOUSTON_BODY_TIMEOUT)`,
            { timeout_seconds: timeoutMs / 1000 },
          ),
        ),
      timeoutMs,
    );
    source.on("data", onData);
    source.once("end", onEnd);
    source.once("error", onError);
    req.once("aborted", onAborted);
    // With gunzip in between, the request's own errors do not reach `source`.
    if (gunzip) req.once("error", onError);
  });
}
