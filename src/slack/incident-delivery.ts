// The outbox handler for target "slack": incident posts, updates and reminders written by
// src/monitors/incidents.ts as { kind: "incident", action, incidentIds }, ordering key
// "incident:<first id of the post>" (so a post and everything after it go out in order).
//
// Every message is rendered from the incidents' state at delivery time, not at enqueue
// time: an update delivered late shows the latest state, and a retry sends the same thing.
//
// Idempotence (the outbox delivers at least once):
// - post/update: once a post has a message (slack_ts on its incidents) it is only ever
//   chat.update'd; a "post" retried after its ts was stored updates instead of posting.
// - The one gap is a crash after chat.postMessage succeeded but before the ts was stored.
//   Posts carry message metadata (event_type houston_incident, the post id), so a retry
//   (attempt > 1) first looks for that message in the channel's recent history and adopts
//   it. That needs the channels:history scope (groups:history for private channels) and a
//   channel id; when Slack refuses the lookup, the retry posts again (at least once).
// - reminder: a threaded reply, skipped for incidents acknowledged, resolved or silenced
//   since it was enqueued (a reminder is never sent twice on purpose, but at least once on
//   a crash after sending, like any outbox message).
//
// Slack errors → outbox outcomes: rate limits are retried after Retry-After (and flagged
// rateLimited); network errors, timeouts and 5xx are retried; errors that a retry cannot
// fix (channel_not_found, not_in_channel, is_archived, invalid_blocks, bad token…) fail the
// message for good with Slack's code and how to fix it.
import { webApi } from "@slack/bolt";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { SlackConfig } from "../config.ts";
import type { Store } from "../db/client.ts";
import { json } from "../db/sql.ts";
import { getIncident, type IncidentRecord } from "../monitors/incidents.ts";
import type { Handler, HandlerContext, HandlerResult } from "../outbox/worker.ts";
import { describeSlackError, TRANSIENT_SLACK_ERRORS } from "./errors.ts";
import {
  INCIDENT_EVENT_TYPE,
  type IncidentView,
  type RunLine,
  renderIncidentMessage,
  renderReminder,
} from "./incident-message.ts";
import { boltLogger } from "./logger.ts";

export interface IncidentPayload {
  kind: "incident";
  action: "post" | "update" | "reminder";
  incidentIds: number[];
}

/** The subset of the Web API the handler uses (a WebClient in production). */
export type IncidentClient = Pick<webApi.WebClient, "chat" | "conversations">;

export interface IncidentDeliveryOptions {
  client: IncidentClient;
  store: Store;
  /** HOUSTON_TIMEZONE: times in messages. */
  timezone: string;
  now?: () => Date;
}

/** Runs shown in a message. */
const RUNS_SHOWN = 5;
/** Messages searched for a post that was sent but not recorded (see above). */
const HISTORY_LIMIT = 100;

/**
 * A Web API client for outbox deliveries: it never waits or retries by itself (the outbox
 * owns retries, backoff and rate-limit pauses), and honours SLACK_API_URL.
 */
export function incidentWebClient(config: SlackConfig, log: Logger): webApi.WebClient {
  return new webApi.WebClient(config.botToken, {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    rejectRateLimitedCalls: true,
    // One quick retry only: a pooled connection Slack (or a proxy) closed while idle fails
    // at once and succeeds on a fresh one. Anything longer is the outbox's backoff.
    retryConfig: { retries: 1, minTimeout: 100, maxTimeout: 100, randomize: false },
    timeout: 10_000,
    logger: boltLogger(log.child({ component: "slack-outbox" })),
  });
}

export function parseIncidentPayload(payload: unknown): IncidentPayload | string {
  const p = payload as Partial<IncidentPayload> | null;
  if (!p || typeof p !== "object") return "the payload is not an object";
  if (p.kind !== "incident")
    return `unknown Slack message kind ${JSON.stringify(p.kind)} (expected "incident")`;
  if (p.action !== "post" && p.action !== "update" && p.action !== "reminder")
    return `unknown incident action ${JSON.stringify(p.action)} (expected post, update or reminder)`;
  if (!Array.isArray(p.incidentIds) || p.incidentIds.length === 0 || !p.incidentIds.every(Number.isInteger))
    return "incidentIds must be a non-empty list of incident ids";
  return p as IncidentPayload;
}

