// POST /api/v1/events (native) and POST /api/v1/lineage (OpenLineage, Marquez's path).
// Both: bearer token, size cap, validate everything first, then one transaction.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";
import { isStoreUnavailable, STORE_RETRY_AFTER_S } from "../db/unavailable.ts";
import { ByteBudget, HttpError, readBody, sendJson } from "../http/body.ts";
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
  /** A body not fully received this long after the request started → 408 (HOUSTON_BODY_TIMEOUT). */
  bodyTimeoutMs?: number;
  /** Request bodies held at once, both routes together (HOUSTON_BODY_MEMORY_BYTES); default 4 × maxBodyBytes. */
  bodyMemoryBytes?: number;
  /** The store's readiness within a time limit: asked when a write stalls or after an outage. */
  ready?: (timeoutMs: number) => Promise<boolean>;
  /**
   * Large requests validated and written at once (default MAX_CONCURRENT_LARGE_INGEST). One
   * on the embedded store: it runs one transaction at a time on this process's own thread,
   * so a second large request in progress gains nothing and only holds its events meanwhile.
   */
  maxConcurrentLarge?: number;
}

type IngestSource = "events" | "openlineage";

/** At most this many problems are listed in a 400; the count says how many there were. */
const MAX_LISTED_ERRORS = 100;

export function checkToken(
  req: IncomingMessage,
  tokens: string[],
  what: { name: string; setting: string } = { name: "ingest", setting: "HOUSTON_INGEST_TOKENS" },
): void {
  if (tokens.length === 0) {
    throw new HttpError(
      401,
      `${what.name} is disabled: no tokens are configured; set ${what.setting} on the server`,
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
      // A database error the server answers 503 (src/http/server.ts) counts as that, not as internal.
      const status = err instanceof HttpError ? err.status : isStoreUnavailable(err) ? 503 : undefined;
      errors.inc({ reason: ingestErrorReason(status), source });
      throw err;
    }
  };
}

/**
 * At most this many large ingest requests are validated and written at once; the rest wait,
 * their body read and held (within the memory budget). Each in-flight 1,000-event batch
 * holds megabytes of objects and more concurrent write transactions gain nothing on two
 * cores: without the bound, service RSS rose past 250 MB under four concurrent clients.
 * Small requests (one OpenLineage event, a `houston run` start) pass without waiting: they
 * hold little, and their cost is round trips and commits, which concurrency overlaps.
 * The gate is taken only once the body has arrived: taken before, three slow uploads held
 * it for a minute and every large batch behind them waited.
 */
const MAX_CONCURRENT_LARGE_INGEST = 2;
const LARGE_BODY_BYTES = 64 * 1024;

/** A write still running this long makes Houston ask whether the database is there at all. */
const STALL_CHECK_MS = 1_000;
/** How long that question (and the one asked after an outage) may take: 503 within 2 s. */
const PROBE_MS = 700;

function unreachable(): HttpError {
  return new HttpError(
    503,
    "the database is unreachable; nothing was written, retry later",
    { retry_after_seconds: STORE_RETRY_AFTER_S },
    { "retry-after": String(STORE_RETRY_AFTER_S) },
  );
}

/**
 * Keeps ingest answering promptly while the database is away. A connection refused or
 * reset fails at once (and is answered 503 by the server); a database that stops answering
 * does not fail at all, so a write still running after STALL_CHECK_MS asks the store, on a
 * connection of its own, whether it answers: if not, the request gets 503 and the write is
 * left to fail on its own (event ids make the client's retry safe even if it commits after
 * all). After an outage, each new request asks first (one question shared by all), so
 * requests do not pile up behind dead connections.
 */
export class OutageGuard {
  private down = false;
  private probing: Promise<boolean> | undefined;
  constructor(private readonly ready: ((timeoutMs: number) => Promise<boolean>) | undefined) {}

