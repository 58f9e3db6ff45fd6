// PagerDuty Events API v2: building events from incidents and sending them with pdjs, as an
// outbox handler (src/outbox/worker.ts retries, orders and rate-limits; this file only says
// what one attempt did).
//
// pdjs quirks handled here (checked against @pagerduty/pdjs 2.2.4, which fetches through
// cross-fetch → node-fetch 2):
// - event({ server }) always posts to https://<server>/v2/enqueue: only host:port is ours to
//   choose. A test CA is trusted through an https.Agent handed to node-fetch (`agent` is not in
//   RequestInit, hence the cast); TLS verification is never turned off.
// - It resolves on every HTTP status: we read r.status / r.data and decide ourselves.
// - It retries a 429 by itself, three more times, retryTimeout apart (20 s by default); the
//   count cannot be changed. We want the worker to own retries (backoff, a rate-limit pause
//   for the routing key, no 80 s stall), so retryTimeout is 0 and the agent callback, which
//   node-fetch calls once per request before sending, aborts the call when pdjs starts a
//   second request: that only happens after a 429, so the abort is reported as one and no
//   extra request is sent.
// - requestTimeout never aborts anything and its timer outlives errors: it is 0, and an
//   AbortSignal.timeout(ms) bounds the call instead.
// - A body that is not JSON (a proxy's HTML 502) makes pdjs reject without a status: retried.
import { createHash } from "node:crypto";
import type { Agent } from "node:https";
import { event } from "@pagerduty/pdjs";
import { sql } from "drizzle-orm";
import type { Executor, Store } from "../db/client.ts";
import type { Severity } from "../db/schema.ts";
import type { Handler, HandlerContext, HandlerResult } from "../outbox/worker.ts";

export type EventAction = "trigger" | "acknowledge" | "resolve";

export interface EventLink {
  href: string;
  text?: string;
}

/** The Events API v2 request body (POST /v2/enqueue), exactly as sent. */
export interface EventsV2Body {
  routing_key: string;
  event_action: EventAction;
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: Severity;
    timestamp?: string;
    component?: string;
    group?: string;
    class?: string;
    custom_details?: Record<string, unknown>;
  };
  links?: EventLink[];
  images?: { src: string; href?: string; alt?: string }[];
  client?: string;
  client_url?: string;
}

/** The incident fields an event is built from (a row of `incidents`). */
export interface PageableIncident {
  key: string;
  kind: string;
  subject: string;
  summary: string;
  severity: Severity;
  groupName: string | null;
  details: unknown;
  /** The incident's own routing key (per group/job); null → the default one. */
  routingKey: string | null;
}

export interface BuildOptions {
  /** Used when the incident has no routing key of its own (PAGERDUTY_ROUTING_KEY). */
  routingKey?: string;
  /** When the breach was detected (payload.timestamp). */
  timestamp?: Date;
  /** A link shown on the alert, e.g. the Slack message or a Houston page. */
  link?: EventLink;
  /** Where the sending monitor lives (client_url), e.g. Houston's public URL. */
  clientUrl?: string;
}

export const SUMMARY_MAX = 1024;
export const DEDUP_KEY_MAX = 255;
export const SOURCE = "houston";
export const CLIENT = "Houston";
export const DEFAULT_SERVER = "events.pagerduty.com";

const SEVERITIES: readonly Severity[] = ["critical", "error", "warning", "info"];
/** Keys longer than this (UTF-8 bytes) keep this many bytes and gain "#" + 40 hex digits. */
const DEDUP_PREFIX_BYTES = DEDUP_KEY_MAX - 41;
const HASHED_KEY = /#[0-9a-f]{40}$/;
/** The event itself is wrong: sending it again cannot help. */
const PERMANENT = new Set([400, 413, 422]);

/**
 * The dedup_key for an incident key: the key itself when it fits in 255 bytes (PagerDuty's
 * limit), else a readable prefix plus a SHA-256 of the whole key, so two long keys with the
 * same beginning stay distinct. The same incident always gets the same dedup_key, which is
 * what ties its trigger, acknowledge and resolve together.
 */
export function dedupKeyFor(incidentKey: string): string {
  if (Buffer.byteLength(incidentKey, "utf8") <= DEDUP_KEY_MAX && !HASHED_KEY.test(incidentKey)) {
    return incidentKey;
  }
  const hash = createHash("sha256").update(incidentKey, "utf8").digest("hex").slice(0, 40);
  return `${truncateBytes(incidentKey, DEDUP_PREFIX_BYTES)}#${hash}`;
}

/**
 * The Houston incident key a PagerDuty dedup_key (a webhook's incident_key) stands for: the
 * same string, unless dedupKeyFor() hashed it; then the incident whose key hashes to it.
 */
