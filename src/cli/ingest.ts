// `houston ingest FILE|-`: loads JSON or NDJSON events in batches. The whole input is
// validated before anything is written, so a bad record N lines in leaves the store
// untouched; stdin is spooled to a temporary file to allow the two passes.
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import type { HoustonEvent, IngestResult } from "../ingest/events.ts";
import { validateNativeEvent } from "../ingest/native.ts";

export interface BatchSink {
  send(events: HoustonEvent[]): Promise<IngestResult>;
}

export class BadRecordError extends Error {
  override name = "BadRecordError";
}

export interface IngestSummary extends IngestResult {
  events: number;
  seconds: number;
}

interface Options {
  file: string;
  sink: BatchSink;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream;
  batchSize?: number;
}

/** Yields validated events with their line (NDJSON) or index (JSON array); throws BadRecordError. */
async function* records(file: string): AsyncGenerator<HoustonEvent> {
  const fd = createReadStream(file, { encoding: "utf8", start: 0, end: 4095 });
  let first = "";
  for await (const chunk of fd) first += chunk;
  if (first.trimStart().startsWith("[")) {
    // A JSON array must be parsed whole; fine for files that fit in memory.
    let items: unknown;
    try {
      items = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new BadRecordError(`${file}: malformed JSON: ${(err as Error).message}`);
    }
    const arr = items as unknown[];
    for (let i = 0; i < arr.length; i++) {
      const r = validateNativeEvent(arr[i], i);
      if (!r.ok) throw new BadRecordError(describeErrors(`${file}: event #${i + 1}`, r.errors));
      yield r.event;
    }
    return;
  }
  const rl = createInterface({
    input: createReadStream(file, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new BadRecordError(`${file}:${line}: malformed JSON: ${(err as Error).message}`);
    }
    const r = validateNativeEvent(value, line - 1, line);
    if (!r.ok) throw new BadRecordError(describeErrors(`${file}:${line}`, r.errors));
    yield r.event;
  }
}

function describeErrors(where: string, errors: { field: string; reason: string }[]): string {
  return `${where}: ${errors.map((e) => `${e.field} ${e.reason}`).join("; ")}`;
}

function progress(stderr: Options["stderr"], done: number, total: number, started: number): void {
  const width = 30;
  const frac = total ? done / total : 1;
  const filled = Math.round(frac * width);
  const rate = done / Math.max(0.001, (performance.now() - started) / 1000);
  stderr.write(
    `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
      `${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} events ${Math.round(rate).toLocaleString("en-US")}/s`,
  );
}

export async function ingestFile(opts: Options): Promise<IngestSummary> {
  const batchSize = opts.batchSize ?? 1000;
  let file = opts.file;
  let spool: string | undefined;
  if (file === "-") {
    spool = mkdtempSync(path.join(tmpdir(), "houston-ingest-"));
    file = path.join(spool, "stdin.ndjson");
    await pipeline(opts.stdin ?? process.stdin, createWriteStream(file));
  } else {
    try {
      statSync(file);
    } catch {
      throw new BadRecordError(`${file}: no such file`);
    }
  }
  try {
    // Pass 1: validate everything and count.
    let total = 0;
    for await (const _ of records(file)) total++;
    // Pass 2: write in batches.
    const tty = (opts.stderr as NodeJS.WriteStream).isTTY === true;
    const started = performance.now();
    let batch: HoustonEvent[] = [];
    let done = 0;
    const result: IngestResult = { accepted: 0, duplicates: 0 };
    const flush = async () => {
      if (!batch.length) return;
      const r = await opts.sink.send(batch);
      result.accepted += r.accepted;
      result.duplicates += r.duplicates;
      done += batch.length;
      batch = [];
      if (tty) progress(opts.stderr, done, total, started);
    };
    for await (const e of records(file)) {
      batch.push(e);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    if (tty) opts.stderr.write("\n");
    return { ...result, events: total, seconds: (performance.now() - started) / 1000 };
  } finally {
    if (spool) rmSync(spool, { recursive: true, force: true });
  }
}