  private probe(): Promise<boolean> {
    if (!this.ready) return Promise.resolve(true);
    this.probing ??= this.ready(PROBE_MS)
      .catch(() => false)
      .then((up) => {
        this.down = !up;
        return up;
      })
      .finally(() => {
        this.probing = undefined;
      });
    return this.probing;
  }

  /** Throws 503 when the database was away lately and still does not answer. */
  async before(): Promise<void> {
    if (this.down && !(await this.probe())) throw unreachable();
  }

  /** The write's result, or 503 once it is stalled and the database does not answer. */
  async during<T>(work: Promise<T>, log: Logger): Promise<T> {
    const stalled = Symbol("stalled");
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof stalled>((resolve) => {
        timer = setTimeout(() => resolve(stalled), STALL_CHECK_MS);
      });
      let first: T | typeof stalled;
      try {
        first = await Promise.race([work, tick]);
      } catch (err) {
        if (isStoreUnavailable(err)) this.down = true;
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (first !== stalled) return first;
      const settled = work.then(
        () => true,
        () => true,
      );
      if (!(await Promise.race([this.probe(), settled]))) {
        work.then(
          () => log.warn("a write answered 503 during a database outage committed after all"),
          (err: unknown) => log.debug({ err }, "a write abandoned during a database outage failed"),
        );
        log.warn({ stalledMs: STALL_CHECK_MS + PROBE_MS }, "ingest: the database does not answer; 503");
        throw unreachable();
      }
    }
  }
}

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
  const gate = new Gate(deps.maxConcurrentLarge ?? MAX_CONCURRENT_LARGE_INGEST);
  const budget = new ByteBudget(deps.bodyMemoryBytes ?? 4 * deps.maxBodyBytes);
  const outage = new OutageGuard(deps.ready);
  /**
   * Reads the body (deadline, memory budget), then runs fn, through the gate when the body
   * is large. fn gets the text through take(), which lets go of it: once parsed, the text
   * and the raw JSON are dropped (helpers above), so a request waiting on the database
   * holds only its events. The budget is held until the request is done.
   */
  const withBody = async (ctx: RequestContext, fn: (take: () => string) => Promise<void>) => {
    const lease = budget.lease();
    try {
      let text: string | undefined = await readBody(ctx.req, deps.maxBodyBytes, {
        lease,
        ...(deps.bodyTimeoutMs ? { timeoutMs: deps.bodyTimeoutMs } : {}),
      });
      await outage.before();
      const take = () => {
        const t = text ?? "";
        text = undefined;
        return t;
      };
      await (lease.bytes < LARGE_BODY_BYTES ? fn(take) : gate.run(() => fn(take)));
    } finally {
      lease.release();
    }
  };
  const write = (ctx: RequestContext, events: HoustonEvent[]) =>
    // The response does not wait for the daily rollup: it catches up within one flush pass.
    outage.during(deps.ingestor.apply(events, { rollup: "background" }), ctx.log);
  const route = (path: string, source: IngestSource, handler: Handler) =>
    server.route("POST", path, counted(deps, source, handler));
  route("/api/v1/events", "events", async (ctx) => {
    checkToken(ctx.req, deps.tokens);
    await withBody(ctx, async (take) => {
      const events = nativeEvents(take());
      accept(ctx, deps, events, await write(ctx, events), 200, [], "events");
    });
  });

  route("/api/v1/lineage", "openlineage", async (ctx) => {
    checkToken(ctx.req, deps.tokens);
    await withBody(ctx, async (take) => {
      const { events, warnings } = lineageEvents(take());
      if (warnings.length)
        ctx.log.warn({ warnings: warnings.slice(0, 20) }, "openlineage event accepted with warnings");
      // Marquez answers 201 Created; OpenLineage transports accept any 2xx.
      accept(ctx, deps, events, await write(ctx, events), 201, warnings, "openlineage");
    });
  });
}

function accept(
  ctx: RequestContext,
  deps: IngestDeps,
  events: HoustonEvent[],
  result: Awaited<ReturnType<Ingestor["apply"]>>,
  status: number,
  warnings: string[],
  source: IngestSource,
): void {
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