export async function incidentKeyForDedupKey(store: Store, dedupKey: string, ex?: Executor): Promise<string> {
  if (!HASHED_KEY.test(dedupKey)) return dedupKey;
  const prefix = dedupKey.slice(0, dedupKey.length - 41);
  const rows = await store.query<{ key: string }>(
    sql`SELECT key FROM incidents WHERE left(key, ${prefix.length}) = ${prefix} AND octet_length(key) > ${DEDUP_PREFIX_BYTES}`,
    ex,
  );
  return rows.find((r) => dedupKeyFor(r.key) === dedupKey)?.key ?? dedupKey;
}

/** Cut to at most max UTF-16 units (and so at most max characters), ending in "…" when cut. */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = max - 1;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // do not split a surrogate pair
  return `${s.slice(0, cut)}…`;
}

function truncateBytes(s: string, maxBytes: number): string {
  let out = "";
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, "utf8");
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function routingKeyOf(incident: PageableIncident, opts: BuildOptions): string {
  const key = incident.routingKey || opts.routingKey;
  if (!key) {
    throw new Error(
      `incident ${incident.key} has no PagerDuty routing key: set PAGERDUTY_ROUTING_KEY or give its group one`,
    );
  }
  return key;
}

/** A trigger: opens the alert, or updates it while it is open (same dedup_key). */
export function buildTriggerEvent(incident: PageableIncident, opts: BuildOptions = {}): EventsV2Body {
  const details =
    incident.details && typeof incident.details === "object" && !Array.isArray(incident.details)
      ? (incident.details as Record<string, unknown>)
      : incident.details === null || incident.details === undefined
        ? {}
        : { details: incident.details };
  const severity = SEVERITIES.includes(incident.severity) ? incident.severity : "error";
  const body: EventsV2Body = {
    routing_key: routingKeyOf(incident, opts),
    event_action: "trigger",
    dedup_key: dedupKeyFor(incident.key),
    payload: {
      summary: truncateText(incident.summary.trim() || `${incident.kind}: ${incident.subject}`, SUMMARY_MAX),
      source: SOURCE,
      severity,
      ...(opts.timestamp ? { timestamp: opts.timestamp.toISOString() } : {}),
      component: incident.subject,
      ...(incident.groupName ? { group: incident.groupName } : {}),
      class: incident.kind,
      custom_details: details,
    },
    client: CLIENT,
    ...(opts.clientUrl ? { client_url: opts.clientUrl } : {}),
    ...(opts.link ? { links: [opts.link] } : {}),
  };
  return body;
}

/** Acknowledge: stops escalation; PagerDuty needs only the routing and dedup keys. */
export function buildAckEvent(incident: PageableIncident, opts: BuildOptions = {}): EventsV2Body {
  return {
    routing_key: routingKeyOf(incident, opts),
    event_action: "acknowledge",
    dedup_key: dedupKeyFor(incident.key),
  };
}

/** Resolve: closes the alert (and its incident when it is the only alert). */
export function buildResolveEvent(incident: PageableIncident, opts: BuildOptions = {}): EventsV2Body {
  return {
    routing_key: routingKeyOf(incident, opts),
    event_action: "resolve",
    dedup_key: dedupKeyFor(incident.key),
  };
}

/**
 * What PagerDuty would refuse with a 400, checked before spending a request: the shape, and
 * the two limits its schema does not say (summary ≤ 1,024 characters, dedup_key ≤ 255).
 * null when the body is fine.
 */
export function checkEventBody(body: unknown): string | null {
  if (!body || typeof body !== "object") return "the event is not a JSON object";
  const b = body as Partial<EventsV2Body>;
  if (typeof b.routing_key !== "string" || b.routing_key === "") return "routing_key is missing";
  if (b.event_action !== "trigger" && b.event_action !== "acknowledge" && b.event_action !== "resolve") {
    return `event_action must be trigger, acknowledge or resolve (got ${JSON.stringify(b.event_action)})`;
  }
  if (b.dedup_key !== undefined) {
    if (typeof b.dedup_key !== "string") return "dedup_key must be a string";
    if (b.dedup_key.length > DEDUP_KEY_MAX) return `dedup_key is longer than ${DEDUP_KEY_MAX} characters`;
  } else if (b.event_action !== "trigger") return `dedup_key is required to ${b.event_action}`;
  if (b.event_action === "trigger") {
    const p = b.payload;
    if (!p || typeof p !== "object") return "a trigger needs a payload";
    if (typeof p.summary !== "string" || p.summary === "") return "payload.summary is missing";
    if (p.summary.length > SUMMARY_MAX) return `payload.summary is longer than ${SUMMARY_MAX} characters`;
    if (typeof p.source !== "string" || p.source === "") return "payload.source is missing";
    if (!SEVERITIES.includes(p.severity as Severity)) {
      return `payload.severity must be critical, error, warning or info (got ${JSON.stringify(p.severity)})`;
    }
  }
  return null;
}

