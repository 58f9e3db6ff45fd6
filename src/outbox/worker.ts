// The outbox delivery worker: takes rows written by enqueue() and hands them to a target's
// handler (PagerDuty Events API, Slack), with retries, per-key ordering and rate limits.
//
// Guarantees
// - Nothing is lost. A row is claimed with a lease (next_attempt_at = now + lease, attempts+1)
//   in its own committed statement, and only then delivered: no transaction stays open during
//   the HTTP call. If the process dies mid-delivery, the lease expires and another worker (or
//   this one after a restart) delivers the row again.
// - At least once, not exactly once, on the network: a crash after the target accepted a
//   message but before the row was marked delivered re-sends it. That is harmless for
//   PagerDuty, which de-duplicates on dedup_key (a second trigger updates the same alert;
//   a second acknowledge or resolve is a no-op). Slack handlers must be idempotent in the
//   same way (update by ts rather than post twice where it matters).
// - Never twice at once: claims use FOR UPDATE SKIP LOCKED, so replicas racing for work get
//   different rows, and `attempts` doubles as a fencing token: a worker whose lease ran out
//   (and whose row was re-claimed by another) cannot overwrite the newer outcome.
// - In order per (target, ordering key): only the lowest pending id of a key is eligible, so
//   event 2 of a key is never delivered before event 1 is delivered or has failed for good.
//   A delivery is aborted before its lease ends, so a slow request can't overlap the next
//   claim of the same row. Keys are ordered within a target: a PagerDuty outage does not hold
//   up Slack messages about the same incident. Enqueuers writing one key from concurrent
//   transactions must serialise (they do: they update the same incident row).
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import { json, ts } from "../db/sql.ts";
import type { DeliveryOutcome, Metrics } from "../metrics.ts";
import {
  type BackoffOptions,
  backoffMs,
  DEFAULT_BACKOFF,
  type RateLimitRule,
  TokenBuckets,
} from "./backoff.ts";
import type { OutboxTarget } from "./enqueue.ts";

export interface HandlerContext {
  /** outbox.id */
  id: number;
  target: OutboxTarget;
  orderingKey: string;
  /** 1 for the first try. */
  attempt: number;
  /** Aborted when the lease is about to end or the worker is stopping: stop and return a retry. */
  signal: AbortSignal;
  log: Logger;
}

export type HandlerResult =
  | { ok: true; result?: unknown }
  | {
      ok: false;
      /** false: the target refused the message for good (record it as failed, never retry). */
      retry: boolean;
      error: string;
      /** The target asked for at least this long before the next try. */
      retryAfterMs?: number;
      /** The target said "too many requests": slow down everything sharing this rate key. */
      rateLimited?: boolean;
    };

export type Handler = (payload: unknown, ctx: HandlerContext) => Promise<HandlerResult>;

export interface TargetRateLimit extends RateLimitRule {
  /** The key a payload is limited by (PagerDuty: its routing_key); undefined → not limited. */
  key(payload: unknown): string | undefined;
}

/** PagerDuty's Events API: about 120 events a minute per routing key. */
export const PAGERDUTY_RATE_LIMIT: TargetRateLimit = {
  perMinute: 120,
  burst: 30,
  key: (payload) => {
    const k = (payload as { routing_key?: unknown } | null)?.routing_key;
    return typeof k === "string" ? k : undefined;
  },
};

