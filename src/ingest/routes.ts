// POST /api/v1/events (native) and POST /api/v1/lineage (OpenLineage, Marquez's path).
// Both: bearer token, size cap, validate everything first, then one transaction.
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError, readBody, sendJson } from "../http/body.ts";
import type { HoustonServer, RequestContext } from "../http/server.ts";
import type { Ingestor } from "./apply.ts";
import type { FieldError, HoustonEvent } from "./events.ts";
import { parseBody, validateNativeEvent } from "./native.ts";
import { mapLineageEvent } from "./openlineage.ts";

export interface IngestDeps {
  tokens: string[];
  maxBodyBytes: number;
  ingestor: Ingestor;
}

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

export function registerIngestRoutes(server: HoustonServer, deps: IngestDeps): void {
  server.route("POST", "/api/v1/events", async (ctx) => {
    checkToken(ctx.req, deps.tokens);
    const parsed = parseBody(await readBody(ctx.req, deps.maxBodyBytes));
    if (!parsed.ok) refuse(parsed.errors);
    const events: HoustonEvent[] = [];
    const errors: FieldError[] = [];
    parsed.items.forEach((item, i) => {
      const r = validateNativeEvent(item.value, i, item.line);
      if (r.ok) events.push(r.event);
      else errors.push(...r.errors);
    });
    if (errors.length) refuse(errors);
    await accept(ctx, deps, events, 200, []);
  });

  server.route("POST", "/api/v1/lineage", async (ctx) => {
    checkToken(ctx.req, deps.tokens);
    let text = await readBody(ctx.req, deps.maxBodyBytes);
    // Postgres text cannot hold NUL; facets from arbitrary producers sometimes do.
    if (text.includes("\\u0000")) text = text.replaceAll("\\u0000", "");
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
    if (warnings.length)
      ctx.log.warn({ warnings: warnings.slice(0, 20) }, "openlineage event accepted with warnings");
    // Marquez answers 201 Created; OpenLineage transports accept any 2xx.
    await accept(ctx, deps, events, 201, warnings);
  });
}

async function accept(
  ctx: RequestContext,
  deps: IngestDeps,
  events: HoustonEvent[],
  status: number,
  warnings: string[],
): Promise<void> {
  const result = await deps.ingestor.apply(events);
  const body: Record<string, unknown> = { ...result };
  if (warnings.length) body["warnings"] = warnings.slice(0, MAX_LISTED_ERRORS);
  sendJson(ctx.res, status, body);
}
