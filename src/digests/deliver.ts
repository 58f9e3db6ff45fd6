// Delivers claimed digest slots to Slack: build the digest from the slot's reported date and
// the subscription's time zone (never from now()), post it with chat.postMessage, then
// upload its chart with files.uploadV2 as a reply in the message's thread.
//
// Every step is recorded: a row is taken with a conditional UPDATE (state 'sending',
// started_at, attempts+1, a lease in next_attempt_at) in its own statement before Slack is
// called, so replicas racing for a row never both send it; the message ts is written as
// soon as Slack returns it, so a retry after a failed chart upload does not post the
// message twice; the outcome, duration and file id are written after. A process that dies
// mid-delivery leaves a 'sending' row whose lease expires and is retried.
//
// Slack failures: rate limits and transient errors are retried with backoff (honouring
// Retry-After); channel_not_found / not_in_channel / is_archived mark the delivery
// channel_gone and stop scheduling every subscription of that channel (not retried);
// anything else Slack refuses is recorded as failed.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { webApi } from "@slack/bolt";
import type { KnownBlock } from "@slack/types";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import type { DeliveryState } from "../db/schema.ts";
import { ts } from "../db/sql.ts";
import { type BackoffOptions, backoffMs } from "../outbox/backoff.ts";
import { fitForSlack } from "../slack/blocks.ts";
import { MODULE_EXT } from "../module-ext.ts";
import { describeSlackError, TRANSIENT_SLACK_ERRORS } from "../slack/errors.ts";
import { getSubscription, markChannelGone, type Subscription } from "./subscriptions.ts";
import {
  type AnomalySettings,
  type Digest,
  type DigestRequest,
  REPORT_NAMES,
  type Report,
  type ReportName,
} from "./types.ts";

export const REPORTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../reports");

export class ReportMissingError extends Error {
  override name = "ReportMissingError";
}

/** Loads reports/<name>.ts (.js in the build; validated, cached per directory). */
export function reportLoader(dir = REPORTS_DIR): (name: ReportName) => Promise<Report> {
  const cache = new Map<ReportName, Promise<Report>>();
  const load = async (name: ReportName): Promise<Report> => {
    if (!(REPORT_NAMES as readonly string[]).includes(name))
      throw new ReportMissingError(`"${name}" is not a digest (one of: ${REPORT_NAMES.join(", ")})`);
    const file = path.join(dir, `${name}${MODULE_EXT}`);
    if (!existsSync(file))
      throw new ReportMissingError(`the ${name} digest is not installed (${file} is missing)`);
    const mod = (await import(pathToFileURL(file).href)) as { default?: Report };
    const r = mod.default;
    if (!r || r.name !== name || typeof r.build !== "function")
      throw new ReportMissingError(`${file} must default-export a Report named "${name}" with build()`);
    return r;
  };
  return (name) => {
    let p = cache.get(name);
    if (!p) {
      p = load(name);
      // A failed load is not cached: the file may appear (or be fixed) later.
      p.catch(() => cache.delete(name));
      cache.set(name, p);
    }
    return p;
  };
}

/** The bot was removed from the channel, or the channel is archived or gone. */
export const CHANNEL_GONE_ERRORS = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "channel_is_archived",
]);
export type SlackOutcome =
  | { kind: "retry"; error: string; retryAfterMs?: number }
  | { kind: "channel_gone"; error: string }
  | { kind: "failed"; error: string };

/** What a failure during delivery means for the row. */
export function classifyFailure(err: unknown): SlackOutcome {
  if (err instanceof ReportMissingError) return { kind: "failed", error: err.message };
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number };
  const { code, hint } = describeSlackError(err);
  const error = hint ? `${code}: ${hint}` : code;
  switch (e.code) {
    case webApi.ErrorCode.RateLimitedError:
      return { kind: "retry", error: "ratelimited", retryAfterMs: (e.retryAfter ?? 1) * 1000 };
    case webApi.ErrorCode.PlatformError:
      if (CHANNEL_GONE_ERRORS.has(code)) return { kind: "channel_gone", error };
      if (TRANSIENT_SLACK_ERRORS.has(code)) return { kind: "retry", error };
      return { kind: "failed", error };
    case webApi.ErrorCode.RequestError:
      return { kind: "retry", error };
    case webApi.ErrorCode.HTTPError:
      // 4xx other than 429 will not change by asking again.
      return (e.statusCode ?? 500) >= 500 ? { kind: "retry", error } : { kind: "failed", error };
    default:
      // Building the digest failed (database busy, a bug in a report): try again later.
      return { kind: "retry", error: (err as Error)?.message ?? String(err) };
  }
}

