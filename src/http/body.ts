// Reading request bodies with a hard size cap (before and after gunzip) and small JSON
// response helpers. Every refusal is a JSON body saying what was wrong and how to fix it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGunzip } from "node:zlib";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Reads the whole body as UTF-8; 413 when it (or its gunzipped form) exceeds maxBytes. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(
      413,
      `request body exceeds ${maxBytes} bytes; send smaller batches (HOUSTON_MAX_BODY_BYTES)`,
      {
        limit_bytes: maxBytes,
      },
    );
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw tooLarge();
  }
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    req.resume();
    throw new HttpError(415, `content-encoding ${encoding} is not supported; send identity or gzip`);
  }
  const source: NodeJS.ReadableStream = encoding === "gzip" ? req.pipe(createGunzip()) : req;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        req.resume();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `could not read the request body: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks).toString("utf8");
}
