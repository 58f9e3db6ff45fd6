// The asker's time zone, from their Slack profile (users.info → tz), so "yesterday" and
// every time shown mean what they mean to that person. Cached per user for an hour (a
// failure for a minute, so a missing scope or an outage costs one call a minute, not one a
// question). A lookup never holds an answer up for long: past the deadline the answer uses
// HOUSTON_TIMEZONE and the lookup finishes in the background, filling the cache.
import type { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import { isValidTimeZone } from "../config.ts";
import { describeSlackError } from "./errors.ts";

export interface UserTimezone {
  timezone: string;
  /** "slack": the user's profile; "fallback": HOUSTON_TIMEZONE (lookup failed, slow, or no tz set). */
  source: "slack" | "fallback";
}

export interface UserTimezonesOptions {
  /** HOUSTON_TIMEZONE. */
  fallback: string;
  log: Logger;
  ttlMs?: number;
  failureTtlMs?: number;
  /** How long an answer waits for users.info before using the fallback. */
  timeoutMs?: number;
  /** Bound on cached users (oldest dropped first). */
  maxEntries?: number;
  clock?: () => number;
}

interface Entry extends UserTimezone {
  until: number;
}

export class UserTimezones {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<UserTimezone>>();
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly timeoutMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(private readonly opts: UserTimezonesOptions) {
    this.ttlMs = opts.ttlMs ?? 3_600_000;
    this.failureTtlMs = opts.failureTtlMs ?? 60_000;
    this.timeoutMs = opts.timeoutMs ?? 2_500;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.clock = opts.clock ?? Date.now;
  }

  async get(client: webApi.WebClient, userId: string): Promise<UserTimezone> {
    const hit = this.cache.get(userId);
    if (hit && hit.until > this.clock()) return { timezone: hit.timezone, source: hit.source };
    let lookup = this.pending.get(userId);
    if (!lookup) {
      lookup = this.lookup(client, userId).finally(() => this.pending.delete(userId));
      this.pending.set(userId, lookup);
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<UserTimezone>((resolve) => {
      timer = setTimeout(() => {
        this.opts.log.warn(
          { userId, timeoutMs: this.timeoutMs },
          `users.info is slow: answering in ${this.opts.fallback} (HOUSTON_TIMEZONE) this time`,
        );
        resolve(this.fallback());
      }, this.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([lookup, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private fallback(): UserTimezone {
    return { timezone: this.opts.fallback, source: "fallback" };
  }

  /** Never rejects: a failure is logged, cached briefly and answered with the fallback. */
  private async lookup(client: webApi.WebClient, userId: string): Promise<UserTimezone> {
    try {
      const res = await client.users.info({ user: userId });
      const tz = res.user?.tz;
      if (tz && isValidTimeZone(tz))
        return this.remember(userId, { timezone: tz, source: "slack" }, this.ttlMs);
      if (tz)
        this.opts.log.warn({ userId, tz }, "users.info returned an unknown time zone; using the fallback");
      // No tz on the profile (bots, some guests): the fallback is the answer for the hour.
      return this.remember(userId, this.fallback(), this.ttlMs);
    } catch (err) {
      const { code, hint } = describeSlackError(err);
      this.opts.log.warn(
        { userId, code, ...(hint ? { hint } : {}) },
        `users.info failed (${code}): answering in ${this.opts.fallback} (HOUSTON_TIMEZONE)`,
      );
      return this.remember(userId, this.fallback(), this.failureTtlMs);
    }
  }

  private remember(userId: string, tz: UserTimezone, ttlMs: number): UserTimezone {
    this.cache.delete(userId);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(userId, { ...tz, until: this.clock() + ttlMs });
    return tz;
  }
}