export interface OutboxWorkerOptions {
  store: Store;
  handlers: Partial<Record<OutboxTarget, Handler>>;
  log: Logger;
  /** Injected clock (tests); defaults to the wall clock. */
  now?: () => Date;
  /** Names this process in logs (hostname, pod name). */
  replicaId: string;
  /** How long a claim is held before another worker may take the row over. Default 60 s. */
  leaseMs?: number;
  /** Retry delays. Default 5 s doubling to 10 minutes, with jitter. */
  backoff?: BackoffOptions;
  /** A message still failing this long after it was enqueued is given up on (failed). Default 24 h. */
  giveUpAfterMs?: number;
  /** Deliveries in flight at once (each to a different ordering key). Default 8. */
  concurrency?: number;
  /** Rate limits per target; pass null to turn the default PagerDuty limit off. */
  rateLimits?: Partial<Record<OutboxTarget, TargetRateLimit | null>>;
  /** Rows claimed per drain by start(). Default 50. */
  batchSize?: number;
  /** For jitter (tests pass a fixed value). */
  random?: () => number;
  /** Call latency and errors per target (GET /metrics). */
  metrics?: Metrics;
}

export interface DrainReport {
  claimed: number;
  delivered: number;
  /** Will be tried again (transient failure). */
  retried: number;
  /** Given up on for good (permanent failure, or retries exhausted). */
  failed: number;
  /** Put back untried because a rate limit was reached. */
  deferred: number;
  /** Outcomes that could not be recorded (lease lost or database error): the row will be retried. */
  unrecorded: number;
}

interface Claimed {
  id: number;
  target: OutboxTarget;
  ordering_key: string;
  payload: unknown;
  attempts: number;
  created_at: string | Date;
}

/** Cut so a long remote error does not bloat the table or the logs. */
const MAX_ERROR_CHARS = 2_000;
/** A delivery is aborted this long before its lease ends. */
const LEASE_MARGIN_MS = 5_000;

export class OutboxWorker {
  private readonly store: Store;
  private readonly handlers: Partial<Record<OutboxTarget, Handler>>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private readonly backoff: BackoffOptions;
  private readonly giveUpAfterMs: number;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly random: () => number;
  private readonly metrics: Metrics | undefined;
  private readonly limits = new Map<OutboxTarget, { rule: TargetRateLimit; buckets: TokenBuckets }>();
  private readonly inflight = new Set<Promise<unknown>>();
  private abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** stop() was called: claimed rows not yet started are released, not delivered. */
  private stopping = false;
  /** wake() arrived while a drain was running: drain again straight after. */
  private woken = false;
  /** Drains in a row that failed (database unreachable). */
  private failures = 0;
  private intervalMs = 1_000;

  constructor(opts: OutboxWorkerOptions) {
    this.store = opts.store;
    this.handlers = opts.handlers;
    this.log = opts.log.child({ component: "outbox", replica: opts.replicaId });
    this.now = opts.now ?? (() => new Date());
    this.leaseMs = opts.leaseMs ?? 60_000;
    if (this.leaseMs < 2 * LEASE_MARGIN_MS)
      throw new Error(`leaseMs must be at least ${2 * LEASE_MARGIN_MS}`);
    this.backoff = opts.backoff ?? {};
    this.giveUpAfterMs = opts.giveUpAfterMs ?? 24 * 3_600_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.batchSize = Math.max(1, opts.batchSize ?? 50);
    this.random = opts.random ?? Math.random;
    this.metrics = opts.metrics;
    const rules: Partial<Record<OutboxTarget, TargetRateLimit | null>> = {
      pagerduty: PAGERDUTY_RATE_LIMIT,
      ...opts.rateLimits,
    };
    for (const [target, rule] of Object.entries(rules) as [OutboxTarget, TargetRateLimit | null][]) {
      if (rule) this.limits.set(target, { rule, buckets: new TokenBuckets(rule) });
    }
  }

  /**
   * One pass: claim up to `limit` eligible rows (one per ordering key), deliver them, record
   * each outcome. Safe to call from several workers and replicas at once.
   */
  async drainOnce(limit = this.batchSize): Promise<DrainReport> {
    const run = this.drain(limit);
    this.inflight.add(run);
    try {
      return await run;
    } finally {
      this.inflight.delete(run);
    }
  }

