// Retry timing for the outbox: exponential backoff with jitter, and a per-key token bucket
// that defers deliveries (never drops them) when a target's rate limit would be exceeded.
// Both take time and randomness as arguments so tests drive them with a fake clock.

export interface BackoffOptions {
  /** Delay before the second attempt (the first retry). Default 5 s. */
  baseMs?: number;
  /** No delay is longer than this. Default 10 minutes. */
  capMs?: number;
}

export const DEFAULT_BACKOFF = { baseMs: 5_000, capMs: 600_000 } as const;

/**
 * The wait before retrying after `attempt` failed attempts (1 = the first try failed):
 * base·2^(attempt-1), capped, with "equal jitter": half fixed, half random, so replicas that
 * failed together do not retry together, and the wait never falls below half the step.
 */
export function backoffMs(
  attempt: number,
  opts: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const cap = opts.capMs ?? DEFAULT_BACKOFF.capMs;
  const step = Math.min(cap, base * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(step / 2 + random() * (step / 2));
}

export interface RateLimitRule {
  /** Sustained rate. PagerDuty's Events API allows about 120 events a minute per routing key. */
  perMinute: number;
  /** How many may go at once after a quiet spell. Default: a quarter of perMinute (at least 1). */
  burst?: number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms since epoch). */
  at: number;
  /** No tokens before this (the target said "slow down"). */
  blockedUntil: number;
}

/**
 * Token buckets, one per key (a routing key), in this process. take() either spends a token
 * and answers 0, or answers how many ms until one will be available: the caller defers the
 * delivery by that much. Each replica has its own buckets, so N replicas may together send up
 * to N× the rate; the target's 429 answers (block()) cover the rest.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private readonly burst: number;

  constructor(rule: RateLimitRule) {
    if (!(rule.perMinute > 0)) throw new Error("a rate limit needs perMinute > 0");
    this.ratePerMs = rule.perMinute / 60_000;
    this.burst = Math.max(1, rule.burst ?? Math.floor(rule.perMinute / 4));
  }

  /** 0 when a token was spent; otherwise the ms to wait before trying again. */
  take(key: string, nowMs: number): number {
    const b = this.refill(key, nowMs);
    if (nowMs < b.blockedUntil) return b.blockedUntil - nowMs;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerMs));
  }

  /** The target answered "too many requests": no tokens for this key until `untilMs`. */
  block(key: string, nowMs: number, untilMs: number): void {
    const b = this.refill(key, nowMs);
    b.tokens = 0;
    b.at = Math.max(nowMs, untilMs);
    b.blockedUntil = Math.max(b.blockedUntil, untilMs);
  }

  private refill(key: string, nowMs: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: nowMs, blockedUntil: 0 };
      this.buckets.set(key, b);
      return b;
    }
    if (nowMs > b.at) {
      b.tokens = Math.min(this.burst, b.tokens + (nowMs - b.at) * this.ratePerMs);
      b.at = nowMs;
    }
    // Forget long-idle full buckets so a stream of one-off keys cannot grow the map forever.
    if (this.buckets.size > 10_000) {
      for (const [k, v] of this.buckets) {
        if (k !== key && v.tokens >= this.burst && nowMs >= v.blockedUntil) this.buckets.delete(k);
      }
    }
    return b;
  }
}
