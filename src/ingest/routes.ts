// POST /api/v1/events (native) and POST /api/v1/lineage (OpenLineage, Marquez's path).
// Both: bearer token, size cap, validate everything first, then one transaction.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError, readBody, sendJson } from "../http/body.ts";
import type { Handler, HoustonServer, RequestContext } from "../http/server.ts";
import { ingestErrorReason, type Metrics } from "../metrics.ts";
import type { Ingestor } from "./apply.ts";
import type { FieldError, HoustonEvent } from "./events.ts";
import { parseBody, validateNativeEvent } from "./native.ts";
import { mapLineageEvent } from "./openlineage.ts";

export interface IngestDeps {
  tokens: string[];
  maxBodyBytes: number;
  ingestor: Ingestor;
  metrics?: Metrics;
}

type IngestSource = "events" | "openlineage";

/** At most this many problems are listed in a 400; the count says how many there were. */
const MAX_LISTED_ERRORS = 100;

export function checkToken(req: IncomingMessage, tokens: string[]): void {
  if (tokens.length === 0) {
    throw new HttpError(
      401,
      "ingest is disabled: no tokens are configured; set HOUSTON_INGEST_TOKENS on the server",
    );
  }
  const header = req.headers.authorization ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) throw new HttpError(401, "missing bearer token: send `Authorization: Bearer <token>`");
  const given = Buffer.from(m[1]!.trim());
  // Compare against every token in constant time, so timing reveals neither which nor how much matched.
  let ok = false;
  for (const t of tokens) {
    const want = Buffer.from(t);
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  if (!ok) throw new HttpError(401, "invalid bearer token");
}

function refuse(errors: FieldError[]): never {
  throw new HttpError(400, `${errors.length} problem(s) in the request; nothing was written`, {
    error_count: errors.length,
    errors: errors.slice(0, MAX_LISTED_ERRORS),
  });
}

/** Counts a refused request by reason, then lets the server answer it as before. */
function counted(deps: IngestDeps, source: IngestSource, handler: Handler): Handler {
  if (!deps.metrics) return handler;
  const errors = deps.metrics.ingestErrors;
  return async (ctx) => {
    try {
      await handler(ctx);
    } catch (err) {
      errors.inc({ reason: ingestErrorReason(err instanceof HttpError ? err.status : undefined), source });
      throw err;
    }
  };
}

/**
 * At most this many large ingest requests are read, validated and written at once; the rest
 * wait before their body is read (it stays in the socket). Each in-flight 1,000-event batch
 * holds megabytes of objects and more concurrent write transactions gain nothing on two
 * cores: without the bound, service RSS rose past 250 MB under four concurrent clients.
 * Small requests (one OpenLineage event, a `houston run` start) pass without waiting: they
 * hold little, and their cost is round trips and commits, which concurrency overlaps.
 */
const MAX_CONCURRENT_LARGE_INGEST = 2;
const LARGE_BODY_BYTES = 64 * 1024;

/** A counting semaphore: run(fn) starts fn once fewer than `limit` others are running. */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (active stays counted), else free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Parses and validates a native body: the events, or a 400 listing every problem. */
function nativeEvents(text: string): HoustonEvent[] {
  const parsed = parseBody(text);
  if (!parsed.ok) refuse(parsed.errors);
  const events: HoustonEvent[] = [];
  const errors: FieldError[] = [];
  parsed.items.forEach((item, i) => {
    const r = validateNativeEvent(item.value, i, item.line);
    if (r.ok) events.push(r.event);
    else errors.push(...r.errors);
  });
  if (errors.length) refuse(errors);
  return events;
}

/** Parses and maps an OpenLineage body: the events and warnings, or a 400. */
function lineageEvents(text: string): { events: HoustonEvent[]; warnings: string[] } {
  // NUL and lone surrogates, which PostgreSQL text cannot hold, are dealt with per field by
  // the mapper: a required field refuses the event, a facet is dropped with a warning.
  const parsed = parseBody(text);
  if (!parsed.ok) refuse(parsed.errors);
  const events: HoustonEvent[] = [];
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  parsed.items.forEach((item, i) => {
    const r = mapLineageEvent(item.value, i);
    if (r.ok) {
      events.push(...r.events);
      warnings.push(...r.warnings);
    } else errors.push(...r.errors);
  });
  if (errors.length) refuse(errors);
  return { events, warnings };
}

export function registerIngestRoutes(server: HoustonServer, deps: IngestDeps): void {
  const gate = new Gate(MAX_CONCURRENT_LARGE_INGEST);
  // A body of unknown length (chunked) counts as large.
  const gated = <T>(ctx: RequestContext, fn: () => Promise<T>): Promise<T> => {
    const declared = Number(ctx.req.headers["content-length"]);
    return Number.isFinite(declared) && declared < LARGE_BODY_BYTES ? fn() : gate.run(fn);
  };
  const route = (path: string, source: IngestSource, handler: Handler) =>
    server.route("POST", path, counted(deps, source, handler));
  // The body text and the raw parsed JSON are dropped once validated (helpers above), so a
  // request waiting on the database holds only its events.
  route("/api/v1/events", "events", async (ctx) => {
    checkToken(ctx.req, deps.tokens);
    await gated(ctx, async () => {
      const events = nativeEvents(await readBody(ctx.req, deps.maxBodyBytes));
      await accept(ctx, deps, events, 200, [], "events");
    });
  });

  route("/api/v1/lineage", "openlineage", async (ctx) => {
    checkToken(ctx.req, deps.tokens);
    await gated(ctx, async () => {
      const { events, warnings } = lineageEvents(await readBody(ctx.req, deps.maxBodyBytes));
      if (warnings.length)
        ctx.log.warn({ warnings: warnings.slice(0, 20) }, "openlineage event accepted with warnings");
      // Marquez answers 201 Created; OpenLineage transports accept any 2xx.
      await accept(ctx, deps, events, 201, warnings, "openlineage");
    });
  });
}

async function accept(
  ctx: RequestContext,
  deps: IngestDeps,
  events: HoustonEvent[],
  status: number,
  warnings: string[],
  source: IngestSource,
): Promise<void> {
  // The response does not wait for the daily rollup: it catches up within one flush pass.
  const result = await deps.ingestor.apply(events, { rollup: "background" });
  if (deps.metrics) {
    const byType = new Map<string, number>();
    for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    for (const [type, n] of byType) deps.metrics.eventsIngested.inc({ type, source }, n);
    if (result.duplicates > 0) deps.metrics.eventsDuplicate.inc({ source }, result.duplicates);
  }
  const body: Record<string, unknown> = { ...result };
  if (warnings.length) body["warnings"] = warnings.slice(0, MAX_LISTED_ERRORS);
  sendJson(ctx.res, status, body);
}