/**
 * A Web API client for scheduled digests: no retries inside the client and 429s thrown,
 * because retries are recorded in digest_deliveries and survive a restart.
 */
export function digestSlackClient(token: string, apiUrl?: string): webApi.WebClient {
  return new webApi.WebClient(token, {
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 30_000,
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
  });
}

export interface PostResult {
  /** The message's ts. */
  ts: string;
  /** The channel id Slack posted in (a `#name` resolves to an id). */
  channel: string;
  fileId?: string;
}

/**
 * Posts a digest: the message (blocks + text), then the chart PNG as a reply in its thread.
 * `posted` is called as soon as the message exists, to record its ts before the upload;
 * pass `existingTs` to upload the chart under a message posted by an earlier attempt.
 */
export async function postDigest(
  client: webApi.WebClient,
  channel: string,
  digest: Digest,
  opts: { existingTs?: string; posted?: (ts: string, channel: string) => Promise<void> } = {},
): Promise<PostResult> {
  let ts = opts.existingTs;
  let channelId = channel;
  if (!ts) {
    const fitted = fitForSlack({ text: digest.text, blocks: digest.blocks });
    const r = await client.chat.postMessage({
      channel,
      text: fitted.text,
      blocks: fitted.blocks as KnownBlock[],
      unfurl_links: false,
      unfurl_media: false,
    });
    ts = r.ts!;
    channelId = r.channel ?? channel;
    await opts.posted?.(ts, channelId);
  }
  const out: PostResult = { ts, channel: channelId };
  if (digest.chart && !digest.empty) {
    const c = digest.chart;
    const up = await client.filesUploadV2({
      channel_id: channelId,
      thread_ts: ts,
      file: c.png,
      filename: c.filename,
      title: c.title,
      alt_text: c.alt,
    });
    const fileId = up.files?.[0]?.files?.[0]?.id;
    if (fileId) out.fileId = fileId;
  }
  return out;
}

export interface DeliveryDeps {
  store: Store;
  /** Undefined when Slack is not configured: claimed rows wait, recorded, until it is. */
  client?: webApi.WebClient;
  log: Logger;
  now: () => Date;
  /** Names this process in claimed_by. */
  replicaId: string;
  reports: (name: ReportName) => Promise<Report>;
  /** Per job anomaly settings from houston.yml. */
  jobAnomalies?: Record<string, Partial<AnomalySettings>>;
  /** houston.yml `defaults.anomalies`: under every subscription's own settings. */
  anomalyDefaults?: Partial<AnomalySettings>;
  /** Retry delays. Default 30 s doubling to 15 minutes, with jitter. */
  backoff?: BackoffOptions;
  /** Tries before a delivery is given up on. Default 8 (about an hour and a half). */
  maxAttempts?: number;
  /** A 'sending' row older than this is assumed abandoned (its process died) and retried. Default 10 min. */
  leaseMs?: number;
  random?: () => number;
}

export const DIGEST_BACKOFF: BackoffOptions = { baseMs: 30_000, capMs: 15 * 60_000 };

export interface DeliveryResult {
  subscriptionId: number;
  slotAt: Date;
  channel: string;
  report: ReportName;
  state: DeliveryState;
  attempts: number;
  error?: string;
  ts?: string;
  fileId?: string;
  durationMs: number;
  /** When a retry is due (state stays 'claimed'). */
  nextAttemptAt?: Date;
}

interface Taken {
  subscription_id: number;
  slot_at: string | Date;
  report: ReportName;
  channel: string;
  reported_date: string;
  attempts: number;
  slack_ts: string | null;
}

/**
 * Takes up to `limit` due rows (claimed, or 'sending' with an expired lease) and delivers
 * them one after another. Safe to run in every replica at once.
 */
export async function deliverDue(deps: DeliveryDeps, limit = 20): Promise<DeliveryResult[]> {
  if (!deps.client) return [];
  const out: DeliveryResult[] = [];
  for (let i = 0; i < limit; i++) {
    const row = await take(deps);
    if (!row) break;
    out.push(await deliverTaken(deps, row));
  }
  return out;
}