export function classifySlackError(err: unknown, doing: string): HandlerResult {
  const e = err as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string } };
  const { code, hint } = describeSlackError(err);
  const what = `${doing}: ${code}${hint ? ` (${hint})` : ""}`;
  switch (e.code) {
    case webApi.ErrorCode.RateLimitedError:
      return {
        ok: false,
        retry: true,
        rateLimited: true,
        error: `Slack rate-limited ${doing}; retry after ${e.retryAfter ?? "?"} s`,
        ...(typeof e.retryAfter === "number" ? { retryAfterMs: e.retryAfter * 1000 } : {}),
      };
    case webApi.ErrorCode.RequestError:
      return { ok: false, retry: true, error: what };
    case webApi.ErrorCode.HTTPError:
      // 5xx is Slack's trouble; other statuses are a proxy's or a wrong SLACK_API_URL, which
      // fixing the setting cures: retried until the outbox gives up.
      return { ok: false, retry: true, error: `${what}; Slack answered HTTP ${e.statusCode ?? "?"}` };
    case webApi.ErrorCode.PlatformError: {
      const slackCode = e.data?.error ?? "unknown_error";
      if (slackCode === "ratelimited") return { ok: false, retry: true, rateLimited: true, error: what };
      return { ok: false, retry: TRANSIENT_SLACK_ERRORS.has(slackCode), error: what };
    }
    default:
      // Not a Web API error (a timeout abort, a bug): retried, never lost.
      return { ok: false, retry: true, error: `${doing}: ${(err as Error)?.message ?? String(err)}` };
  }
}

/** Incidents of a post: every incident whose details.notify.post is `post`. */
async function incidentsOfPost(store: Store, post: number): Promise<IncidentRecord[]> {
  const rows = await store.query<{ id: number }>(
    sql`SELECT i.id::float8 AS id FROM incidents i
        WHERE i.id >= ${post} AND i.details->'notify'->>'post' = ${String(post)}
        ORDER BY i.id`,
  );
  const out: IncidentRecord[] = [];
  for (const r of rows) {
    const inc = await getIncident(store, { id: Number(r.id) });
    if (inc) out.push(inc);
  }
  return out;
}