export interface PagerDutySenderOptions {
  /** host[:port] of the Events API (PAGERDUTY_EVENTS_SERVER); https is implied. */
  server?: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** For TLS trust beyond the system CAs (a test CA): new https.Agent({ ca }). */
  agent?: Agent;
}

interface PdResponse {
  status: number;
  data?: { status?: string; message?: string; dedup_key?: string; errors?: unknown };
  headers?: { get(name: string): string | null };
}

/** Sends one Events API v2 body and classifies the answer for the outbox. */
export async function sendEvent(
  body: EventsV2Body,
  opts: PagerDutySenderOptions = {},
  signal?: AbortSignal,
): Promise<HandlerResult> {
  const problem = checkEventBody(body);
  if (problem) return { ok: false, retry: false, error: `not sent: PagerDuty would refuse it: ${problem}` };
  const server = opts.server || DEFAULT_SERVER;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const secondRequest = new AbortController();
  let requests = 0;
  const signals = [AbortSignal.timeout(timeoutMs), secondRequest.signal];
  if (signal) signals.push(signal);
  const params = {
    data: body,
    server,
    requestTimeout: 0,
    retryTimeout: 0,
    redirect: "error",
    signal: AbortSignal.any(signals),
    // node-fetch calls this once per request, before sending: the second call is pdjs's own
    // retry of a 429, which we stop (see the top of this file).
    agent: () => {
      requests++;
      if (requests > 1) secondRequest.abort();
      return opts.agent;
    },
  } as unknown as Parameters<typeof event>[0];
  let r: PdResponse;
  try {
    r = (await event(params)) as unknown as PdResponse;
  } catch (err) {
    if (secondRequest.signal.aborted) return rateLimited(undefined, undefined);
    if (signal?.aborted)
      return { ok: false, retry: true, error: "delivery aborted (worker stopping or lease ending)" };
    const name = (err as Error).name;
    if (name === "AbortError" || name === "TimeoutError") {
      return { ok: false, retry: true, error: `no answer from PagerDuty (${server}) within ${timeoutMs} ms` };
    }
    return {
      ok: false,
      retry: true,
      error: `could not reach PagerDuty (${server}): ${(err as Error).message}`,
    };
  }
  const message = describe(r.data);
  if (r.status >= 200 && r.status < 300) {
    return {
      ok: true,
      result: {
        status: r.status,
        message: r.data?.message ?? null,
        dedup_key: r.data?.dedup_key ?? body.dedup_key,
      },
    };
  }
  if (r.status === 429) return rateLimited(message, r.headers?.get("retry-after") ?? undefined);
  if (PERMANENT.has(r.status)) {
    return { ok: false, retry: false, error: `PagerDuty rejected the event (${r.status}): ${message}` };
  }
  // 5xx, and statuses the Events API does not send (401, 403, 404: a proxy or a wrong
  // PAGERDUTY_EVENTS_SERVER): retried until the outbox gives up, so fixing the setting
  // still delivers the pages.
  return { ok: false, retry: true, error: `PagerDuty answered ${r.status}: ${message}` };
}

function rateLimited(message: string | undefined, retryAfter: string | undefined): HandlerResult {
  const seconds =
    retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : undefined;
  return {
    ok: false,
    retry: true,
    rateLimited: true,
    error: `PagerDuty answered 429 (too many events for this routing key)${message ? `: ${message}` : ""}`,
    ...(seconds !== undefined ? { retryAfterMs: seconds * 1000 } : {}),
  };
}

function describe(data: PdResponse["data"]): string {
  if (!data || typeof data !== "object") return "(no message)";
  const parts = [data.message, data.status].filter((x): x is string => typeof x === "string" && x !== "");
  const errors = Array.isArray(data.errors) ? data.errors.filter((e) => typeof e === "string") : [];
  const text = [...new Set(parts)].join(" – ") || "(no message)";
  return errors.length ? `${text} (${errors.join("; ")})` : text;
}

/** The outbox handler for target "pagerduty": the payload is the Events API v2 body. */
export function createPagerDutyHandler(opts: PagerDutySenderOptions = {}): Handler {
  return (payload: unknown, ctx: HandlerContext) => sendEvent(payload as EventsV2Body, opts, ctx.signal);
}