/** One due row, taken in one committed statement: state 'sending', started_at, a lease. */
async function take(
  deps: DeliveryDeps,
  only?: { subscriptionId: number; slotAt: Date },
): Promise<Taken | undefined> {
  const now = deps.now();
  const lease = new Date(now.getTime() + (deps.leaseMs ?? 10 * 60_000));
  const which = only
    ? sql`c.subscription_id = ${only.subscriptionId} AND c.slot_at = ${ts(only.slotAt)}`
    : sql`TRUE`;
  const [row] = await deps.store.query<Taken>(
    sql`UPDATE digest_deliveries d
        SET state = 'sending', attempts = d.attempts + 1, started_at = ${ts(now)}, next_attempt_at = ${ts(lease)},
          claimed_by = ${deps.replicaId}
        FROM (
          SELECT c.subscription_id, c.slot_at FROM digest_deliveries c
          WHERE c.state IN ('claimed','sending') AND c.next_attempt_at <= ${ts(now)} AND ${which}
          ORDER BY c.next_attempt_at
          LIMIT 1
          FOR UPDATE OF c SKIP LOCKED
        ) picked
        WHERE d.subscription_id = picked.subscription_id AND d.slot_at = picked.slot_at
        RETURNING d.subscription_id, d.slot_at, d.report, d.channel, d.reported_date::text AS reported_date,
          d.attempts, d.slack_ts`,
  );
  return row
    ? { ...row, subscription_id: Number(row.subscription_id), attempts: Number(row.attempts) }
    : undefined;
}

/** Delivers one particular row now if it is due (the CLI's --channel, tests). */
export async function deliverOne(
  deps: DeliveryDeps,
  subscriptionId: number,
  slotAt: Date,
): Promise<DeliveryResult | undefined> {
  const row = await take(deps, { subscriptionId, slotAt });
  return row ? deliverTaken(deps, row) : undefined;
}

/** The request a subscription's slot builds its digest from. */
export function digestRequest(
  deps: Pick<DeliveryDeps, "store" | "jobAnomalies" | "anomalyDefaults">,
  sub: Pick<Subscription, "cadence" | "timezone" | "environment" | "group" | "settings">,
  reportedDate: string,
): DigestRequest {
  const anomalies = { ...deps.anomalyDefaults, ...sub.settings };
  return {
    store: deps.store,
    date: reportedDate,
    days: (sub.cadence === "weekly" ? 7 : 1) as 1 | 7,
    timezone: sub.timezone,
    ...(sub.environment ? { environment: sub.environment } : {}),
    ...(sub.group ? { group: sub.group } : {}),
    ...(Object.keys(anomalies).length ? { anomalies } : {}),
    ...(deps.jobAnomalies ? { jobAnomalies: deps.jobAnomalies } : {}),
    chart: true,
  };
}