  /** Drain every intervalMs (at once again while batches come back full) until stop(). */
  start(intervalMs = 1_000): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.intervalMs = intervalMs;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.schedule(0);
  }

  /** Something was just enqueued: drain now instead of at the next tick. */
  wake(): void {
    if (!this.running) return;
    if (this.timer) this.schedule(0);
    else this.woken = true;
  }

  /**
   * Stops the loop and waits up to graceMs for deliveries in flight to finish and be recorded.
   * Past that, in-flight handlers are told to abort (their rows are retried later); rows whose
   * outcome is still unrecorded are re-delivered when their lease expires, never lost.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!(await this.settle(graceMs))) {
      this.log.warn({ graceMs }, "outbox: deliveries still running at shutdown; aborting them");
      this.abort.abort(new Error("the outbox worker is stopping"));
      await this.settle(2_000);
    }
  }

  /** Counts for /houston status. */
  status(): Promise<OutboxStatus> {
    return outboxStatus(this.store, this.now());
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let next = this.intervalMs;
    this.woken = false;
    try {
      const r = await this.drainOnce(this.batchSize);
      this.failures = 0;
      if (r.claimed === this.batchSize || this.woken) next = 0;
    } catch (err) {
      // Database down: say so, and back off (up to a minute) rather than log every tick.
      this.failures++;
      next = Math.min(60_000, this.intervalMs * 2 ** Math.min(this.failures, 16));
      this.log.error({ err, retryInMs: next }, "outbox: drain failed; will try again");
    }
    if (this.running && !this.timer) this.schedule(next);
  }

  /** True when everything in flight finished within ms. */
  private async settle(ms: number): Promise<boolean> {
    if (this.inflight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([Promise.allSettled([...this.inflight]).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async drain(limit: number): Promise<DrainReport> {
    const report: DrainReport = {
      claimed: 0,
      delivered: 0,
      retried: 0,
      failed: 0,
      deferred: 0,
      unrecorded: 0,
    };
    const queue = await this.claim(limit);
    report.claimed = queue.length;
    if (queue.length === 0) return report;
    const workers = Array.from({ length: Math.min(this.concurrency, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        // Checked just before sending (synchronously, so parallel lanes cannot overspend),
        // so a 429 seen by one lane pauses the rest of the batch for that key.
        // Stopping: rows claimed but not started go back at once (their claim released, the
        // attempt not counted) instead of waiting out their lease or delaying the shutdown.
        if (this.stopping) {
          report[await this.defer(row, 0)]++;
          continue;
        }
        const wait = this.rateWait(row);
        const outcome = wait > 0 ? await this.defer(row, wait) : await this.deliver(row);
        report[outcome]++;
      }
    });
    await Promise.all(workers);
    return report;
  }

  private async claim(limit: number): Promise<Claimed[]> {
    const targets = Object.keys(this.handlers).filter((t) => this.handlers[t as OutboxTarget]);
    if (targets.length === 0 || limit < 1) return [];
    const now = this.now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    // One statement, committed on its own: the lease is durable before any delivery starts.
    // Eligible: pending, due, a target we handle, and no lower pending id with the same key.
    const rows = await this.store.query<Claimed>(
      sql`UPDATE outbox o
          SET next_attempt_at = ${ts(leaseUntil)}, attempts = o.attempts + 1
          FROM (
            SELECT c.id FROM outbox c
            WHERE c.state = 'pending'
              AND c.next_attempt_at <= ${ts(now)}
              AND c.target IN (SELECT jsonb_array_elements_text(${json(targets)}))
              AND NOT EXISTS (
                SELECT 1 FROM outbox p
                WHERE p.ordering_key = c.ordering_key AND p.target = c.target
                  AND p.state = 'pending' AND p.id < c.id)
            ORDER BY c.next_attempt_at, c.id
            LIMIT ${limit}
            FOR UPDATE OF c SKIP LOCKED
          ) picked
          WHERE o.id = picked.id
          RETURNING o.id::int AS id, o.target, o.ordering_key, o.payload, o.attempts, o.created_at`,
    );
    return rows.sort((a, b) => a.id - b.id);
  }

  private rateWait(row: Claimed): number {
    const limit = this.limits.get(row.target);
    const key = limit?.rule.key(row.payload);
    if (!limit || key === undefined) return 0;
    return limit.buckets.take(key, this.now().getTime());
  }

  /** Puts a claimed row back untried, due in waitMs; the claim's attempt is not counted. */
  private async defer(row: Claimed, waitMs: number): Promise<"deferred" | "unrecorded"> {
    const due = new Date(this.now().getTime() + waitMs);
    try {
      const done = await this.store.query<{ id: number }>(
        sql`UPDATE outbox SET next_attempt_at = ${ts(due)}, attempts = attempts - 1
            WHERE id = ${row.id} AND state = 'pending' AND attempts = ${row.attempts}
            RETURNING id::int AS id`,
      );
      return done.length === 1 ? "deferred" : "unrecorded";
    } catch (err) {
      this.log.error(
        { err, id: row.id },
        "outbox: could not defer a rate-limited message; it will be retried",
      );
      return "unrecorded";
    }
  }

  private async deliver(row: Claimed): Promise<"delivered" | "retried" | "failed" | "unrecorded"> {
    // The ordering key (an incident key) ties this line to the incident's and the monitor's.
    const log = this.log.child({
      outboxId: row.id,
      target: row.target,
      attempt: row.attempts,
      orderingKey: row.ordering_key,
    });
    const handler = this.handlers[row.target];
    let result: HandlerResult;
    let callMs: number | undefined;
    if (!handler) {
      result = { ok: false, retry: true, error: `no handler for target ${row.target}` };
    } else {
      // Abort before the lease runs out (in real time: a hung socket is a wall-clock matter).
      const signal = AbortSignal.any([
        this.abort.signal,
        AbortSignal.timeout(this.leaseMs - LEASE_MARGIN_MS),
      ]);
      const started = performance.now();
      let outcome: DeliveryOutcome = "threw";
      try {
        result = await handler(row.payload, {
          id: row.id,
          target: row.target,
          orderingKey: row.ordering_key,
          attempt: row.attempts,
          signal,
          log,
        });
        outcome = result.ok ? "delivered" : result.retry ? "retry" : "failed";
      } catch (err) {
        // A handler should return its failures; a throw is a bug or an unforeseen error.
        log.error({ err }, "outbox: handler threw; treating it as a transient failure");
        result = { ok: false, retry: true, error: `handler threw: ${(err as Error).message ?? String(err)}` };
      }
      const seconds = (performance.now() - started) / 1000;
      callMs = Math.round(seconds * 10_000) / 10;
      this.metrics?.deliverySeconds.observe({ target: row.target, outcome }, seconds);
      if (outcome !== "delivered") this.metrics?.deliveryErrors.inc({ target: row.target, outcome });
    }
    try {
      return await this.record(row, result, callMs === undefined ? log : log.child({ ms: callMs }));
    } catch (err) {
      log.error({ err }, "outbox: could not record a delivery outcome; the message will be retried");
      return "unrecorded";
    }
  }

  private async record(
    row: Claimed,
    result: HandlerResult,
    log: Logger,
  ): Promise<"delivered" | "retried" | "failed" | "unrecorded"> {
    const now = this.now();
    // Every update is fenced on the claim's attempt number: if our lease ran out and another
    // worker re-claimed the row, its outcome stands and ours is dropped.
    const fence = sql`id = ${row.id} AND state = 'pending' AND attempts = ${row.attempts}`;
    const lost = () => {
      log.warn("outbox: lease lost before the outcome was recorded (another worker took the message over)");
      return "unrecorded" as const;
    };
    if (result.ok) {
      const value = result.result === undefined ? sql`NULL` : json(result.result);
      const done = await this.store.query(
        sql`UPDATE outbox SET state = 'delivered', delivered_at = ${ts(now)}, result = ${value}, last_error = NULL
            WHERE ${fence} RETURNING id`,
      );
      if (done.length === 0) return lost();
      log.info(`outbox: ${row.target} message delivered`);
      return "delivered";
    }
    const error = result.error.slice(0, MAX_ERROR_CHARS);
    const age = now.getTime() - new Date(row.created_at).getTime();
    if (!result.retry || age >= this.giveUpAfterMs) {
      const reason = result.retry
        ? `gave up after ${row.attempts} attempts over ${Math.round(age / 60_000)} min: ${error}`
        : error;
      // The schema has no failed_at: next_attempt_at, meaningless once a row is final, holds
      // the time it failed (outboxStatus counts recent failures by it).
      const done = await this.store.query(
        sql`UPDATE outbox SET state = 'failed', last_error = ${reason.slice(0, MAX_ERROR_CHARS)},
              next_attempt_at = ${ts(now)}
            WHERE ${fence} RETURNING id`,
      );
      if (done.length === 0) return lost();
      log.error(
        { error: reason },
        `outbox: ${row.target} message failed permanently and will not be retried`,
      );
      return "failed";
    }
    const delay = Math.max(backoffMs(row.attempts, this.backoff, this.random), result.retryAfterMs ?? 0);
    const due = new Date(now.getTime() + delay);
    if (result.rateLimited) {
      // The whole key pauses for what the target asked (else one base step); this message
      // also waits out its own, possibly longer, backoff.
      const limit = this.limits.get(row.target);
      const key = limit?.rule.key(row.payload);
      const pause = result.retryAfterMs ?? this.backoff.baseMs ?? DEFAULT_BACKOFF.baseMs;
      if (limit && key !== undefined) limit.buckets.block(key, now.getTime(), now.getTime() + pause);
    }
    const done = await this.store.query(
      sql`UPDATE outbox SET next_attempt_at = ${ts(due)}, last_error = ${error}
          WHERE ${fence} RETURNING id`,
    );
    if (done.length === 0) return lost();
    log.warn({ error, retryInMs: delay }, "outbox: delivery failed; will retry");
    return "retried";
  }
}

export interface OutboxStatus {
  /** Messages not yet delivered (waiting, retrying or in flight). */
  pending: number;
  /** Enqueue time of the oldest of them. */
  oldestPendingAt: Date | null;
  oldestPendingAgeMs: number | null;
  /** Messages given up on in the 24 hours before now. */
  failedLast24h: number;
  /** The most recent of those, for a status line. */
  lastFailure: { id: number; target: string; error: string | null; at: Date } | null;
}

export async function outboxStatus(store: Store, now: Date): Promise<OutboxStatus> {
  const since = new Date(now.getTime() - 24 * 3_600_000);
  const [counts] = await store.query<{ pending: number; oldest: string | Date | null; failed: number }>(
    sql`SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
               min(created_at) FILTER (WHERE state = 'pending') AS oldest,
               count(*) FILTER (WHERE state = 'failed')::int AS failed
        FROM outbox
        WHERE state = 'pending' OR (state = 'failed' AND next_attempt_at > ${ts(since)})`,
  );
  const [last] = await store.query<{
    id: number;
    target: string;
    last_error: string | null;
    at: string | Date;
  }>(
    sql`SELECT id::int AS id, target, last_error, next_attempt_at AS at FROM outbox
        WHERE state = 'failed' AND next_attempt_at > ${ts(since)}
        ORDER BY next_attempt_at DESC LIMIT 1`,
  );
  const oldest = counts?.oldest ? new Date(counts.oldest) : null;
  return {
    pending: counts?.pending ?? 0,
    oldestPendingAt: oldest,
    oldestPendingAgeMs: oldest ? Math.max(0, now.getTime() - oldest.getTime()) : null,
    failedLast24h: counts?.failed ?? 0,
    lastFailure: last
      ? { id: last.id, target: last.target, error: last.last_error, at: new Date(last.at) }
      : null,
  };
}
