// Prometheus metrics (prom-client), one Registry per app: several apps in one test process
// never share counters, and nothing registers itself in prom-client's global registry.
//
// Two kinds of numbers:
// - Counters and histograms of what this process did (ingest, questions, deliveries,
//   HTTP requests), incremented where it happens.
// - Gauges of shared state (open incidents, the outbox, digest deliveries, rollup lag), read from the
//   database at scrape time with one cheap, index-backed query each, so every replica
//   reports the same fleet-wide figures and nothing has to be kept in sync in memory.
import { timingSafeEqual } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "./db/client.ts";
import { INCIDENT_STATES } from "./db/schema.ts";
import type { HoustonServer } from "./http/server.ts";

export const METRICS_PATH = "/metrics";

/** Seconds; questions are interactive (Slack wants an answer within a few seconds). */
const QUESTION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
/** Seconds; outbound calls are bounded by the outbox lease (60 s by default). */
const CALL_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type DeliveryOutcome = "delivered" | "retry" | "failed" | "threw";

export interface Metrics {
  readonly registry: Registry;
  /** Events applied by an ingest request, by event type and endpoint (events, openlineage). */
  readonly eventsIngested: Counter<"type" | "source">;
  /** Events that were already applied (same id), by endpoint. */
  readonly eventsDuplicate: Counter<"source">;
  /** Refused ingest requests, by reason (unauthorized, invalid, too_large, …) and endpoint. */
  readonly ingestErrors: Counter<"reason" | "source">;
  /** Questions answered, by family, where they came from, and whether the answer arrived. */
  readonly questions: Counter<"family" | "source" | "outcome">;
  readonly questionSeconds: Histogram<"family">;
  /** One outbound call to PagerDuty or Slack made by the outbox, by target and outcome. */
  readonly deliverySeconds: Histogram<"target" | "outcome">;
  /** Calls that did not deliver: retry (transient), failed (permanent), threw (a bug). */
  readonly deliveryErrors: Counter<"target" | "outcome">;
  readonly httpSeconds: Histogram<"method" | "route" | "status">;
  /** Prometheus text exposition of everything above plus the gauges read at scrape time. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  store: Store;
  log: Logger;
  now?: () => Date;
  /** Process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

/**
 * Shares one query among the gauges it feeds during a scrape: prom-client starts every
 * metric's collect() in the same tick, so whoever asks first runs the query and the rest
 * await the same promise; it is forgotten once settled, so the next scrape reads afresh.
 */
function perScrape<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const { store } = opts;
  const now = opts.now ?? (() => new Date());
  const log = opts.log.child({ component: "metrics" });
  const registry = new Registry();
  const registers = [registry];
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const collectErrors = new Counter({
    name: "houston_metrics_collect_errors_total",
    help: "Scrape-time database reads that failed (their gauges are absent from that scrape)",
    labelNames: ["collector"],
    registers,
  });
  /** A failed read leaves its gauges empty for this scrape rather than failing the whole scrape. */
  const guarded = async <T>(collector: string, load: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await load();
    } catch (err) {
      collectErrors.inc({ collector });
      log.warn({ err, collector }, "metrics: a scrape-time read failed");
      return undefined;
    }
  };

  const incidents = perScrape(() =>
    guarded("incidents", () =>
      // The partial index incidents_open_idx holds exactly the unresolved rows.
      store.query<{ state: string; n: number }>(
        sql`SELECT state, count(*)::int AS n FROM incidents WHERE state <> 'resolved' GROUP BY state`,
      ),
    ),
  );
  new Gauge({
    name: "houston_incidents_open",
    help: "Incidents not yet resolved, by state (silenced ones included)",
    labelNames: ["state"],
    registers,
    async collect() {
      const rows = await incidents();
      this.reset();
      if (!rows) return;
      for (const s of INCIDENT_STATES) if (s !== "resolved") this.set({ state: s }, 0);
      for (const r of rows) this.set({ state: r.state }, Number(r.n));
    },
  });

  const outbox = perScrape(() =>
    guarded("outbox", () =>
      // outbox_pending_idx is partial on state = 'pending': its size is the backlog.
      store.query<{ target: string; n: number; oldest_ms: number | string | null }>(
        sql`SELECT target, count(*)::int AS n,
                   (extract(epoch FROM min(created_at)) * 1000)::float8 AS oldest_ms
            FROM outbox WHERE state = 'pending' GROUP BY target`,
      ),
    ),
  );
  new Gauge({
    name: "houston_outbox_pending",
    help: "Outbox messages waiting to be delivered (including retries and in-flight ones), by target",
    labelNames: ["target"],
    registers,
    async collect() {
      const rows = await outbox();
      this.reset();
      for (const r of rows ?? []) this.set({ target: r.target }, Number(r.n));
    },
  });
  new Gauge({
    name: "houston_outbox_oldest_pending_age_seconds",
    help: "Age of the oldest undelivered outbox message, by target (absent when none is pending)",
    labelNames: ["target"],
    registers,
    async collect() {
      const rows = await outbox();
      this.reset();
      const t = now().getTime();
      for (const r of rows ?? []) {
        if (r.oldest_ms === null) continue;
        this.set({ target: r.target }, Math.max(0, (t - Number(r.oldest_ms)) / 1000));
      }
    },
  });

  // The daily rollup follows ingest in background passes: how far it trails. The oldest mark
  // is the lowest id (the primary key), so this is one index probe, not a scan.
  const rollup = perScrape(() =>
    guarded("rollup", async () => {
      const [r] = await store.query<{ oldest_ms: number | string | null }>(
        sql`SELECT (extract(epoch FROM touched_at) * 1000)::float8 AS oldest_ms
            FROM rollup_dirty ORDER BY id LIMIT 1`,
      );
      return r?.oldest_ms ?? null;
    }),
  );
  new Gauge({
    name: "houston_rollup_lag_seconds",
    help: "Age of the oldest run not yet in the daily rollup (0 when the rollup is current)",
    registers,
    async collect() {
      const oldest = await rollup();
      this.reset();
      if (oldest === undefined) return;
      this.set(oldest === null ? 0 : Math.max(0, (now().getTime() - Number(oldest)) / 1000));
    },
  });

  // digest_deliveries arrives with the digests migration; a replica running against a
  // database migrated before it (or a test store) has nothing to count. Asked each scrape
  // (a catalog lookup) until the table is there.
  let digestTable = false;
  const digests = perScrape(() =>
    guarded("digests", async () => {
      if (!digestTable) {
        const [r] = await store.query<{ present: boolean }>(
          sql`SELECT to_regclass('digest_deliveries') IS NOT NULL AS present`,
        );
        digestTable = r?.present === true;
        if (!digestTable) return [];
      }
      return store.query<{ state: string; n: number }>(
        sql`SELECT state, count(*)::int AS n FROM digest_deliveries GROUP BY state`,
      );
    }),
  );
  new Gauge({
    name: "houston_digest_deliveries",
    help: "Digest deliveries recorded in the database, by state (delivered, failed, skipped, …)",
    labelNames: ["state"],
    registers,
    async collect() {
      const rows = await digests();
      this.reset();
      for (const r of rows ?? []) this.set({ state: r.state }, Number(r.n));
    },
  });

  const metrics: Metrics = {
    registry,
    eventsIngested: new Counter({
      name: "houston_ingest_events_total",
      help: "Events in accepted ingest requests (re-sent duplicates included), by event type and endpoint",
      labelNames: ["type", "source"],
      registers,
    }),
    eventsDuplicate: new Counter({
      name: "houston_ingest_duplicate_events_total",
      help: "Ingested events whose id had already been applied (no-ops), by endpoint",
      labelNames: ["source"],
      registers,
    }),
    ingestErrors: new Counter({
      name: "houston_ingest_errors_total",
      help: "Ingest requests refused, by reason and endpoint",
      labelNames: ["reason", "source"],
      registers,
    }),
    questions: new Counter({
      name: "houston_questions_total",
      help: "Questions answered in Slack, by family, source (command, mention, dm) and outcome",
      labelNames: ["family", "source", "outcome"],
      registers,
    }),
    questionSeconds: new Histogram({
      name: "houston_question_duration_seconds",
      help: "Time to answer a question (time zone lookup, query, rendering), by family",
      labelNames: ["family"],
      buckets: QUESTION_BUCKETS,
      registers,
    }),
    deliverySeconds: new Histogram({
      name: "houston_delivery_duration_seconds",
      help: "Outbound calls to PagerDuty and Slack made by the outbox, by target and outcome",
      labelNames: ["target", "outcome"],
      buckets: CALL_BUCKETS,
      registers,
    }),
    deliveryErrors: new Counter({
      name: "houston_delivery_errors_total",
      help: "Outbound calls that did not deliver, by target and outcome (retry, failed, threw)",
      labelNames: ["target", "outcome"],
      registers,
    }),
    httpSeconds: new Histogram({
      name: "houston_http_request_duration_seconds",
      help: "HTTP requests served, by method, route (unmatched for unknown paths) and status",
      labelNames: ["method", "route", "status"],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
  return metrics;
}

/** Ingest request refusals by HTTP status, as a bounded label. */
export function ingestErrorReason(status: number | undefined): string {
  switch (status) {
    case 400:
      return "invalid";
    case 401:
      return "unauthorized";
    case 413:
      return "too_large";
    case 415:
      return "unsupported_encoding";
    case undefined:
      return "internal";
    default:
      return `http_${status}`;
  }
}

/**
 * GET /metrics. With a token, Prometheus must send `Authorization: Bearer <token>`
 * (scrape_config `authorization: { credentials_file: … }`); without one it is open.
 */
export function registerMetricsRoute(server: HoustonServer, metrics: Metrics, token?: string): void {
  const want = token ? Buffer.from(token) : undefined;
  server.route("GET", METRICS_PATH, async ({ req, res }) => {
    if (want) {
      const m = /^Bearer\s+(.+)$/i.exec((req.headers.authorization ?? "").trim());
      const given = Buffer.from(m?.[1]?.trim() ?? "");
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        res.writeHead(401, {
          "content-type": "text/plain; charset=utf-8",
          "www-authenticate": 'Bearer realm="houston metrics"',
        });
        res.end("GET /metrics needs `Authorization: Bearer <HOUSTON_METRICS_TOKEN>`\n");
        return;
      }
    }
    const { contentType, body } = await metrics.scrape();
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
    res.end(body);
  });
}