async function deliverTaken(deps: DeliveryDeps, row: Taken): Promise<DeliveryResult> {
  const started = performance.now();
  const slotAt = new Date(row.slot_at);
  const reportedDate = String(row.reported_date).slice(0, 10);
  const log = deps.log.child({
    component: "digests",
    subscriptionId: row.subscription_id,
    slot: slotAt.toISOString(),
    report: row.report,
    channel: row.channel,
    reportedDate,
    attempt: row.attempts,
  });
  const result: DeliveryResult = {
    subscriptionId: row.subscription_id,
    slotAt,
    channel: row.channel,
    report: row.report,
    state: "sending",
    attempts: row.attempts,
    durationMs: 0,
  };
  // Every later write is fenced on this attempt: if our lease ran out and another replica took
  // the row over, its outcome stands.
  const fence = sql`subscription_id = ${row.subscription_id} AND slot_at = ${ts(slotAt)}
    AND state = 'sending' AND attempts = ${row.attempts}`;
  try {
    const sub = await getSubscription(deps.store, row.subscription_id);
    if (!sub) throw new Error(`subscription ${row.subscription_id} is gone from the database`);
    // Waiting for a retry while the channel was unsubscribed or lost: nothing to send any more.
    const moot = sub.channelGoneAt
      ? { state: "channel_gone" as const, why: sub.channelGoneError ?? "channel gone" }
      : sub.endedAt && sub.source !== "cli" && !row.slack_ts
        ? { state: "skipped" as const, why: "unsubscribed before it could be delivered" }
        : undefined;
    if (moot) {
      result.durationMs = Math.round(performance.now() - started);
      await deps.store.query(
        sql`UPDATE digest_deliveries SET state = ${moot.state}, error = ${moot.why}, finished_at = ${ts(deps.now())},
              duration_ms = ${result.durationMs}, next_attempt_at = NULL WHERE ${fence}`,
      );
      log.info({ state: moot.state, reason: moot.why }, "digest: not sent");
      return Object.assign(result, { state: moot.state, error: moot.why });
    }
    const report = await deps.reports(row.report);
    const digest = await report.build(digestRequest(deps, sub, reportedDate));
    const posted = await postDigest(deps.client!, row.channel, digest, {
      ...(row.slack_ts ? { existingTs: row.slack_ts } : {}),
      posted: async (messageTs) => {
        await deps.store.query(sql`UPDATE digest_deliveries SET slack_ts = ${messageTs} WHERE ${fence}`);
      },
    });
    result.durationMs = Math.round(performance.now() - started);
    const done = await deps.store.query(
      sql`UPDATE digest_deliveries SET state = 'delivered', finished_at = ${ts(deps.now())},
            duration_ms = ${result.durationMs}, slack_ts = ${posted.ts}, file_id = ${posted.fileId ?? null},
            error = NULL, next_attempt_at = NULL
          WHERE ${fence} RETURNING slot_at`,
    );
    if (done.length === 0)
      log.warn("digest: delivered, but another replica had taken the delivery over meanwhile");
    Object.assign(result, {
      state: "delivered",
      ts: posted.ts,
      ...(posted.fileId ? { fileId: posted.fileId } : {}),
    });
    log.info(
      { ts: posted.ts, fileId: posted.fileId, empty: digest.empty, durationMs: result.durationMs },
      "digest delivered",
    );
    return result;
  } catch (err) {
    result.durationMs = Math.round(performance.now() - started);
    return recordFailure(deps, row, fence, classifyFailure(err), result, log, err);
  }
}

async function recordFailure(
  deps: DeliveryDeps,
  row: Taken,
  fence: ReturnType<typeof sql>,
  outcome: SlackOutcome,
  result: DeliveryResult,
  log: Logger,
  err: unknown,
): Promise<DeliveryResult> {
  const now = deps.now();
  const error = outcome.error.slice(0, 2_000);
  result.error = error;
  if (outcome.kind === "channel_gone") {
    await deps.store.query(
      sql`UPDATE digest_deliveries SET state = 'channel_gone', error = ${error}, finished_at = ${ts(now)},
            duration_ms = ${result.durationMs}, next_attempt_at = NULL WHERE ${fence}`,
    );
    const ids = await markChannelGone(deps.store, row.channel, error, now);
    log.error(
      { error, subscriptionsStopped: ids },
      `digest: Houston can no longer post in ${row.channel} (${error}); its digests are stopped until someone ` +
        "invites @Houston and runs /houston subscribe there again",
    );
    result.state = "channel_gone";
    return result;
  }
  const maxAttempts = deps.maxAttempts ?? 8;
  if (outcome.kind === "failed" || row.attempts >= maxAttempts) {
    const reason = outcome.kind === "failed" ? error : `gave up after ${row.attempts} attempts: ${error}`;
    await deps.store.query(
      sql`UPDATE digest_deliveries SET state = 'failed', error = ${reason}, finished_at = ${ts(now)},
            duration_ms = ${result.durationMs}, next_attempt_at = NULL WHERE ${fence}`,
    );
    log.error({ err, error: reason }, "digest: delivery failed and will not be retried");
    Object.assign(result, { state: "failed", error: reason });
    return result;
  }
  const delay = Math.max(
    backoffMs(row.attempts, deps.backoff ?? DIGEST_BACKOFF, deps.random),
    outcome.retryAfterMs ?? 0,
  );
  const due = new Date(now.getTime() + delay);
  await deps.store.query(
    sql`UPDATE digest_deliveries SET state = 'claimed', error = ${error}, next_attempt_at = ${ts(due)},
          duration_ms = ${result.durationMs} WHERE ${fence}`,
  );
  log.warn({ error, retryInMs: delay }, "digest: delivery failed; will retry");
  Object.assign(result, { state: "claimed", nextAttemptAt: due });
  return result;
}