async function latestRuns(store: Store, jobId: number): Promise<RunLine[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT r.status, r.error, r.duration_ms::float8 AS duration_ms,
          (extract(epoch from coalesce(r.started_at, r.run_at)) * 1000)::float8 AS started_at,
          (extract(epoch from r.ended_at) * 1000)::float8 AS ended_at
        FROM runs r WHERE r.job_id = ${jobId}
        ORDER BY r.run_at DESC, r.id DESC LIMIT ${RUNS_SHOWN}`,
  );
  const d = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)));
  return rows.map((r) => ({
    status: String(r["status"]),
    error: (r["error"] as string | null) ?? null,
    durationMs: r["duration_ms"] === null ? null : Number(r["duration_ms"]),
    startedAt: d(r["started_at"]),
    endedAt: d(r["ended_at"]),
  }));
}

async function views(store: Store, incidents: IncidentRecord[], withRuns: boolean): Promise<IncidentView[]> {
  const out: IncidentView[] = [];
  for (const incident of incidents) {
    const runs = withRuns && incident.jobId !== null ? await latestRuns(store, incident.jobId) : [];
    out.push({ incident, runs });
  }
  return out;
}

async function recordMessage(store: Store, ids: number[], channel: string, ts: string): Promise<void> {
  await store.query(
    sql`UPDATE incidents SET slack_channel = ${channel}, slack_ts = ${ts}
        WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text(${json(ids)}))`,
  );
}

interface Posted {
  ts?: string;
  channel?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

export function createSlackIncidentHandler(opts: IncidentDeliveryOptions): Handler {
  const { client, store, timezone } = opts;
  const now = opts.now ?? (() => new Date());

  /** A post sent by an earlier attempt whose ts was never stored (a crash in between). */
  async function findSent(channel: string, post: number, log: Logger): Promise<Posted | undefined> {
    try {
      const r = await client.conversations.history({
        channel,
        limit: HISTORY_LIMIT,
        include_all_metadata: true,
      });
      return ((r.messages ?? []) as Posted[]).find(
        (m) =>
          m.metadata?.event_type === INCIDENT_EVENT_TYPE &&
          Number(m.metadata.event_payload?.["post"]) === post,
      );
    } catch (err) {
      const { code, hint } = describeSlackError(err);
      log.warn(
        { code, ...(hint ? { hint } : {}), post },
        "could not check whether an earlier attempt already posted this incident (add the channels:history scope); posting it",
      );
      return undefined;
    }
  }

  /** Makes the post's message show its incidents' current state: post it once, else update it. */
  async function show(post: number, ctx: HandlerContext): Promise<HandlerResult> {
    const incidents = await incidentsOfPost(store, post);
    if (incidents.length === 0)
      return { ok: false, retry: false, error: `no incidents belong to Slack post ${post} (deleted?)` };
    const withTs = incidents.find((i) => i.slackTs !== null);
    const message = renderIncidentMessage(await views(store, incidents, incidents.length === 1), {
      timezone,
      now: now(),
    });
    const ids = incidents.map((i) => i.id);
    let channel = withTs?.slackChannel ?? incidents[0]!.slackChannel;
    let ts = withTs?.slackTs ?? undefined;
    if (!channel)
      return { ok: false, retry: false, error: `incident ${post} has no Slack channel to post to` };
    if (!ts && ctx.attempt > 1) {
      const sent = await findSent(channel, post, ctx.log);
      if (sent?.ts) {
        ts = sent.ts;
        await recordMessage(store, ids, channel, ts);
        ctx.log.info(
          { post, ts },
          "found the post an earlier attempt sent; updating it instead of posting again",
        );
      }
    }
    if (ts) {
      try {
        await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
      } catch (err) {
        return classifySlackError(err, `updating the incident message in ${channel}`);
      }
      // Incidents that joined later (none today) or lost their ts get it back.
      if (incidents.some((i) => i.slackTs !== ts)) await recordMessage(store, ids, channel, ts);
      return { ok: true, result: { channel, ts, updated: true } };
    }
    let r: { channel?: string; ts?: string };
    try {
      r = await client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        metadata: { event_type: INCIDENT_EVENT_TYPE, event_payload: { post, key: incidents[0]!.key } },
      });
    } catch (err) {
      return classifySlackError(err, `posting the incident to ${channel}`);
    }
    if (!r.ts) return { ok: false, retry: true, error: "Slack accepted the post but returned no ts" };
    // chat.update needs the channel id; postMessage also accepts a name (#data-alerts).
    channel = r.channel ?? channel;
    ts = r.ts;
    await recordMessage(store, ids, channel, ts);
    return { ok: true, result: { channel, ts, posted: true } };
  }

  async function remind(ids: number[], post: number, ctx: HandlerContext): Promise<HandlerResult> {
    const incidents: IncidentRecord[] = [];
    for (const id of ids) {
      const inc = await getIncident(store, { id });
      if (inc) incidents.push(inc);
    }
    const due = incidents.filter((i) => i.state === "triggered" && !i.silenced);
    if (due.length === 0)
      return { ok: true, result: { skipped: "acknowledged, resolved or silenced since" } };
    const withTs = due.find((i) => i.slackTs !== null);
    if (!withTs?.slackTs || !withTs.slackChannel) {
      // The post never made it (it failed for good): a reminder has nothing to thread under.
      return { ok: false, retry: false, error: `incident post ${post} has no Slack message to remind in` };
    }
    // The parent message is refreshed too (a silence that ended, a new state), then the nudge.
    const refreshed = await show(post, ctx);
    if (!refreshed.ok) return refreshed;
    const message = renderReminder(await views(store, due, false), { timezone, now: now() });
    try {
      const r = await client.chat.postMessage({
        channel: withTs.slackChannel,
        thread_ts: withTs.slackTs,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
      });
      return {
        ok: true,
        result: { channel: withTs.slackChannel, thread_ts: withTs.slackTs, ts: r.ts ?? null },
      };
    } catch (err) {
      return classifySlackError(err, `posting a reminder in ${withTs.slackChannel}`);
    }
  }

  return async (payload, ctx) => {
    const p = parseIncidentPayload(payload);
    if (typeof p === "string") return { ok: false, retry: false, error: `not an incident message: ${p}` };
    const fromKey = /^incident:(\d+)$/.exec(ctx.orderingKey)?.[1];
    const post = fromKey !== undefined ? Number(fromKey) : p.incidentIds[0]!;
    return p.action === "reminder" ? remind(p.incidentIds, post, ctx) : show(post, ctx);
  };
}
